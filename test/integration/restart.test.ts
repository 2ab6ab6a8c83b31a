/**
 * A clean stop and start on the same data dir: every bucket, object, header and listing is
 * still there, and the restarted Strata takes new writes.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

async function bodyOf(bucket: string, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function snapshot(buckets: readonly string[]): Promise<unknown> {
  const listed = await s3.send(new ListBucketsCommand({}));
  const out: Record<string, unknown> = { buckets: (listed.Buckets ?? []).map((b) => [b.Name, b.CreationDate?.toISOString()]) };
  for (const b of buckets) {
    const flat = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
    out[b] = {
      flat: (flat.Contents ?? []).map((c) => [c.Key, c.Size, c.ETag, c.LastModified?.toISOString()]),
      prefixes: (grouped.CommonPrefixes ?? []).map((p) => p.Prefix),
      top: (grouped.Contents ?? []).map((c) => c.Key),
    };
  }
  return out;
}

describe('restart', () => {
  it('keeps buckets, objects, headers and listings across a clean stop and start', async () => {
    const seed = testSeed('restart contents');
    const rng = createRng(seed);
    const buckets = ['restart-one', 'restart-two'];
    for (const b of buckets) await s3.send(new CreateBucketCommand({ Bucket: b }));
    // Sizes around the inline limit (4 KiB) and the shard size (4 MiB): both storage paths.
    const sizes = [0, 1, 4095, 4096, 4097, 100_000, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 9 * 1024 * 1024];
    const objects = new Map<string, { bucket: string; sha256: string; size: number }>();
    for (const [i, size] of sizes.entries()) {
      const bucket = buckets[i % 2] ?? 'restart-one';
      const key = `dir${i % 3}/obj-${i}-${size}`;
      const data = randomBuffer(rng, size);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, Metadata: { index: String(i) }, ContentType: 'application/x-test' }));
      objects.set(`${bucket}/${key}`, { bucket, sha256: sha256Hex(data), size });
    }
    // An overwritten key and a deleted key: only the latest state may survive.
    await s3.send(new PutObjectCommand({ Bucket: 'restart-one', Key: 'overwritten', Body: 'first' }));
    await s3.send(new PutObjectCommand({ Bucket: 'restart-one', Key: 'overwritten', Body: 'second' }));
    await s3.send(new PutObjectCommand({ Bucket: 'restart-two', Key: 'deleted', Body: 'gone soon' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'restart-two', Key: 'deleted' }));

    const before = await snapshot(buckets);
    s3.destroy();
    await h.restart();
    s3 = h.client();
    expect(await snapshot(buckets)).toEqual(before);

    for (const [path, o] of objects) {
      const key = path.slice(o.bucket.length + 1);
      const body = await bodyOf(o.bucket, key);
      expect({ path, size: body.length, sha256: sha256Hex(body) }).toEqual({ path, size: o.size, sha256: o.sha256 });
      const head = await s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: key }));
      expect(head.ContentType).toBe('application/x-test');
      expect(head.Metadata?.['index']).toBeDefined();
    }
    expect((await bodyOf('restart-one', 'overwritten')).toString()).toBe('second');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: 'restart-two', Key: 'deleted' })), 'NoSuchKey', 404);

    // The restarted Strata takes writes, and a second restart keeps them too.
    await s3.send(new PutObjectCommand({ Bucket: 'restart-two', Key: 'after-restart', Body: 'new' }));
    const second = await snapshot(buckets);
    s3.destroy();
    await h.restart();
    s3 = h.client();
    expect(await snapshot(buckets)).toEqual(second);
    expect((await bodyOf('restart-two', 'after-restart')).toString()).toBe('new');
    expect(createHash('md5').update('new').digest('hex')).toBe(
      ((await s3.send(new HeadObjectCommand({ Bucket: 'restart-two', Key: 'after-restart' }))).ETag ?? '').replace(/"/g, ''),
    );
  });
});
