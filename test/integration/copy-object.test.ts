/**
 * CopyObject and UploadPartCopy through the AWS SDK: metadata directives, copies onto itself,
 * x-amz-copy-source-if-*, copies of a given version, across buckets, of multipart objects, and
 * ranged part copies whose ends cut shards (shared shards in the middle, new ones at the ends).
 */
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const src = 'copy-src';
const dst = 'copy-dst';
const MiB = 1024 * 1024;
const rng = createRng(testSeed('copy-object'));
const md5Hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

async function bytes(bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: src }));
  await s3.send(new CreateBucketCommand({ Bucket: dst }));
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

describe('CopyObject', () => {
  it('copies across buckets keeping metadata (COPY) or replacing it (REPLACE)', async () => {
    const body = randomBuffer(rng, 9 * MiB + 5);
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'a b/c.bin', Body: body, ContentType: 'application/x-a', Metadata: { k: 'v' } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copied', CopySource: `${src}/${encodeURIComponent('a b/c.bin')}` }));
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5Hex(body)}"`);
    expect((await bytes(dst, 'copied')).equals(body)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'copied' }));
    expect([head.ContentType, head.Metadata]).toEqual(['application/x-a', { k: 'v' }]);

    await s3.send(
      new CopyObjectCommand({ Bucket: dst, Key: 'replaced', CopySource: `${src}/a b/c.bin`, MetadataDirective: 'REPLACE', ContentType: 'text/x-b', Metadata: { n: 'w' } }),
    );
    const head2 = await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'replaced' }));
    expect([head2.ContentType, head2.Metadata, head2.ETag]).toEqual(['text/x-b', { n: 'w' }, `"${md5Hex(body)}"`]);
    expect((await bytes(dst, 'replaced')).equals(body)).toBe(true);

    // The source goes away; the copies keep their bytes (shared shards are referenced by both).
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'a b/c.bin', Body: 'overwritten' }));
    expect((await bytes(dst, 'copied')).equals(body)).toBe(true);
  });

  it('copies onto itself only to change metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'self', Body: 'same bytes', ContentType: 'text/plain' }));
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: src, Key: 'self', CopySource: `${src}/self` })), 'InvalidRequest', 400);
    await s3.send(new CopyObjectCommand({ Bucket: src, Key: 'self', CopySource: `${src}/self`, MetadataDirective: 'REPLACE', ContentType: 'text/html', Metadata: { x: '1' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'self' }));
    expect([head.ContentType, head.Metadata]).toEqual(['text/html', { x: '1' }]);
    expect((await bytes(src, 'self')).toString()).toBe('same bytes');
  });

  it('honours x-amz-copy-source-if-* and reports a missing source', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: src, Key: 'cond', Body: 'conditional source' }));
    const copy = (extra: Record<string, unknown>): Promise<unknown> => s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'cond', CopySource: `${src}/cond`, ...extra }));
    await expectS3Error(copy({ CopySourceIfMatch: '"00000000000000000000000000000000"' }), 'PreconditionFailed', 412);
    await expectS3Error(copy({ CopySourceIfNoneMatch: put.ETag }), 'PreconditionFailed', 412);
    await expectS3Error(copy({ CopySourceIfUnmodifiedSince: new Date(Date.now() - 3600_000) }), 'PreconditionFailed', 412);
    await expectS3Error(copy({ CopySourceIfModifiedSince: new Date(Date.now() + 3600_000) }), 'PreconditionFailed', 412);
    await copy({ CopySourceIfMatch: put.ETag, CopySourceIfModifiedSince: new Date(Date.now() - 3600_000) });
    expect((await bytes(dst, 'cond')).toString()).toBe('conditional source');
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `${src}/no-such-key` })), 'NoSuchKey', 404);
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `no-such-bucket/k` })), 'NoSuchBucket', 404);
  });

  it('copies a given version of the source', async () => {
    const vb = 'copy-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'version one' }));
    await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'version two' }));
    const r = await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'from-v1', CopySource: `${vb}/k?versionId=${v1.VersionId ?? ''}` }));
    expect(r.CopySourceVersionId).toBe(v1.VersionId);
    expect((await bytes(dst, 'from-v1')).toString()).toBe('version one');
    await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'latest', CopySource: `${vb}/k` }));
    expect((await bytes(dst, 'latest')).toString()).toBe('version two');
  });

  it('copies a multipart object with its parts, and UploadPartCopy ranges that cut shards', async () => {
    const source = randomBuffer(rng, 13 * MiB + 3);
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'big', Body: source }));
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: dst, Key: 'assembled' }));
    const uploadId = c.UploadId ?? '';
    // Part 1: an unaligned range across three shards; part 2: the whole source; part 3: a tail.
    const ranges: [number, number][] = [
      [MiB + 17, 7 * MiB + 99],
      [0, source.length - 1],
      [source.length - 1000, source.length - 1],
    ];
    const etags: string[] = [];
    for (let i = 0; i < ranges.length; i++) {
      const [start, end] = ranges[i] ?? [0, 0];
      const r = await s3.send(
        new UploadPartCopyCommand({ Bucket: dst, Key: 'assembled', UploadId: uploadId, PartNumber: i + 1, CopySource: `${src}/big`, CopySourceRange: `bytes=${start}-${end}` }),
      );
      expect(r.CopyPartResult?.ETag, `part ${i + 1}`).toBe(`"${md5Hex(source.subarray(start, end + 1))}"`);
      etags.push(r.CopyPartResult?.ETag ?? '');
    }
    await expectS3Error(
      s3.send(new UploadPartCopyCommand({ Bucket: dst, Key: 'assembled', UploadId: uploadId, PartNumber: 4, CopySource: `${src}/big`, CopySourceRange: `bytes=0-${source.length}` })),
      'InvalidArgument',
      400,
    );
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: dst, Key: 'assembled', UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const want = Buffer.concat(ranges.map(([s, e]) => source.subarray(s, e + 1)));
    expect((await bytes(dst, 'assembled')).equals(want)).toBe(true);

    // CopyObject of the multipart object keeps its ETag and parts.
    await s3.send(new CopyObjectCommand({ Bucket: src, Key: 'assembled-copy', CopySource: `${dst}/assembled` }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'assembled-copy', PartNumber: 2 }));
    expect([head.PartsCount, head.ContentLength]).toEqual([3, source.length]);
    expect((await bytes(src, 'assembled-copy')).equals(want)).toBe(true);

    // An empty part copied from an empty object's range is refused by parseCopySourceRange; an
    // UploadPart mixed with copies completes too.
    const c2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: dst, Key: 'mixed' }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: dst, Key: 'mixed', UploadId: c2.UploadId ?? '', PartNumber: 1, CopySource: `${src}/big` }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: dst, Key: 'mixed', UploadId: c2.UploadId ?? '', PartNumber: 2, Body: 'tail' }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: dst,
        Key: 'mixed',
        UploadId: c2.UploadId ?? '',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult?.ETag ?? '' }, { PartNumber: 2, ETag: p2.ETag ?? '' }] },
      }),
    );
    expect((await bytes(dst, 'mixed')).equals(Buffer.concat([source, Buffer.from('tail')]))).toBe(true);
  });

  it('refuses a CopyObject source and an UploadPartCopy range over 5 GiB, as S3 does', async () => {
    // A 5.06 GiB object without writing 5 GiB: 81 parts, each a metadata-only copy of one 64 MiB object.
    const piece = randomBuffer(rng, 64 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'piece', Body: piece }));
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: src, Key: 'huge' }));
    const uploadId = c.UploadId ?? '';
    const partsCount = 81;
    const etags: string[] = new Array<string>(partsCount);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < partsCount; i = next++) {
          const r = await s3.send(new UploadPartCopyCommand({ Bucket: src, Key: 'huge', UploadId: uploadId, PartNumber: i + 1, CopySource: `${src}/piece` }));
          etags[i] = r.CopyPartResult?.ETag ?? '';
        }
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: src, Key: 'huge', UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'huge' }));
    expect(head.ContentLength).toBe(partsCount * 64 * MiB);

    const tooLarge = 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120';
    const e1 = await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'huge-copy', CopySource: `${src}/huge` })), 'InvalidRequest', 400);
    expect(e1.message).toBe(tooLarge);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'huge-copy' })), 'NotFound', 404);

    const c2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: dst, Key: 'huge-parts' }));
    const part = (range?: string) =>
      s3.send(new UploadPartCopyCommand({ Bucket: dst, Key: 'huge-parts', UploadId: c2.UploadId ?? '', PartNumber: 1, CopySource: `${src}/huge`, ...(range ? { CopySourceRange: range } : {}) }));
    const e2 = await expectS3Error(part(), 'InvalidRequest', 400);
    expect(e2.message).toBe(tooLarge);
    await expectS3Error(part(`bytes=0-${5 * 1024 * MiB}`), 'InvalidRequest', 400);
    // A range within the limit copies (a whole 64 MiB piece: the ETag is the piece's MD5).
    const ok = await part(`bytes=${64 * MiB}-${128 * MiB - 1}`);
    expect(ok.CopyPartResult?.ETag).toBe(`"${md5Hex(piece)}"`);
  }, 300_000);
});
