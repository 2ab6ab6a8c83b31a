import { describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.ts';
import {
  headerValue,
  parseRequestTarget,
  resolveOperation,
  type RequestHeaders,
  type RequestTarget,
  type ResolvedOperation,
} from '../../src/s3/route.ts';

const baseDomains = ['localhost', 's3.localhost'];

function target(rawUrl: string, host = 'localhost:9000', method = 'GET'): RequestTarget {
  const result = parseRequestTarget({ method, rawUrl, host, baseDomains });
  if (!result.ok) throw new Error(`expected ok for ${rawUrl}, got ${result.error.code}`);
  return result;
}

function targetError(rawUrl: string, host = 'localhost:9000'): S3Error {
  const result = parseRequestTarget({ method: 'GET', rawUrl, host, baseDomains });
  if (result.ok) throw new Error(`expected an error for ${rawUrl}`);
  return result.error;
}

describe('parseRequestTarget: path style', () => {
  it.each([
    ['/', undefined, undefined],
    ['/bkt', 'bkt', undefined],
    ['/bkt/', 'bkt', undefined],
    ['/bkt/key', 'bkt', 'key'],
    ['/bkt/dir/sub/file.txt', 'bkt', 'dir/sub/file.txt'],
    ['/bkt//a', 'bkt', '/a'],
    ['/bkt/a//b', 'bkt', 'a//b'],
    ['/bkt/a/', 'bkt', 'a/'],
    ['/bkt/a%20b', 'bkt', 'a b'],
    ['/bkt/a+b', 'bkt', 'a+b'],
    ['/bkt/a%2Bb', 'bkt', 'a+b'],
    ['/bkt/100%25', 'bkt', '100%'],
    ['/bkt/%2525', 'bkt', '%25'],
    ['/bkt/q%3Fmark%23hash', 'bkt', 'q?mark#hash'],
    ['/bkt/%E6%BC%A2%F0%9F%99%82', 'bkt', '漢🙂'],
    ['/bkt/%20lead%20', 'bkt', ' lead '],
    ['/bkt/a%2Fb', 'bkt', 'a/b'],
    ['/bkt/../x', 'bkt', '../x'],
  ])('given %s when parsed then bucket=%s key=%s', (rawUrl, bucket, key) => {
    const t = target(rawUrl);
    expect(t.style).toBe('path');
    expect(t.bucket).toBe(bucket);
    expect(t.key).toBe(key);
  });

  it('given a query when parsed then rawPath and rawQuery are split at the first ?', () => {
    const t = target('/bkt/k%3Fx?versionId=a%3Fb&x=1?2');
    expect(t.rawPath).toBe('/bkt/k%3Fx');
    expect(t.rawQuery).toBe('versionId=a%3Fb&x=1?2');
    expect(t.key).toBe('k?x');
    expect(t.query.get('versionId')).toBe('a?b');
    expect(t.query.get('x')).toBe('1?2');
  });

  it('given a host that is an IP or unknown when parsed then it is path style', () => {
    expect(target('/bkt/k', '127.0.0.1:9000').bucket).toBe('bkt');
    expect(target('/bkt/k', '[::1]:9000').bucket).toBe('bkt');
    expect(target('/bkt/k', 'example.com').bucket).toBe('bkt');
    expect(target('/bkt/k', 's3.localhost').bucket).toBe('bkt');
  });

  it('given no Host header when parsed then it is path style', () => {
    const result = parseRequestTarget({ method: 'GET', rawUrl: '/bkt/k', host: undefined, baseDomains });
    expect(result.ok && result.bucket).toBe('bkt');
  });
});

describe('parseRequestTarget: virtual-host style', () => {
  it.each([
    ['bkt.localhost:9000', '/', 'bkt', undefined],
    ['bkt.localhost', '/key', 'bkt', 'key'],
    ['BKT.LocalHost:9000', '/key', 'bkt', 'key'],
    ['my.dotted.bucket.localhost', '/a/b', 'my.dotted.bucket', 'a/b'],
    ['bkt.s3.localhost:9000', '/k', 'bkt', 'k'],
    ['bkt.localhost.', '/k', 'bkt', 'k'],
    ['bkt.localhost', '//a', 'bkt', '/a'],
    ['bkt.localhost', '/bkt/k', 'bkt', 'bkt/k'],
  ])('given host %s and path %s then bucket=%s key=%s', (host, rawUrl, bucket, key) => {
    const t = target(rawUrl, host);
    expect(t.style).toBe('virtual-host');
    expect(t.bucket).toBe(bucket);
    expect(t.key).toBe(key);
  });

  it('given absolute-form when parsed then the URL authority decides, not the Host header', () => {
    const t = target('http://bkt.localhost:9000/a%20b?uploads', 'other');
    expect(t.bucket).toBe('bkt');
    expect(t.key).toBe('a b');
    expect(t.query.has('uploads')).toBe(true);
  });
});

describe('parseRequestTarget: query', () => {
  it('given valueless and valued parameters when parsed then order and presence are kept', () => {
    const t = target('/bkt?uploads&prefix=a%20b&delimiter=%2F&list-type=2&empty=&versions');
    expect([...t.query.keys()]).toEqual(['uploads', 'prefix', 'delimiter', 'list-type', 'empty', 'versions']);
    expect(t.query.has('uploads')).toBe(true);
    expect(t.query.get('uploads')).toBe('');
    expect(t.query.get('prefix')).toBe('a b');
    expect(t.query.get('delimiter')).toBe('/');
    expect(t.query.get('list-type')).toBe('2');
  });

  it('given a + in a query value when parsed then it stays a plus', () => {
    expect(target('/bkt?prefix=a+b').query.get('prefix')).toBe('a+b');
  });

  it('given a value holding = when parsed then only the first = splits', () => {
    expect(target('/bkt?continuation-token=abc==').query.get('continuation-token')).toBe('abc==');
  });
});

describe('parseRequestTarget: errors', () => {
  it.each(['/bkt/%', '/bkt/%zz', '/bkt/%C3', '/bkt/%FF', '/b%ZZ/k', '/bkt?prefix=%', 'bkt/k', '//key'])(
    'given %s when parsed then InvalidURI',
    (rawUrl) => {
      const error = targetError(rawUrl);
      expect(error.code).toBe('InvalidURI');
      expect(error.status).toBe(400);
    },
  );

  it('given a key of exactly 1024 UTF-8 bytes when parsed then it is accepted', () => {
    const key = 'é'.repeat(512); // 2 bytes each
    expect(target(`/bkt/${encodeURIComponent(key)}`).key).toBe(key);
  });

  it('given a key of 1025 UTF-8 bytes when parsed then KeyTooLongError', () => {
    const key = `${'é'.repeat(512)}x`;
    const error = targetError(`/bkt/${encodeURIComponent(key)}`);
    expect(error.code).toBe('KeyTooLongError');
    expect(error.extra).toEqual({ Size: '1025', MaxSizeAllowed: '1024' });
  });
});

function resolve(method: string, rawUrl: string, headers: RequestHeaders = {}): ResolvedOperation {
  const t = target(rawUrl, 'localhost', method);
  return resolveOperation(method, t.bucket, t.key, t.query, headers);
}

const copy = { 'x-amz-copy-source': '/src/key' };

describe('resolveOperation', () => {
  it.each<[string, string, RequestHeaders, ResolvedOperation]>([
    ['GET', '/', {}, 'ListBuckets'],
    ['PUT', '/bkt', {}, 'CreateBucket'],
    ['HEAD', '/bkt', {}, 'HeadBucket'],
    ['DELETE', '/bkt', {}, 'DeleteBucket'],
    ['GET', '/bkt?location', {}, 'GetBucketLocation'],
    ['GET', '/bkt?list-type=2&prefix=a', {}, 'ListObjectsV2'],
    ['GET', '/bkt', {}, 'ListObjects'],
    ['GET', '/bkt?prefix=a&marker=b&x-id=ListObjects', {}, 'ListObjects'],
    ['POST', '/bkt?delete', {}, 'DeleteObjects'],
    ['GET', '/bkt?versioning', {}, 'GetBucketVersioning'],
    ['PUT', '/bkt?versioning', {}, 'PutBucketVersioning'],
    ['GET', '/bkt?versions&prefix=a', {}, 'ListObjectVersions'],
    ['GET', '/bkt?uploads', {}, 'ListMultipartUploads'],
    ['PUT', '/bkt/k', {}, 'PutObject'],
    ['PUT', '/bkt/k?x-id=PutObject', {}, 'PutObject'],
    ['PUT', '/bkt/k', copy, 'CopyObject'],
    ['GET', '/bkt/k', {}, 'GetObject'],
    ['GET', '/bkt/k?versionId=v1&response-content-type=text/plain', {}, 'GetObject'],
    ['GET', '/bkt/k?location', {}, 'GetObject'],
    ['HEAD', '/bkt/k', {}, 'HeadObject'],
    ['DELETE', '/bkt/k', {}, 'DeleteObject'],
    ['DELETE', '/bkt/k?versionId=v1', {}, 'DeleteObject'],
    ['POST', '/bkt/k?uploads', {}, 'CreateMultipartUpload'],
    ['PUT', '/bkt/k?partNumber=1&uploadId=u', {}, 'UploadPart'],
    ['PUT', '/bkt/k?partNumber=1&uploadId=u', copy, 'UploadPartCopy'],
    ['POST', '/bkt/k?uploadId=u', {}, 'CompleteMultipartUpload'],
    ['DELETE', '/bkt/k?uploadId=u', {}, 'AbortMultipartUpload'],
    ['GET', '/bkt/k?uploadId=u', {}, 'ListParts'],
    ['GET', '/bkt/k?attributes', {}, 'GetObjectAttributes'],
  ])('given %s %s then %o', (method, rawUrl, headers, expected) => {
    expect(resolve(method, rawUrl, headers)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['GET', '/bkt?acl', 'acl'],
    ['PUT', '/bkt?policy', 'policy'],
    ['DELETE', '/bkt?cors', 'cors'],
    ['GET', '/bkt?lifecycle', 'lifecycle'],
    ['PUT', '/bkt?tagging', 'tagging'],
    ['GET', '/bkt?object-lock', 'object-lock'],
    ['POST', '/bkt', 'PostObject'],
    ['OPTIONS', '/bkt/k', 'cors'],
    ['GET', '/bkt/k?acl', 'acl'],
    ['PUT', '/bkt/k?tagging', 'tagging'],
    ['DELETE', '/bkt/k?tagging', 'tagging'],
    ['POST', '/bkt/k?restore', 'restore'],
    ['POST', '/bkt/k?select&select-type=2', 'select'],
    ['PUT', '/bkt/k?retention', 'retention'],
  ])('given %s %s then unsupported %s', (method, rawUrl, subresource) => {
    expect(resolve(method, rawUrl)).toEqual({ unsupported: subresource });
  });

  it.each<[string, string]>([
    ['PUT', '/'],
    ['DELETE', '/'],
    ['PATCH', '/bkt'],
    ['PUT', '/bkt?location'],
    ['DELETE', '/bkt?versioning'],
    ['POST', '/bkt/k'],
    ['PATCH', '/bkt/k'],
    ['TRACE', '/bkt/k'],
  ])('given %s %s then MethodNotAllowed', (method, rawUrl) => {
    const resolved = resolve(method, rawUrl);
    expect(typeof resolved === 'object' && 'error' in resolved && resolved.error.code).toBe('MethodNotAllowed');
  });

  it('given an empty x-amz-copy-source when a PUT is resolved then it is a plain PutObject', () => {
    expect(resolve('PUT', '/bkt/k', { 'x-amz-copy-source': '' })).toBe('PutObject');
  });
});

describe('headerValue', () => {
  it('given a repeated header when read then the values are joined', () => {
    expect(headerValue({ a: ['x', 'y'] }, 'a')).toBe('x, y');
    expect(headerValue({ a: 'x' }, 'a')).toBe('x');
    expect(headerValue({}, 'a')).toBeUndefined();
  });
});
