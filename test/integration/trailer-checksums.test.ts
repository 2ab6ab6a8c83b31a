/**
 * aws-chunked bodies with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER, what current
 * SDKs send): the checksum is computed once, by the body's writer, and compared with the trailer
 * there. A wrong trailer value gets BadDigest and stores nothing, for PutObject and UploadPart,
 * for bodies hashed on the event loop and in the digest pool alike.
 */
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { expectBodilessError } from '../support/s3-errors.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'trailers';
const rng = createRng(testSeed('trailer-checksums'));

function crc32Base64(b: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
}

/** The body as aws-chunked with unsigned chunks of 64 KiB and an x-amz-checksum-crc32 trailer. */
function chunked(body: Buffer, trailerValue: string): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < body.length; off += 64 * 1024) {
    const c = body.subarray(off, off + 64 * 1024);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${trailerValue}\r\n\r\n`));
  return Buffer.concat(parts);
}

function put(path: string, body: Buffer, trailerValue: string, query?: Record<string, string>): Promise<Response> {
  return signedFetch(h.strata.endpoint, {
    method: 'PUT',
    path,
    ...(query ? { query } : {}),
    headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(body.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
    body: chunked(body, trailerValue),
    payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  });
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

describe('trailing checksums', () => {
  for (const size of [1000, 300 * 1024]) {
    it(`PutObject of ${size} bytes: a matching trailer stores the object, a wrong one is BadDigest and stores nothing`, async () => {
      const body = randomBuffer(rng, size);
      const good = await put(`/${bucket}/good-${size}`, body, crc32Base64(body));
      expect(good.status, await good.clone().text()).toBe(200);
      expect(good.headers.get('x-amz-checksum-crc32')).toBe(crc32Base64(body));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `good-${size}`, ChecksumMode: 'ENABLED' }));
      expect([head.ContentLength, head.ChecksumCRC32]).toEqual([size, crc32Base64(body)]);

      const wrong = crc32Base64(Buffer.concat([body, Buffer.from('x')]));
      const bad = await put(`/${bucket}/bad-${size}`, body, wrong);
      const text = await bad.text();
      expect(bad.status, text).toBe(400);
      expect(text).toContain('<Code>BadDigest</Code>');
      expect(bad.headers.get('x-amz-request-id')).toMatch(/^\S+$/);
      await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `bad-${size}` })), 404);
    });
  }

  it('UploadPart: a wrong trailer is BadDigest and records no part', async () => {
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts', ChecksumAlgorithm: 'CRC32' }));
    const uploadId = c.UploadId ?? '';
    const body = randomBuffer(rng, 6 * 1024 * 1024);
    const bad = await put(`/${bucket}/parts`, body, crc32Base64(body.subarray(1)), { partNumber: '1', uploadId });
    const text = await bad.text();
    expect(bad.status, text).toBe(400);
    expect(text).toContain('<Code>BadDigest</Code>');
    const good = await put(`/${bucket}/parts`, body, crc32Base64(body), { partNumber: '2', uploadId });
    expect(good.status, await good.clone().text()).toBe(200);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'parts', UploadId: uploadId }));
    expect((parts.Parts ?? []).map((p) => [p.PartNumber, p.ChecksumCRC32])).toEqual([[2, crc32Base64(body)]]);
  });
});
