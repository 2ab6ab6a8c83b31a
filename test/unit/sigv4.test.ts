import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { canonicalQueryString, canonicalUri, parseQuery } from '../../src/s3/sigv4/canonical.ts';
import { verifyRequest } from '../../src/s3/sigv4/verify.ts';
import type { AuthResult, SignedRequest } from '../../src/s3/sigv4/verify.ts';

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toNode = (d: SourceData): string | Buffer =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** Hash constructor for @smithy/signature-v4 backed by node:crypto. */
class NodeSha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toNode(secret));
  }
  update(data: SourceData): void {
    this.h.update(toNode(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {}
}

const ak = 'AKIAIOSFODNN7EXAMPLE';
const sk = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const secrets: Record<string, string> = { [ak]: sk };
const lookup = (id: string): string | undefined => secrets[id];
const awsExampleTime = Date.UTC(2013, 4, 24);
const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function expectOk(r: AuthResult): Extract<AuthResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''} ${JSON.stringify(r.extra ?? {})}`);
  return r;
}

function expectCode(r: AuthResult, code: string, message?: string): void {
  expect(r.ok ? 'ok' : r.code).toBe(code);
  if (message !== undefined && !r.ok) expect(r.message).toBe(message);
}

describe('AWS documented examples (S3 API reference, SigV4)', () => {
  const host = 'examplebucket.s3.amazonaws.com';
  const auth = (signedHeaders: string, signature: string): string =>
    `AWS4-HMAC-SHA256 Credential=${ak}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;

  it('given the GET Object example with a Range header, it verifies', () => {
    const r = verifyRequest(
      {
        method: 'GET',
        rawUrl: '/test.txt',
        headers: {
          host,
          range: 'bytes=0-9',
          'x-amz-content-sha256': emptyHash,
          'x-amz-date': '20130524T000000Z',
          authorization: auth('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
        },
      },
      lookup,
      awsExampleTime,
    );
    expect(expectOk(r).payload).toEqual({ kind: 'sha256', hex: emptyHash });
    expect(expectOk(r).region).toBe('us-east-1');
  });

  it('given the PUT Object example ("$" in the key, Date header signed), it verifies', () => {
    const hash = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072';
    const r = verifyRequest(
      {
        method: 'PUT',
        rawUrl: '/test$file.text',
        headers: {
          host,
          date: 'Fri, 24 May 2013 00:00:00 GMT',
          'x-amz-date': '20130524T000000Z',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          'x-amz-content-sha256': hash,
          authorization: auth(
            'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
            '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
          ),
        },
      },
      lookup,
      awsExampleTime,
    );
    expect(expectOk(r).payload).toEqual({ kind: 'sha256', hex: hash });
  });

  it.each([
    ['/?lifecycle', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'],
    ['/?max-keys=2&prefix=J', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
  ])('given the bucket example GET %s, it verifies', (rawUrl, signature) => {
    const r = verifyRequest(
      {
        method: 'GET',
        rawUrl,
        headers: {
          host,
          'x-amz-content-sha256': emptyHash,
          'x-amz-date': '20130524T000000Z',
          authorization: auth('host;x-amz-content-sha256;x-amz-date', signature),
        },
      },
      lookup,
      awsExampleTime,
    );
    expectOk(r);
  });

  it('given the presigned GET example, it verifies within 24 h and expires after', () => {
    const req: SignedRequest = {
      method: 'GET',
      rawUrl:
        '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host },
    };
    const r = expectOk(verifyRequest(req, lookup, awsExampleTime + 3600_000));
    expect(r.presigned).toBe(true);
    expect(r.payload).toEqual({ kind: 'unsigned' });
    expectCode(verifyRequest(req, lookup, awsExampleTime + 86_401_000), 'AccessDenied', 'Request has expired');
  });

  it.each([
    [
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      false,
      'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
    ],
    [
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
      true,
      'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
    ],
  ])('given the chunked upload example (%s), the seed signature verifies', (contentSha256, seed, trailer, signedHeaders) => {
    const r = expectOk(
      verifyRequest(
        {
          method: 'PUT',
          rawUrl: '/examplebucket/chunkObject.txt',
          headers: {
            host: 's3.amazonaws.com',
            'x-amz-date': '20130524T000000Z',
            'x-amz-storage-class': 'REDUCED_REDUNDANCY',
            'x-amz-content-sha256': contentSha256,
            'content-encoding': 'aws-chunked',
            'x-amz-decoded-content-length': '66560',
            'content-length': '66824',
            ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32c' } : {}),
            authorization: auth(signedHeaders, seed),
          },
        },
        lookup,
        awsExampleTime,
      ),
    );
    expect(r.payload).toEqual({ kind: 'streaming-signed', trailer });
    expect(r.signing.seedSignature).toBe(seed);
    expect(r.signing.scope).toBe('20130524/us-east-1/s3/aws4_request');
    expect(r.signing.amzDate).toBe('20130524T000000Z');
  });
});

describe('rejections', () => {
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { accessKeyId: ak, secretAccessKey: sk },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signingDate = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  const t0 = signingDate.getTime();

  async function signed(
    path = '/bkt/key%20one',
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<SignedRequest> {
    const req = await signer.sign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: 'localhost',
        port: 9000,
        path,
        query,
        headers: { host: 'localhost:9000', 'x-amz-content-sha256': emptyHash, ...headers },
      },
      { signingDate },
    );
    const qs = new URLSearchParams(req.query as Record<string, string>).toString().replace(/\+/g, '%20');
    const lower: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) lower[k.toLowerCase()] = v;
    return { method: req.method, rawUrl: qs ? `${path}?${qs}` : path, headers: lower };
  }

  async function presigned(expiresIn = 900, date = signingDate): Promise<SignedRequest> {
    const req = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: 'localhost',
        port: 9000,
        path: '/bkt/k',
        query: {},
        // As @aws-sdk/s3-request-presigner does: S3 presigned URLs never sign a body hash.
        headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { signingDate: date, expiresIn },
    );
    const qs = new URLSearchParams(req.query as Record<string, string>).toString();
    return { method: 'GET', rawUrl: `/bkt/k?${qs}`, headers: { host: 'localhost:9000' } };
  }

  it('given a correctly signed request, it verifies (control)', async () => {
    expectOk(verifyRequest(await signed(), lookup, t0));
    expectOk(verifyRequest(await signed('/bkt/k', { uploads: '', 'x-id': 'A B' }), lookup, t0));
  });

  it('given no credentials at all, anonymous access is denied', () => {
    expectCode(verifyRequest({ method: 'GET', rawUrl: '/bkt/k', headers: { host: 'h' } }, lookup, t0), 'AccessDenied');
  });

  it('given a tampered signature, SignatureDoesNotMatch', async () => {
    const req = await signed();
    const authz = req.headers.authorization!;
    const last = authz.at(-1) === '0' ? '1' : '0';
    req.headers.authorization = authz.slice(0, -1) + last;
    expectCode(verifyRequest(req, lookup, t0), 'SignatureDoesNotMatch');
  });

  it('given the wrong secret, SignatureDoesNotMatch with the canonical request for debugging', async () => {
    const r = verifyRequest(await signed(), () => 'not-the-secret', t0);
    expectCode(r, 'SignatureDoesNotMatch');
    if (!r.ok) expect(r.extra?.['CanonicalRequest']).toContain('/bkt/key%20one');
  });

  it('given an unknown access key, InvalidAccessKeyId', async () => {
    expectCode(verifyRequest(await signed(), () => undefined, t0), 'InvalidAccessKeyId');
  });

  it('given a changed path, query or signed header, SignatureDoesNotMatch', async () => {
    const base = await signed('/bkt/k', { a: '1' }, { 'x-amz-meta-color': 'blue' });
    expectCode(verifyRequest({ ...base, rawUrl: '/bkt/K?a=1' }, lookup, t0), 'SignatureDoesNotMatch');
    expectCode(verifyRequest({ ...base, rawUrl: '/bkt/k?a=2' }, lookup, t0), 'SignatureDoesNotMatch');
    expectCode(verifyRequest({ ...base, rawUrl: '/bkt/k?a=1&b=2' }, lookup, t0), 'SignatureDoesNotMatch');
    expectCode(
      verifyRequest({ ...base, headers: { ...base.headers, 'x-amz-meta-color': 'red' } }, lookup, t0),
      'SignatureDoesNotMatch',
    );
  });

  it('given an x-amz-* header that was not signed, AccessDenied naming it', async () => {
    const base = await signed();
    const r = verifyRequest({ ...base, headers: { ...base.headers, 'x-amz-acl': 'public-read' } }, lookup, t0);
    expectCode(r, 'AccessDenied');
    if (!r.ok) expect(r.extra?.['HeadersNotSigned']).toBe('x-amz-acl');
  });

  it('given a clock more than 15 minutes off, RequestTimeTooSkewed; within it, success', async () => {
    const req = await signed();
    expectCode(verifyRequest(req, lookup, t0 + 15 * 60_000 + 1000), 'RequestTimeTooSkewed');
    expectCode(verifyRequest(req, lookup, t0 - 15 * 60_000 - 1000), 'RequestTimeTooSkewed');
    expectOk(verifyRequest(req, lookup, t0 + 14 * 60_000));
  });

  it('given malformed Authorization headers, the AWS error for each', async () => {
    const req = await signed();
    const authz = req.headers.authorization!;
    const withAuth = (authorization: string): AuthResult => verifyRequest({ ...req, headers: { ...req.headers, authorization } }, lookup, t0);
    expectCode(withAuth(authz.replace(/, Signature=[0-9a-f]+/, '')), 'AuthorizationHeaderMalformed');
    expectCode(withAuth(authz.replace('/s3/', '/ec2/')), 'AuthorizationHeaderMalformed');
    expectCode(withAuth(authz.replace('/20240102/', '/20240103/')), 'AuthorizationHeaderMalformed');
    expectCode(withAuth(authz.replace('SignedHeaders=host;', 'SignedHeaders=')), 'AuthorizationHeaderMalformed');
    expectCode(withAuth(authz.replace(/Credential=[^,]+/, 'Credential=AKID')), 'AuthorizationHeaderMalformed');
    expectCode(withAuth('AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='), 'InvalidRequest');
    expectCode(withAuth('Bearer abc'), 'InvalidArgument');
  });

  it('given a missing or invalid x-amz-content-sha256, InvalidRequest / InvalidArgument', async () => {
    const req = await signed();
    const { 'x-amz-content-sha256': _, ...without } = req.headers;
    expectCode(verifyRequest({ ...req, headers: without }, lookup, t0), 'InvalidRequest');
    expectCode(verifyRequest({ ...req, headers: { ...req.headers, 'x-amz-content-sha256': 'abc' } }, lookup, t0), 'InvalidArgument');
  });

  it('given both an Authorization header and presign parameters, InvalidArgument', async () => {
    const pre = await presigned();
    const hdr = await signed();
    expectCode(verifyRequest({ ...pre, headers: hdr.headers }, lookup, t0), 'InvalidArgument');
  });

  it('given presigned URLs: valid, expired, dated in the future, too long, incomplete or tampered', async () => {
    expectOk(verifyRequest(await presigned(900), lookup, t0 + 899_000));
    expectCode(verifyRequest(await presigned(900), lookup, t0 + 901_000), 'AccessDenied', 'Request has expired');
    expectCode(verifyRequest(await presigned(900), lookup, t0 - 20 * 60_000), 'AccessDenied', 'Request is not valid yet');
    const long = await presigned(900);
    expectCode(
      verifyRequest({ ...long, rawUrl: long.rawUrl.replace('X-Amz-Expires=900', 'X-Amz-Expires=604801') }, lookup, t0),
      'AuthorizationQueryParametersError',
    );
    expectCode(
      verifyRequest({ ...long, rawUrl: long.rawUrl.replace(/&X-Amz-SignedHeaders=[^&]+/, '') }, lookup, t0),
      'AuthorizationQueryParametersError',
    );
    expectCode(verifyRequest({ ...long, rawUrl: long.rawUrl.replace('/bkt/k?', '/bkt/j?') }, lookup, t0), 'SignatureDoesNotMatch');
    expectCode(verifyRequest({ ...long, rawUrl: `${long.rawUrl}&extra=1` }, lookup, t0), 'SignatureDoesNotMatch');
  });

  it('given a 7-day presigned URL, it is accepted up to its expiry', async () => {
    expectOk(verifyRequest(await presigned(604_800), lookup, t0 + 604_799_000));
  });

  it('given a UTF-8 header value as node:http presents it (one char per byte), it verifies', async () => {
    const req = await signed('/bkt/k', {}, { 'x-amz-meta-name': 'café ü' });
    const asNode = Buffer.from('café ü', 'utf8').toString('latin1');
    expectOk(verifyRequest({ ...req, headers: { ...req.headers, 'x-amz-meta-name': asNode } }, lookup, t0));
  });

  it('given a repeated header, headersDistinct gives the exact SigV4 value', async () => {
    const req = await signed('/bkt/k', {}, { 'x-amz-meta-list': 'a,b' });
    // node:http would present two "x-amz-meta-list" lines as "a, b"; headersDistinct keeps them apart.
    const asNode = { ...req, headers: { ...req.headers, 'x-amz-meta-list': 'a, b' } };
    expectCode(verifyRequest(asNode, lookup, t0), 'SignatureDoesNotMatch');
    expectOk(verifyRequest({ ...asNode, headersDistinct: { 'x-amz-meta-list': ['a', 'b'] } }, lookup, t0));
  });
});

describe('canonical forms', () => {
  it.each([
    ['/bkt/a%20b', '/bkt/a%20b'],
    ['/bkt/a b', '/bkt/a%20b'],
    ['/bkt/a+b', '/bkt/a%2Bb'],
    ['/bkt/a%2bb', '/bkt/a%2Bb'],
    ['/bkt/%7Etilde~', '/bkt/~tilde~'],
    ['/bkt/100%', '/bkt/100%25'],
    ['/bkt/%zz', '/bkt/%25zz'],
    ['/bkt//x/../y/', '/bkt//x/../y/'],
    ['/bkt/a%2Fb', '/bkt/a/b'],
    ['', '/'],
  ])('canonicalUri(%j) = %j', (raw, canonical) => {
    expect(canonicalUri(raw)).toBe(canonical);
  });

  it('given raw UTF-8 bytes as node:http presents them (latin1), they are encoded as UTF-8', () => {
    const wire = Buffer.from('/bkt/ü', 'utf8').toString('latin1');
    expect(canonicalUri(wire)).toBe('/bkt/%C3%BC');
  });

  it('sorts the query by encoded name then value, keeps empty values and decodes "+" as space', () => {
    const q = parseQuery('b=2&a=z&a=y&uploads&c=x+y&&d=%7e');
    expect(canonicalQueryString(q)).toBe('a=y&a=z&b=2&c=x%20y&d=~&uploads=');
    expect(canonicalQueryString(parseQuery('X-Amz-Signature=abc&k=v'), 'X-Amz-Signature')).toBe('k=v');
  });
});
