/**
 * SigV4 verification of requests produced by real clients: botocore (the AWS CLI's library),
 * captured once as fixtures, and the AWS SDK v3 driven live against a loopback socket so the
 * exact bytes node:http receives are what gets verified.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Error } from '../../src/s3/errors.ts';
import { awsChunkedOptions, createAwsChunkedDecoder, createSha256Verifier } from '../../src/s3/sigv4/chunked.ts';
import { verifyRequest } from '../../src/s3/sigv4/verify.ts';
import type { AuthResult, SignedRequest } from '../../src/s3/sigv4/verify.ts';

const secrets: Record<string, string> = { AKIDBOTOCORE: 'botocore/secret+key', AKIDSDKV3: 'sdk/v3+secret' };
const lookup = (id: string): string | undefined => secrets[id];
const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function expectOk(r: AuthResult): Extract<AuthResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''} ${JSON.stringify(r.extra ?? {})}`);
  return r;
}

/**
 * Requests captured from botocore 1.43 (the library under the AWS CLI) by a before-send hook,
 * path-style against http://127.0.0.1:9000, region eu-west-3, dated 2026-11-22T00:01:15Z.
 */
describe('botocore / AWS CLI requests', () => {
  const botoTime = Date.UTC(2026, 10, 22, 0, 1, 15);
  const auth = (signature: string, signed = 'host;x-amz-content-sha256;x-amz-date'): string =>
    `AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20261122/eu-west-3/s3/aws4_request, SignedHeaders=${signed}, Signature=${signature}`;
  const put = (rawUrl: string, signature: string): SignedRequest => ({
    method: 'PUT',
    rawUrl,
    headers: {
      host: '127.0.0.1:9000',
      expect: '100-continue',
      'x-amz-date': '20261122T000115Z',
      'x-amz-content-sha256': '16cacfab791192d9232885fb8dc5896f64d17f97e969e446c36b4717543b985b',
      authorization: auth(signature),
      'amz-sdk-request': 'attempt=1',
      'content-length': '14',
    },
  });
  const puts: Array<[string, string]> = [
    ['/bkt/simple.txt', 'fce664bc43457b875a7b69e62a3be0a6a0f80ca265af6384b1f023a9d810c201'],
    ['/bkt/with%20space.txt', 'e3acc61bb8dc5702da0d543df657b437323c087d7ea0d879dd30d7df8af62f3d'],
    ['/bkt/plus%2Bsign', 'c6f518091025d5f21b27edc0099e6bda2fcaf5c4be06ece25890910ae4763a84'],
    ['/bkt/percent%2520literal', '634167307cbb3c6248cc33cfc35fe397bba289816f378f5a9fe347093b54f922'],
    ['/bkt/question%3Fmark', 'b2118056a6fc91b0eb31d31ee3b354d7f22fb24609de25d8e7c482d727502020'],
    ['/bkt/hash%23tag', '7090ee790e93937fabd5529b9c4c6a0ab9c6125a720edce16e8a42a7059b1a97'],
    ['/bkt/unicode/%E6%97%A5%E6%9C%AC%E8%AA%9E/%C3%BC', 'e133729cb7eea2004af3ce922745b2382ee9de6a2ddb0df5aed3ddca7c648c1c'],
    ['/bkt/double//slash', '902da8e107cd44b8c78cd08c90ee1f7dd79c2422082b7f56e5bcde6bf1ae02e9'],
    ['/bkt//leading', '8117763a5e7b66d8471cc5648ce71e3576edc948374423acafe4c87ad6065e2b'],
    ['/bkt/tilde~and%21%2A%28%29%27', 'd2f103c3cf08c20641d9da96e4617bb26d7d016f730e09b6a0106b868c2dec5b'],
    ['/bkt/a/b/../c', '6b6c7eababd6a175123fd591e7e8369448751fc57796e4cf9e320c14f141ea50'],
    ['/bkt/semi%3Bcolon%3Deq%26amp', 'a947ad06881ae33eb988545d9128f886e6dedf92bbc3ad2f02d8b9a39bedc9ee'],
  ];

  it.each(puts)('given PutObject to %s, it verifies', (rawUrl, signature) => {
    expect(expectOk(verifyRequest(put(rawUrl, signature), lookup, botoTime)).region).toBe('eu-west-3');
  });

  it('given ListObjectsV2 with spaces, "+", "/", "&" and UTF-8 in the query, it verifies', () => {
    const r = verifyRequest(
      {
        method: 'GET',
        rawUrl: '/bkt?list-type=2&prefix=a%20b%2Bc%2F%C3%A9&delimiter=%2F&start-after=x%3Dy%26z&encoding-type=url',
        headers: {
          host: '127.0.0.1:9000',
          'x-amz-date': '20261122T000115Z',
          'x-amz-content-sha256': emptyHash,
          authorization: auth('b763f1ad11c74295c1b84d23ea45cca2a4271fc73ea15919388393d7e1b43151'),
        },
      },
      lookup,
      botoTime,
    );
    expectOk(r);
  });

  it('given GetObject with versionId and Range, and DeleteObjects (?delete), they verify', () => {
    expectOk(
      verifyRequest(
        {
          method: 'GET',
          rawUrl: '/bkt/v%20k?versionId=v1%2B%2F%3D',
          headers: {
            host: '127.0.0.1:9000',
            range: 'bytes=0-1',
            'x-amz-checksum-mode': 'ENABLED',
            'x-amz-date': '20261122T000115Z',
            'x-amz-content-sha256': emptyHash,
            authorization: auth(
              'b8e20e3ae0ca2e6eac78804d0752a5487988dd866cb1e9baad5f6cddf9851db3',
              'host;range;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date',
            ),
          },
        },
        lookup,
        botoTime,
      ),
    );
    expectOk(
      verifyRequest(
        {
          method: 'POST',
          rawUrl: '/bkt?delete',
          headers: {
            host: '127.0.0.1:9000',
            'x-amz-checksum-crc32': 'CEaAGw==',
            'x-amz-sdk-checksum-algorithm': 'CRC32',
            'x-amz-date': '20261122T000115Z',
            'x-amz-content-sha256': '0ebe2d4e061df349be597c8e7da1bea023a159bae0fb2a70efca7c1395be1439',
            'content-length': '94',
            authorization: auth(
              '84ec176837181107deb57e25266dba02ea6b3f565dba8fada80dcc8c554f3f6c',
              'host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-sdk-checksum-algorithm',
            ),
          },
        },
        lookup,
        botoTime,
      ),
    );
  });

  it.each([
    ['GET', '/bkt/with%20space.txt', '2f08b091447c7ea6d2f901ae9eff9884768add0fe27c647a84b9ed9205c1b75b', true],
    ['GET', '/bkt/unicode/%E6%97%A5%E6%9C%AC%E8%AA%9E/%C3%BC', 'd1b2c16fd62c2dc4e71d20c012fd063496076edfc4695e9d93d52cebf6b1867a', true],
    ['GET', '/bkt/plus%2Bsign', 'db26c1acb08f2a961822cbfe04bcc6f9288095c3f3e44221945e39bf235d2350', true],
    ['PUT', '/bkt/up%20load', '6d6894485492a708a3918d3d5ad95074affb2b1862341ac00cd605c5f11afa24', false],
  ] as Array<[string, string, string, boolean]>)('given a presigned %s of %s, it verifies', (method, path, sig, disposition) => {
    const query =
      (disposition ? 'response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&' : '') +
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOTOCORE%2F20261122%2Feu-west-3%2Fs3%2Faws4_request' +
      `&X-Amz-Date=20261122T000115Z&X-Amz-Expires=${disposition ? 3600 : 60}&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;
    expectOk(verifyRequest({ method, rawUrl: `${path}?${query}`, headers: { host: '127.0.0.1:9000' } }, lookup, botoTime + 30_000));
  });

  it('given an aws-chunked PutObject with an unsigned CRC32 trailer, it verifies and decodes', async () => {
    const headers: IncomingHttpHeaders = {
      host: '127.0.0.1:9443',
      expect: '100-continue',
      'transfer-encoding': 'chunked',
      'content-encoding': 'aws-chunked',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-decoded-content-length': '76800',
      'x-amz-sdk-checksum-algorithm': 'CRC32',
      'x-amz-date': '20261122T000124Z',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20261122/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=82f6d875cb64f07250359e500b7280a36d3eed50c719599da7b02d5575c01ed1',
    };
    const r = expectOk(verifyRequest({ method: 'PUT', rawUrl: '/bkt/chunked.bin', headers }, lookup, Date.UTC(2026, 10, 22, 0, 1, 24)));
    expect(r.payload).toEqual({ kind: 'streaming-unsigned-trailer' });
    const payload = Buffer.concat(Array.from({ length: 300 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));
    const wire = Buffer.concat([
      Buffer.from('12c00\r\n'),
      payload,
      Buffer.from('\r\n0\r\nx-amz-checksum-crc32:u5z5Fg==\r\n\r\n'),
    ]);
    const opts = awsChunkedOptions(headers, r);
    if (opts === undefined || opts instanceof S3Error) throw new Error('expected decoder options');
    const decoder = createAwsChunkedDecoder(opts);
    const out: Buffer[] = [];
    await pipeline(Readable.from([wire]), decoder, async (src: AsyncIterable<Buffer>) => {
      for await (const b of src) out.push(b);
    });
    expect(Buffer.concat(out).equals(payload)).toBe(true);
    expect(decoder.checksum()).toEqual({ algorithm: 'CRC32', value: 'u5z5Fg==' });
  });
});

describe('AWS SDK v3 requests over a loopback socket', () => {
  interface Captured extends SignedRequest {
    body: Buffer;
  }
  const captured: Captured[] = [];
  let server: Server;
  let client: S3Client;
  let endpoint = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured.push({
          method: req.method ?? '',
          rawUrl: req.url ?? '',
          headers: req.headers,
          headersDistinct: req.headersDistinct,
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { 'content-type': 'application/xml', etag: '"0"' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new S3Client({
      endpoint,
      region: 'ap-southeast-2',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDSDKV3', secretAccessKey: secrets['AKIDSDKV3']! },
    });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends a command; the canned empty reply may not deserialize, which is irrelevant here. */
  async function capture(send: () => Promise<unknown>): Promise<Captured> {
    const before = captured.length;
    await send().catch(() => undefined);
    expect(captured.length).toBe(before + 1);
    return captured[before]!;
  }

  const keys = [
    'simple.txt',
    'with space.txt',
    'plus+sign',
    'percent%20literal',
    'question?mark',
    'hash#tag',
    'unicode/日本語/ü',
    'double//slash',
    '/leading',
    "tilde~and!*()'",
    'a/b/../c',
    'semi;colon=eq&amp',
  ];

  it.each(keys)('given PutObject of key %j, it verifies and the body hash check passes', async (key) => {
    const req = await capture(() => client.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'hello sdk' })));
    const r = expectOk(verifyRequest(req, lookup, Date.now()));
    expect(r.region).toBe('ap-southeast-2');
    if (r.payload.kind === 'sha256') {
      await pipeline(Readable.from([req.body]), createSha256Verifier(r.payload.hex), async (src: AsyncIterable<Buffer>) => {
        for await (const _ of src);
      });
    }
  });

  it('given GetObject with Range and ListObjectsV2 with awkward parameters, they verify', async () => {
    const get = await capture(() =>
      client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k y+é', Range: 'bytes=0-1', VersionId: 'v+/=1' })),
    );
    expectOk(verifyRequest(get, lookup, Date.now()));
    const list = await capture(() =>
      client.send(
        new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c/é', Delimiter: '/', StartAfter: 'x=y&z', MaxKeys: 7 }),
      ),
    );
    expectOk(verifyRequest(list, lookup, Date.now()));
  });

  it('given DeleteObjects (POST ?delete with a checksum header), it verifies', async () => {
    const req = await capture(() =>
      client.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'a' }, { Key: 'b c' }] } })),
    );
    expectOk(verifyRequest(req, lookup, Date.now()));
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)(
    'given a streamed PutObject with a %s checksum, the aws-chunked body decodes and its trailer checks',
    async (alg) => {
      const payload = Buffer.alloc(200_000, 'z');
      const req = await capture(() =>
        client.send(
          new PutObjectCommand({
            Bucket: 'bkt',
            Key: 'streamed',
            Body: Readable.from([payload.subarray(0, 70_000), payload.subarray(70_000)]),
            ContentLength: payload.length,
            ChecksumAlgorithm: alg,
          }),
        ),
      );
      const r = expectOk(verifyRequest(req, lookup, Date.now()));
      expect(r.payload.kind).toBe('streaming-unsigned-trailer');
      const opts = awsChunkedOptions(req.headers, r);
      if (opts === undefined || opts instanceof S3Error) throw new Error('expected decoder options');
      const decoder = createAwsChunkedDecoder(opts);
      const out: Buffer[] = [];
      await pipeline(Readable.from([req.body]), decoder, async (src: AsyncIterable<Buffer>) => {
        for await (const b of src) out.push(b);
      });
      expect(Buffer.concat(out).equals(payload)).toBe(true);
      expect(decoder.checksum()?.algorithm).toBe(alg);
    },
  );

  it.each(keys)('given a presigned GET URL for key %j, it verifies', async (key) => {
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'bkt', Key: key, ResponseContentDisposition: 'attachment; filename="a b.txt"' }),
      { expiresIn: 600 },
    );
    // The path and query exactly as a client would put them on the wire (no URL normalization).
    const rawUrl = url.slice(endpoint.length);
    const r = expectOk(verifyRequest({ method: 'GET', rawUrl, headers: { host: endpoint.slice('http://'.length) } }, lookup, Date.now()));
    expect(r.presigned).toBe(true);
    expect(r.payload).toEqual({ kind: 'unsigned' });
  });

  it('given a presigned PUT URL used over the socket, it verifies as received', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'bkt', Key: 'pre signed+put' }), { expiresIn: 60 });
    const res = await fetch(url, { method: 'PUT', body: 'data' });
    expect(res.status).toBe(200);
    const req = captured[captured.length - 1]!;
    expectOk(verifyRequest(req, lookup, Date.now()));
  });
});
