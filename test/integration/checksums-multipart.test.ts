/**
 * Flexible checksums through the AWS SDK: every algorithm on PutObject and UploadPart (the SDK
 * sends them as aws-chunked trailers), stored and returned by HEAD/GET with checksum mode and by
 * GetObjectAttributes; multipart COMPOSITE (`-N`) and FULL_OBJECT checksums as AWS defines them;
 * a wrong part checksum is BadDigest.
 */
import {
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf, type ChecksumAlgorithm as Alg } from '../../src/lib/checksums.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'checksums';
const MiB = 1024 * 1024;
const rng = createRng(testSeed('checksums-multipart'));
const b64 = (alg: Alg, data: Uint8Array): string => checksumOf(alg, data).toString('base64');
const field = (alg: Alg): `Checksum${Alg}` => `Checksum${alg}`;

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

const algorithms: Alg[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

describe('PutObject checksums', () => {
  for (const alg of algorithms) {
    it(`stores and returns ${alg}`, async () => {
      const body = randomBuffer(rng, 300_000);
      const key = `put/${alg}`;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumAlgorithm: alg as ChecksumAlgorithm }));
      expect(put[field(alg)]).toBe(b64(alg, body));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect([head[field(alg)], head.ChecksumType]).toEqual([b64(alg, body), 'FULL_OBJECT']);
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['Checksum'] }));
      expect(attrs.Checksum?.[field(alg)]).toBe(b64(alg, body));
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      // The SDK validates the body against the returned checksum while reading it.
      expect((await get.Body?.transformToByteArray())?.length).toBe(body.length);
    });
  }
});

async function multipart(key: string, alg: Alg, type: 'COMPOSITE' | 'FULL_OBJECT', parts: Buffer[]): Promise<{ checksum: string | undefined; type: string | undefined }> {
  const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: alg as ChecksumAlgorithm, ChecksumType: type }));
  expect([c.ChecksumAlgorithm, c.ChecksumType]).toEqual([alg, type]);
  const done: { PartNumber: number; ETag: string; [k: string]: unknown }[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? Buffer.alloc(0);
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', PartNumber: i + 1, Body: p, ChecksumAlgorithm: alg as ChecksumAlgorithm }));
    expect(r[field(alg)]).toBe(b64(alg, p));
    done.push({ PartNumber: i + 1, ETag: r.ETag ?? '', [field(alg)]: r[field(alg)] });
  }
  const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', MultipartUpload: { Parts: done } }));
  return { checksum: r[field(alg)], type: r.ChecksumType };
}

describe('multipart checksums', () => {
  const parts = (): Buffer[] => [randomBuffer(rng, 5 * MiB), randomBuffer(rng, 5 * MiB + 1), randomBuffer(rng, 12345)];

  for (const alg of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    it(`COMPOSITE ${alg}: the checksum of the part checksums, -N`, async () => {
      const ps = parts();
      const want = `${checksumOf(alg, Buffer.concat(ps.map((p) => checksumOf(alg, p)))).toString('base64')}-${ps.length}`;
      const key = `mp/composite-${alg}`;
      expect(await multipart(key, alg, 'COMPOSITE', ps)).toEqual({ checksum: want, type: 'COMPOSITE' });
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect([head[field(alg)], head.ChecksumType]).toEqual([want, 'COMPOSITE']);
      const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['Checksum', 'ObjectParts'] }));
      expect(attrs.Checksum?.[field(alg)]).toBe(want);
      expect(attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p[field(alg)]])).toEqual(ps.map((p, i) => [i + 1, p.length, b64(alg, p)]));
      const part2 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 2, ChecksumMode: 'ENABLED' }));
      expect(part2[field(alg)]).toBe(b64(alg, ps[1] ?? Buffer.alloc(0)));
    });
  }

  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`FULL_OBJECT ${alg}: the checksum of the whole object, combined from the parts`, async () => {
      const ps = parts();
      const want = b64(alg, Buffer.concat(ps));
      const key = `mp/full-${alg}`;
      expect(await multipart(key, alg, 'FULL_OBJECT', ps)).toEqual({ checksum: want, type: 'FULL_OBJECT' });
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect([get[field(alg)], get.ChecksumType]).toEqual([want, 'FULL_OBJECT']);
      expect((await get.Body?.transformToByteArray())?.length).toBe(Buffer.concat(ps).length);
    });
  }

  it('takes a streamed part whose checksum arrives as an aws-chunked trailer', async () => {
    const body = randomBuffer(rng, 3 * MiB + 7);
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/trailer', ChecksumAlgorithm: 'CRC32C' }));
    const r = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mp/trailer', UploadId: c.UploadId ?? '', PartNumber: 1, Body: Readable.from([body]), ContentLength: body.length, ChecksumAlgorithm: 'CRC32C' }),
    );
    expect(r.ChecksumCRC32C).toBe(b64('CRC32C', body));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp/trailer', UploadId: c.UploadId ?? '', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag ?? '', ChecksumCRC32C: r.ChecksumCRC32C ?? '' }] } }),
    );
    expect(done.ChecksumCRC32C).toBe(`${b64('CRC32C', checksumOf('CRC32C', body))}-1`);
  });

  it('verifies a full-object checksum the client sends with the completion', async () => {
    const ps = [randomBuffer(rng, 5 * MiB), randomBuffer(rng, 1000)];
    const key = 'mp/full-verified';
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }));
    const parts: { PartNumber: number; ETag: string; ChecksumCRC32C: string }[] = [];
    for (let i = 0; i < ps.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', PartNumber: i + 1, Body: ps[i] ?? Buffer.alloc(0), ChecksumAlgorithm: 'CRC32C' }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag ?? '', ChecksumCRC32C: r.ChecksumCRC32C ?? '' });
    }
    const send = (value: string): Promise<unknown> =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', ChecksumCRC32C: value, ChecksumType: 'FULL_OBJECT', MultipartUpload: { Parts: parts } }));
    await expectS3Error(send('AAAAAA=='), 'BadDigest', 400);
    await send(b64('CRC32C', Buffer.concat(ps)));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32C).toBe(b64('CRC32C', Buffer.concat(ps)));
  });

  it('refuses a part whose declared checksum is wrong, and a full-object CRC with SHA', async () => {
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/bad', ChecksumAlgorithm: 'CRC32' }));
    await expectS3Error(
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/bad', UploadId: c.UploadId ?? '', PartNumber: 1, Body: 'some bytes', ChecksumCRC32: 'AAAAAA==' })),
      'BadDigest',
      400,
    );
    await expectS3Error(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/bad2', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })),
      'InvalidRequest',
      400,
    );
  });
});
