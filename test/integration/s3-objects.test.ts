/**
 * Buckets and objects end to end: a real Strata (nats-server, storage node, LMDB) driven by the
 * AWS SDK v3 in its default configuration (flexible checksums and aws-chunked on), path style.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type GetObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, hashStream, randomBuffer, randomReadable, testSeed } from '../support/prng.ts';
import { expectBodilessError, expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'objects-e2e';
const md5Hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const crc32Base64 = (b: Uint8Array): string => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};

async function getBytes(input: GetObjectCommandInput): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand(input));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

describe('buckets', () => {
  it('creates, heads, lists and deletes a bucket; refuses to delete one that is not empty', async () => {
    const name = 'bucket-life';
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: name }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.BucketRegion).toBe('us-east-1');
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toEqual(expect.arrayContaining([bucket, name]));
    expect(listed.Buckets?.find((b) => b.Name === name)?.CreationDate).toBeInstanceOf(Date);

    await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: name })), 'BucketAlreadyOwnedByYou', 409);

    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    const deleted = await s3.send(new DeleteBucketCommand({ Bucket: name }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);

    // A HEAD answer has no body, so the SDK names the error after the status.
    await expectBodilessError(s3.send(new HeadBucketCommand({ Bucket: name })), 404);
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: name })), 'NoSuchBucket', 404);
    const after = await s3.send(new ListBucketsCommand({}));
    expect(after.Buckets?.map((b) => b.Name)).not.toContain(name);
  });

  it('answers NoSuchBucket for object and listing operations on a missing bucket', async () => {
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k' })), 'NoSuchBucket', 404);
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
    await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-here' })), 'NoSuchBucket', 404);
  });

  it.each(['ab', 'Bad_Bucket', 'bucket..dots', '-leading-dash', '192.168.1.1'])('rejects the bucket name %j', async (name) => {
    await expectS3Error(s3.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400);
  });

  it('reports us-east-1 as an empty location constraint', async () => {
    const r = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect(r.LocationConstraint ?? '').toBe('');
    await expectS3Error(s3.send(new GetBucketLocationCommand({ Bucket: 'no-such-bucket-here' })), 'NoSuchBucket', 404);
  });
});

describe('round trips', () => {
  it.each([
    ['0 B', 0],
    ['1 B', 1],
    ['1 MiB', 1024 * 1024],
  ])('stores and returns %s byte-identical, ETag = MD5', async (label, size) => {
    const seed = testSeed(`round trip ${label}`);
    const data = randomBuffer(createRng(seed), size);
    const key = `rt/${size}`;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    expect(put.ETag).toBe(`"${md5Hex(data)}"`);
    const got = await getBytes({ Bucket: bucket, Key: key });
    expect(got.length).toBe(size);
    expect(got.equals(data)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(size);
    expect(head.ETag).toBe(`"${md5Hex(data)}"`);
  });

  it('streams 100 MiB in and out without either side holding it', async () => {
    const size = 100 * 1024 * 1024;
    const seed = testSeed('100 MiB stream');
    const body = randomReadable(seed, size);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/100MiB', Body: body, ContentLength: size }));
    expect(body.produced()).toBe(size);
    const sentSha256 = body.digest();
    expect(put.ETag).toBe(`"${body.md5()}"`);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/100MiB' }));
    expect(got.ContentLength).toBe(size);
    const read = await hashStream(got.Body as Readable);
    expect(read).toEqual({ sha256: sentSha256, bytes: size });
  });
});

describe('keys', () => {
  const keys = [
    'keys/unicode/日本語/ü/😀',
    'keys/with space.txt',
    'keys/plus+sign',
    'keys/percent%25literal',
    'keys/percent%',
    'keys/question?mark',
    'keys/hash#tag',
    'keys/double//slash',
    '/leading-slash',
    '//two-leading-slashes',
    'keys/trailing/',
    'keys/mixed ?#+%&=;:@$,\'"<>[]{}|\\^`~!*()',
    `keys/long/${'k'.repeat(1024 - 'keys/long/'.length)}`,
  ];

  it('stores, reads, heads and lists keys with unicode, spaces, +, %, ?, #, // and a leading /', async () => {
    expect(Buffer.byteLength(keys.at(-1) ?? '', 'utf8')).toBe(1024);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    for (const key of keys) {
      expect((await getBytes({ Bucket: bucket, Key: key })).toString('utf8'), key).toBe(`body of ${key}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ContentLength, key).toBe(Buffer.byteLength(`body of ${key}`));
    }
    const listed = [
      ...((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'keys/' }))).Contents ?? []),
      ...((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: '/' }))).Contents ?? []),
    ].map((c) => c.Key);
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...listed].sort((a, b) => Buffer.compare(Buffer.from(a ?? ''), Buffer.from(b ?? '')))).toEqual(expected);
  });

  it('accepts a 1024-byte key and refuses a 1025-byte one with KeyTooLongError', async () => {
    const k1024 = 'é'.repeat(512);
    const k1025 = `x${k1024}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k1024, Body: 'ok' }));
    expect((await getBytes({ Bucket: bucket, Key: k1024 })).toString()).toBe('ok');
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: k1025, Body: 'no' })), 'KeyTooLongError', 400);
  });
});

describe('object headers and digests', () => {
  it('stores x-amz-meta-*, Content-Type, Content-Encoding, Content-Disposition, Cache-Control and Expires', async () => {
    const expires = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'meta/object',
        Body: 'metadata',
        Metadata: { color: 'blue', 'two-words': 'a b c' },
        ContentType: 'text/x-strata; charset=utf-8',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="report 1.txt"',
        CacheControl: 'max-age=3600, private',
        Expires: expires,
      }),
    );
    for (const r of [
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/object' })),
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta/object' })),
    ]) {
      expect(r.Metadata).toEqual({ color: 'blue', 'two-words': 'a b c' });
      expect(r.ContentType).toBe('text/x-strata; charset=utf-8');
      expect(r.ContentEncoding).toBe('identity');
      expect(r.ContentDisposition).toBe('attachment; filename="report 1.txt"');
      expect(r.CacheControl).toBe('max-age=3600, private');
      expect(r.Expires?.getTime()).toBe(expires.getTime());
      expect(r.ETag).toBe(`"${md5Hex(Buffer.from('metadata'))}"`);
    }
  });

  it('stores Content-Encoding without the aws-chunked framing of a streamed upload', async () => {
    // A stream body makes the SDK send aws-chunked with a trailing checksum: the header on the
    // wire is "gzip,aws-chunked" (or similar) and only "gzip" describes the object.
    const seed = testSeed('aws-chunked stream');
    const body = randomReadable(seed, 300_000, 64 * 1024);
    const client = h.client();
    const sent: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        sent.push(Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1] ?? '');
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordContentEncoding' },
    );
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta/streamed', Body: body, ContentLength: 300_000, ContentEncoding: 'gzip', Metadata: { streamed: 'yes' } }));
    client.destroy();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/aws-chunked/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta/streamed', ChecksumMode: 'ENABLED' }));
    expect(head.ContentEncoding).toBe('gzip');
    expect(head.Metadata).toEqual({ streamed: 'yes' });
    expect(head.ContentLength).toBe(300_000);
    expect(head.ETag).toBe(`"${body.md5()}"`);
    expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  });

  it('refuses a body whose Content-MD5 does not match with BadDigest, storing nothing', async () => {
    const wrongMd5 = createHash('md5').update('something else').digest('base64');
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digest/md5', Body: 'the body', ContentMD5: wrongMd5 })), 'BadDigest', 400);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digest/md5' })), 'NoSuchKey', 404);
    const rightMd5 = createHash('md5').update('the body').digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digest/md5', Body: 'the body', ContentMD5: rightMd5 }));
  });

  it('refuses a wrong x-amz-checksum-crc32 with BadDigest, storing nothing', async () => {
    const wrong = crc32Base64(Buffer.from('not the body'));
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digest/crc', Body: 'the body', ChecksumCRC32: wrong })), 'BadDigest', 400);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digest/crc' })), 'NoSuchKey', 404);
  });

  it('returns the stored CRC32 with ChecksumMode ENABLED', async () => {
    const data = Buffer.from('checksummed body');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digest/ok', Body: data, ChecksumAlgorithm: 'CRC32' }));
    expect(put.ChecksumCRC32).toBe(crc32Base64(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digest/ok', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crc32Base64(data));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digest/ok', ChecksumMode: 'ENABLED' }));
    expect(get.ChecksumCRC32).toBe(crc32Base64(data));
    expect(Buffer.from(await (get.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).equals(data)).toBe(true);
  });
});

describe('reads', () => {
  const seed = testSeed('range object');
  const data = randomBuffer(createRng(seed), 1000);
  const key = 'reads/object';
  let etag = '';
  let lastModified = new Date(0);

  beforeAll(async () => {
    etag = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }))).ETag ?? '';
    lastModified = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).LastModified ?? new Date(0);
    expect(etag).toBe(`"${md5Hex(data)}"`);
  });

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=990-', 990, 999],
    ['bytes=-5', 995, 999],
    ['bytes=995-5000', 995, 999],
    ['bytes=0-0', 0, 0],
  ])('serves Range %s as 206 with the right bytes', async (range, start, end) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(r.ContentRange).toBe(`bytes ${start}-${end}/1000`);
    expect(r.ContentLength).toBe(end - start + 1);
    const body = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(body.equals(data.subarray(start, end + 1))).toBe(true);
  });

  it('answers an unsatisfiable Range with InvalidRange 416', async () => {
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=1000-' })), 'InvalidRange', 416);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt/0', Range: 'bytes=0-0' })), 'InvalidRange', 416);
  });

  it('evaluates If-Match and If-None-Match', async () => {
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }))).$metadata.httpStatusCode).toBe(200);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"0123456789abcdef0123456789abcdef"' })), 'PreconditionFailed', 412);
    await expectBodilessError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: etag })), 304);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: etag })), 304);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"nope"' })), 412);
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: '"other"' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('evaluates If-Modified-Since and If-Unmodified-Since at whole seconds', async () => {
    const before = new Date(lastModified.getTime() - 3600_000);
    const after = new Date(lastModified.getTime() + 1000);
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfModifiedSince: before }))).$metadata.httpStatusCode).toBe(200);
    await expectBodilessError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfModifiedSince: lastModified })), 304);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfUnmodifiedSince: before })), 412);
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfUnmodifiedSince: after }))).$metadata.httpStatusCode).toBe(200);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfUnmodifiedSince: before })), 'PreconditionFailed', 412);
  });

  it('applies response-* overrides to the answer headers', async () => {
    const expires = new Date(Date.UTC(2030, 5, 6, 7, 8, 9));
    const r = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentType: 'application/x-override',
        ResponseContentDisposition: 'inline; filename="x.bin"',
        ResponseCacheControl: 'no-store',
        ResponseContentLanguage: 'de-CH',
        ResponseContentEncoding: 'identity',
        ResponseExpires: expires,
      }),
    );
    expect(r.ContentType).toBe('application/x-override');
    expect(r.ContentDisposition).toBe('inline; filename="x.bin"');
    expect(r.CacheControl).toBe('no-store');
    expect(r.ContentLanguage).toBe('de-CH');
    expect(r.ContentEncoding).toBe('identity');
    expect(r.Expires?.getTime()).toBe(expires.getTime());
    // The overrides change one answer, not the object.
    const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(plain.ContentType).toBe('application/octet-stream');
    expect(plain.CacheControl).toBeUndefined();
  });

  it('answers a missing key with NoSuchKey (GET) and 404 (HEAD)', async () => {
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'reads/missing' })), 'NoSuchKey', 404);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'reads/missing' })), 404);
  });
});

describe('deletes', () => {
  it('deletes one object; deleting a missing key succeeds too', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del/one', Body: '1' }));
    const r = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/one' }));
    expect(r.$metadata.httpStatusCode).toBe(204);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'del/one' })), 'NoSuchKey', 404);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/one' }))).$metadata.httpStatusCode).toBe(204);
  });

  it('deletes a batch with DeleteObjects, verbose and quiet', async () => {
    const keys = ['del/a', 'del/b c', 'del/ü', 'del/d+e', 'del/f', 'del/g'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const verbose = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/a' }, { Key: 'del/b c' }, { Key: 'del/ü' }, { Key: 'del/never-existed' }] } }),
    );
    expect(verbose.Deleted?.map((d) => d.Key).sort()).toEqual(['del/a', 'del/b c', 'del/never-existed', 'del/ü'].sort());
    expect(verbose.Errors ?? []).toEqual([]);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'del/d+e' }, { Key: 'del/f' }] } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'del/' }));
    expect(left.Contents?.map((c) => c.Key)).toEqual(['del/g']);
  });
});
