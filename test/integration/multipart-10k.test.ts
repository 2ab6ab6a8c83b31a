/**
 * A multipart upload of the most parts S3 allows, 10,000, each a 5 MiB UploadPartCopy of the same
 * source (whole-object copies share the source's shards, so no byte is copied and the test stays
 * fast). Completing it exercises the completion event at its largest (the parts listed, the
 * shards assembled by the projector), ListParts paging, and GET by part number on a 48.8 GiB
 * object. One ranged read checks bytes at the far end.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'tenk';
const MiB = 1024 * 1024;
const partsTotal = 10_000;
const concurrency = 16;

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  const t0 = Date.now();
  await h?.stop();
  console.log(`[10k] stop took ${Date.now() - t0} ms`);
}, 180_000);

describe('10,000 parts', () => {
  it('completes an upload of 10,000 part copies and reads it by part and by range', async () => {
    const source = randomBuffer(createRng(testSeed('multipart-10k')), 5 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'source', Body: source }));
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'huge' }));
    const uploadId = c.UploadId ?? '';
    const etags: string[] = new Array<string>(partsTotal).fill('');
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < partsTotal) {
          const n = ++next;
          const r = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'huge', UploadId: uploadId, PartNumber: n, CopySource: `${bucket}/source` }));
          etags[n - 1] = r.CopyPartResult?.ETag ?? '';
        }
      }),
    );
    const page = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'huge', UploadId: uploadId, PartNumberMarker: '9990' }));
    expect(page.Parts?.map((p) => p.PartNumber)).toEqual([9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999, 10000]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'huge', UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    expect(done.ETag).toMatch(/-10000"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'huge', PartNumber: 10_000 }));
    expect([head.PartsCount, head.ContentLength]).toEqual([partsTotal, 5 * MiB]);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'huge', ObjectAttributes: ['ObjectSize', 'ObjectParts'] }));
    expect([attrs.ObjectSize, attrs.ObjectParts?.TotalPartsCount]).toEqual([partsTotal * 5 * MiB, partsTotal]);
    const at = 9_876 * 5 * MiB + 123_456;
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'huge', Range: `bytes=${at}-${at + 99}` }));
    const got = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(got.equals(source.subarray(123_456, 123_556))).toBe(true);
  });
});
