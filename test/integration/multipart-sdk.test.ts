/**
 * Multipart uploads end to end through the AWS SDK v3 (default configuration: flexible checksums
 * and aws-chunked on): create, upload, list, complete, read back (whole, by part, attributes),
 * the errors AWS gives for bad completions, abort, re-uploads, and @aws-sdk/lib-storage.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, hashStream, randomBuffer, randomReadable, testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'multipart-e2e';
const MiB = 1024 * 1024;
const md5 = (b: Uint8Array): Buffer => createHash('md5').update(b).digest();
const seed = testSeed('multipart-sdk');
const rng = createRng(seed);

function multipartEtag(parts: readonly Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
}

async function getBytes(key: string, partNumber?: number): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(partNumber === undefined ? {} : { PartNumber: partNumber }) }));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function upload(key: string, parts: readonly Buffer[]): Promise<{ uploadId: string; etags: string[] }> {
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/x-test', Metadata: { origin: 'multipart' } }));
  const uploadId = created.UploadId ?? '';
  const etags: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: parts[i] ?? Buffer.alloc(0) }));
    etags.push(r.ETag ?? '');
  }
  return { uploadId, etags };
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

describe('multipart upload', () => {
  it('uploads parts, lists them, completes, and reads the object back whole and by part', async () => {
    const parts = [randomBuffer(rng, 5 * MiB), randomBuffer(rng, 5 * MiB + 123), randomBuffer(rng, 777)];
    const key = 'mp/basic object';
    const { uploadId, etags } = await upload(key, parts);
    expect(etags).toEqual(parts.map((p) => `"${md5(p).toString('hex')}"`));

    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 2 }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, parts[0]?.length, etags[0]],
      [2, parts[1]?.length, etags[1]],
    ]);
    expect(listed.IsTruncated).toBe(true);
    const rest = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: listed.NextPartNumberMarker ?? '' }));
    expect(rest.Parts?.map((p) => p.PartNumber)).toEqual([3]);
    expect(rest.IsTruncated).toBe(false);

    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'mp/' }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toContainEqual([key, uploadId]);

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    expect(done.ETag).toBe(multipartEtag(parts));
    // A retried completion (lost answer) gets the same answer.
    const again = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    expect(again.ETag).toBe(done.ETag);
    const whole = Buffer.concat(parts);
    expect((await getBytes(key)).equals(whole)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(whole.length);
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ origin: 'multipart' });
    expect((await getBytes(key, 2)).equals(parts[1] ?? Buffer.alloc(0))).toBe(true);
    const headPart = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, PartNumber: 3 }));
    expect(headPart.PartsCount).toBe(3);
    expect(headPart.ContentLength).toBe(777);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, PartNumber: 4 })), 'InvalidPartNumber', 416);

    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: ['ETag', 'ObjectSize', 'ObjectParts', 'StorageClass'] }));
    expect(attrs.ETag).toBe(multipartEtag(parts).slice(1, -1));
    expect(attrs.ObjectSize).toBe(whole.length);
    expect(attrs.ObjectParts?.TotalPartsCount).toBe(3);

    // The upload is gone once completed.
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'mp/' }));
    expect(after.Uploads ?? []).toEqual([]);
    await expectS3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })), 'NoSuchUpload', 404);
  });

  it('answers a bad completion with the error AWS gives', async () => {
    const key = 'mp/errors';
    const parts = [randomBuffer(rng, 5 * MiB), randomBuffer(rng, 1000), randomBuffer(rng, 1000)];
    const { uploadId, etags } = await upload(key, parts);
    const complete = (list: { ETag: string; PartNumber: number }[]): Promise<unknown> =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: list } }));
    const [e1, e2, e3] = [etags[0] ?? '', etags[1] ?? '', etags[2] ?? ''];
    await expectS3Error(complete([{ ETag: e1, PartNumber: 1 }, { ETag: `"${'0'.repeat(32)}"`, PartNumber: 2 }]), 'InvalidPart', 400);
    await expectS3Error(complete([{ ETag: e1, PartNumber: 1 }, { ETag: e3, PartNumber: 5 }]), 'InvalidPart', 400);
    await expectS3Error(complete([{ ETag: e2, PartNumber: 2 }, { ETag: e1, PartNumber: 1 }]), 'InvalidPartOrder', 400);
    await expectS3Error(complete([{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }, { ETag: e3, PartNumber: 3 }]), 'EntityTooSmall', 400);
    // Nothing was completed; a subset is fine (part 2 dies), the small part last.
    const done = (await complete([{ ETag: e1, PartNumber: 1 }, { ETag: e3, PartNumber: 3 }])) as { ETag?: string };
    expect(done.ETag).toBe(multipartEtag([parts[0] ?? Buffer.alloc(0), parts[2] ?? Buffer.alloc(0)]));
    expect((await getBytes(key)).equals(Buffer.concat([parts[0] ?? Buffer.alloc(0), parts[2] ?? Buffer.alloc(0)]))).toBe(true);
    await expectS3Error(complete([{ ETag: e1, PartNumber: 1 }]), 'NoSuchUpload', 404);
  });

  it('replaces a re-uploaded part, and aborts an upload', async () => {
    const key = 'mp/replace';
    const first = randomBuffer(rng, 100_000);
    const second = randomBuffer(rng, 200_000);
    const { uploadId } = await upload(key, [first]);
    const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: second }));
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([[1, second.length, r.ETag]]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [{ ETag: r.ETag ?? '', PartNumber: 1 }] } }));
    expect((await getBytes(key)).equals(second)).toBe(true);

    const aborted = await upload('mp/aborted', [randomBuffer(rng, 10_000)]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId: aborted.uploadId }));
    await expectS3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId: aborted.uploadId })), 'NoSuchUpload', 404);
    await expectS3Error(
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/aborted', UploadId: aborted.uploadId, PartNumber: 2, Body: 'x' })),
      'NoSuchUpload',
      404,
    );
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/aborted' })), 'NoSuchKey', 404);
  });

  it('pages ListMultipartUploads with key and upload-id markers and groups by delimiter', async () => {
    const ids: [string, string][] = [];
    for (const key of ['lu/a', 'lu/a', 'lu/b', 'lu/dir/x', 'lu/dir/y']) {
      const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      ids.push([key, c.UploadId ?? '']);
    }
    const seen: [string, string][] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'lu/', MaxUploads: 2, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}) }),
      );
      for (const u of page.Uploads ?? []) seen.push([u.Key ?? '', u.UploadId ?? '']);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    expect(seen).toEqual(ids);
    const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'lu/', Delimiter: '/' }));
    expect(grouped.Uploads?.map((u) => u.Key)).toEqual(['lu/a', 'lu/a', 'lu/b']);
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['lu/dir/']);
    for (const [key, id] of ids) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
  });
});

describe('@aws-sdk/lib-storage Upload', () => {
  it('uploads 200 MiB with 4 concurrent parts and reads it back byte-identical', async () => {
    const size = 200 * MiB;
    const body = randomReadable(seed, size);
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: 'lib-storage/200mib', Body: body }, queueSize: 4, partSize: 8 * MiB });
    const r = await up.done();
    expect(r.ETag).toMatch(/-25"$/);
    const sent = body.digest();
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lib-storage/200mib' }));
    expect(await hashStream(got.Body as AsyncIterable<Uint8Array>)).toEqual({ sha256: sent, bytes: size });
  });

  it('aborts mid-way: the upload is gone and no object appears', async () => {
    const key = 'lib-storage/aborted';
    const body = randomReadable(seed + 1, 64 * MiB);
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, queueSize: 2, partSize: 5 * MiB, leavePartsOnError: false });
    let partsDone = 0;
    up.on('httpUploadProgress', () => {
      partsDone++;
      if (partsDone === 3) void up.abort();
    });
    await expect(up.done()).rejects.toThrow();
    // lib-storage sends AbortMultipartUpload once its in-flight parts settle: wait for that
    // condition (bounded), then the upload and its parts are gone.
    const deadline = Date.now() + 15_000;
    let left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    while ((left.Uploads ?? []).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    }
    expect(left.Uploads ?? []).toEqual([]);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), 'NoSuchKey', 404);
  });
});
