/**
 * The AWS SDK's own deserializers read our XML: an S3Client whose request handler answers with a
 * canned HTTP response (no network) parses the bodies exactly as it would parse AWS's.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3Error } from '../../src/s3/errors.ts';
import {
  deleteResultXml,
  errorXml,
  listAllMyBucketsXml,
  listObjectsV2Xml,
} from '../../src/s3/xml/responses.ts';

interface CannedResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** An S3Client that never leaves the process: every request gets `canned`. */
function clientAnswering(canned: CannedResponse): S3Client {
  const requestHandler = {
    handle: async () => ({
      response: {
        statusCode: canned.status,
        reason: '',
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'REQ123', ...canned.headers },
        body: Readable.from([Buffer.from(canned.body, 'utf8')]),
      },
    }),
  };
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://localhost:9000',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'SECRET' },
    requestHandler: requestHandler as unknown as NonNullable<S3ClientConfig['requestHandler']>,
  });
}

const strangeKeys = [' leading and trailing ', 'a&b<c>"d\'e', 'tab\there', 'cr\rlf\nkey', 'unicode/é漢字🙂', 'plus+sign%20'];

describe('the AWS SDK reads our XML', () => {
  it('ListObjectsV2 with odd keys, common prefixes and owners', async () => {
    // given a listing whose keys hold XML specials, whitespace, control characters and unicode
    const xml = listObjectsV2Xml({
      bucket: 'bkt',
      prefix: '',
      delimiter: '/',
      maxKeys: 1000,
      isTruncated: true,
      continuationToken: 'tok-1',
      nextContinuationToken: 'tok-2',
      fetchOwner: true,
      contents: strangeKeys.map((key, i) => ({
        key,
        lastModifiedMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
        etag: `etag${i}`,
        size: i * 1000,
        storageClass: 'STANDARD',
        owner: { id: 'owner-id', displayName: 'owner' },
        checksumAlgorithms: ['CRC32'],
      })),
      commonPrefixes: ['dir/', 'other dir/'],
    });
    // when the SDK parses it
    const out = await clientAnswering({ status: 200, body: xml }).send(new ListObjectsV2Command({ Bucket: 'bkt' }));
    // then every field comes back as written
    expect(out.Name).toBe('bkt');
    expect(out.Prefix).toBe('');
    expect(out.Delimiter).toBe('/');
    expect(out.MaxKeys).toBe(1000);
    expect(out.KeyCount).toBe(strangeKeys.length + 2);
    expect(out.IsTruncated).toBe(true);
    expect(out.ContinuationToken).toBe('tok-1');
    expect(out.NextContinuationToken).toBe('tok-2');
    expect(out.Contents?.map((c) => c.Key)).toEqual(strangeKeys);
    const first = out.Contents?.[0];
    expect(first?.ETag).toBe('"etag0"');
    expect(first?.Size).toBe(0);
    expect(first?.StorageClass).toBe('STANDARD');
    expect(first?.LastModified?.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(first?.Owner).toEqual({ ID: 'owner-id', DisplayName: 'owner' });
    expect(first?.ChecksumAlgorithm).toEqual(['CRC32']);
    expect(out.CommonPrefixes).toEqual([{ Prefix: 'dir/' }, { Prefix: 'other dir/' }]);
  });

  it('ListObjectsV2 with one entry still gives lists', async () => {
    // given a listing of exactly one object and one prefix
    const xml = listObjectsV2Xml({
      bucket: 'bkt', prefix: 'p/', maxKeys: 2, isTruncated: false, fetchOwner: false,
      contents: [{ key: 'p/a', lastModifiedMs: 0, etag: '"e"', size: 5, storageClass: 'STANDARD' }],
      commonPrefixes: ['p/d/'],
    });
    // when the SDK parses it
    const out = await clientAnswering({ status: 200, body: xml }).send(new ListObjectsV2Command({ Bucket: 'bkt' }));
    // then Contents and CommonPrefixes are one-element arrays and the owner is absent
    expect(out.Contents?.map((c) => c.Key)).toEqual(['p/a']);
    expect(out.Contents?.[0]?.Owner).toBeUndefined();
    expect(out.Contents?.[0]?.ETag).toBe('"e"');
    expect(out.CommonPrefixes).toEqual([{ Prefix: 'p/d/' }]);
  });

  it('ListObjectsV2 with encoding-type=url decodes back with decodeURIComponent', async () => {
    // given keys url-encoded for encoding-type=url
    const keys = ['a b', 'a+b', '100%.csv', 'dir/한글.txt', 'ctrl\u0001'];
    const xml = listObjectsV2Xml({
      bucket: 'bkt', prefix: 'a b/', delimiter: '/', maxKeys: 10, isTruncated: false, fetchOwner: false,
      encodingType: 'url',
      contents: keys.map((key) => ({ key, lastModifiedMs: 0, etag: 'e', size: 1, storageClass: 'STANDARD' })),
      commonPrefixes: ['x y/'],
    });
    // when the SDK parses it and the caller decodes as AWS tells them to
    const out = await clientAnswering({ status: 200, body: xml }).send(
      new ListObjectsV2Command({ Bucket: 'bkt', EncodingType: 'url' }),
    );
    // then the original strings come back
    expect(out.EncodingType).toBe('url');
    expect(out.Contents?.map((c) => decodeURIComponent(c.Key ?? ''))).toEqual(keys);
    expect(decodeURIComponent(out.Prefix ?? '')).toBe('a b/');
    expect(out.CommonPrefixes?.map((p) => decodeURIComponent(p.Prefix ?? ''))).toEqual(['x y/']);
  });

  it('ListBuckets', async () => {
    // given two buckets
    const xml = listAllMyBucketsXml({
      owner: { id: 'oid', displayName: 'me' },
      buckets: [
        { name: 'alpha', creationDateMs: Date.UTC(2020, 5, 1, 12, 0, 0), region: 'us-east-1' },
        { name: 'beta.two', creationDateMs: Date.UTC(2021, 0, 1) },
      ],
    });
    // when the SDK parses them
    const out = await clientAnswering({ status: 200, body: xml }).send(new ListBucketsCommand({}));
    // then names, dates, region and owner come back
    expect(out.Owner).toEqual({ ID: 'oid', DisplayName: 'me' });
    expect(out.Buckets?.map((b) => b.Name)).toEqual(['alpha', 'beta.two']);
    expect(out.Buckets?.[0]?.CreationDate?.toISOString()).toBe('2020-06-01T12:00:00.000Z');
    expect(out.Buckets?.[0]?.BucketRegion).toBe('us-east-1');
  });

  it('DeleteObjects with deletions and errors', async () => {
    // given a result with a plain delete, a delete-marker creation and a per-key error
    const xml = deleteResultXml({
      deleted: [
        { key: 'a' },
        { key: ' spaced & <odd> ', versionId: 'v1', deleteMarker: true, deleteMarkerVersionId: 'dm1' },
      ],
      errors: [{ key: 'c', versionId: 'v9', code: 'AccessDenied', message: 'Access Denied' }],
    });
    // when the SDK parses it
    const out = await clientAnswering({ status: 200, body: xml }).send(
      new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'a' }] } }),
    );
    // then both lists come back with every field
    expect(out.Deleted).toEqual([
      { Key: 'a' },
      { Key: ' spaced & <odd> ', VersionId: 'v1', DeleteMarker: true, DeleteMarkerVersionId: 'dm1' },
    ]);
    expect(out.Errors).toEqual([{ Key: 'c', VersionId: 'v9', Code: 'AccessDenied', Message: 'Access Denied' }]);
  });

  it('Error bodies become typed exceptions', async () => {
    // given a NoSuchKey error body as the gateway would send it
    const error = s3Error('NoSuchKey', undefined, { Key: 'missing & gone' });
    const xml = errorXml(error, { requestId: 'REQ123', hostId: 'host-1', resource: '/bkt/missing' });
    // when the SDK reads the 404
    const client = clientAnswering({ status: 404, body: xml });
    const thrown = await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'missing & gone' })).catch((e: unknown) => e);
    // then it throws the modeled NoSuchKey with our message and the request id
    expect(thrown).toBeInstanceOf(S3ServiceException);
    const exception = thrown as S3ServiceException & { Key?: string };
    expect(exception.name).toBe('NoSuchKey');
    expect(exception.message).toBe('The specified key does not exist.');
    expect(exception.$metadata.httpStatusCode).toBe(404);
    expect(exception.$metadata.requestId).toBe('REQ123');
    expect(exception.Key).toBe('missing & gone');
  });

  it('Error bodies of unmodeled codes keep their code and message', async () => {
    // given an error the S3 model does not list by name
    const xml = errorXml(s3Error('InvalidRange', undefined, { RangeRequested: 'bytes=9-', ActualObjectSize: '3' }), {
      requestId: 'REQ123',
    });
    // when the SDK reads the 416
    const thrown = await clientAnswering({ status: 416, body: xml })
      .send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k', Range: 'bytes=9-' }))
      .catch((e: unknown) => e);
    // then the exception carries the code and message
    const exception = thrown as S3ServiceException;
    expect(exception.name).toBe('InvalidRange');
    expect(exception.message).toBe('The requested range is not satisfiable');
    expect(exception.$metadata.httpStatusCode).toBe(416);
  });
});
