/**
 * Dead multipart bytes are reclaimed: an aborted upload's parts, a replaced part, and a part left
 * out of a completion lose their last reference in the storage node's log-driven liveness (part
 * records carry their shards), and compaction gives their space back; the completed object and a
 * CopyObject of it (sharing its shards) still read byte for byte, before and after.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, hashStream, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

// Unreferenced shards are reclaimable at once here (the default grace is an hour).
process.env['STRATA_SHARD_GRACE_MS'] = '0';

const MiB = 1024 * 1024;
const bucket = 'mp-compaction';
let h: TestStrata;
let s3: S3Client;

beforeAll(async () => {
  h = await startTestStrata({ segmentBytesMax: 16 * MiB });
  s3 = h.client();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

async function segmentBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.seg')) total += (await stat(join(dir, name))).size;
  return total;
}

async function sha(key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await hashStream(r.Body as AsyncIterable<Uint8Array>)).sha256;
}

describe('multipart and compaction', () => {
  it('reclaims aborted, replaced and left-out parts; keeps the completed object and its copy', async () => {
    const rng = createRng(testSeed('multipart-compaction'));
    const part = (): Buffer => randomBuffer(rng, 5 * MiB);

    // An upload of 6 parts, aborted: 30 MiB dead.
    const a = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted' }));
    for (let n = 1; n <= 6; n++) await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'aborted', UploadId: a.UploadId ?? '', PartNumber: n, Body: part() }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: a.UploadId ?? '' }));

    // An upload whose part 2 is uploaded twice and then left out: 10 MiB dead, 10 MiB live.
    const b = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'kept' }));
    const bodies = [part(), part(), part(), part()];
    const etags: string[] = [];
    for (const [i, n] of [1, 2, 2, 3].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'kept', UploadId: b.UploadId ?? '', PartNumber: n, Body: bodies[i] ?? Buffer.alloc(0) }));
      etags[n] = r.ETag ?? '';
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'kept',
        UploadId: b.UploadId ?? '',
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etags[1] ?? '' }, { PartNumber: 3, ETag: etags[3] ?? '' }] },
      }),
    );
    const keptSha = sha256Hex(Buffer.concat([bodies[0] ?? Buffer.alloc(0), bodies[3] ?? Buffer.alloc(0)]));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'kept-copy', CopySource: `${bucket}/kept` }));

    // Live filler after them, so the segments holding the dead parts are sealed (compactable).
    const filler = randomBuffer(rng, 20 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'filler', Body: filler }));

    const node = h.strata.node;
    expect(node).toBeDefined();
    if (node === undefined) return;
    const segDir = join(h.dataDir, 'nodes', h.config.nodeId, 'segments');
    const before = await segmentBytes(segDir);
    const summary = await node.node.compact({});
    const after = await segmentBytes(segDir);
    console.log(`multipart compaction: ${(before / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)} MiB of segments; ${JSON.stringify(summary)}`);
    // 40 MiB of parts died; compaction of sealed segments gives back most of it.
    expect(before - after).toBeGreaterThanOrEqual(30 * MiB);
    expect(await sha('kept')).toBe(keptSha);
    expect(await sha('kept-copy')).toBe(keptSha);
    expect(await sha('filler')).toBe(sha256Hex(filler));
  });
});
