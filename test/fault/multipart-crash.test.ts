/**
 * kill -9 during multipart uploads. Strata runs as a child process on one data dir:
 *
 * 1. Killed inside CompleteMultipartUpload (named crash points): before the MultipartCompleted
 *    event is published → after restart the object is absent and the upload still complete-able;
 *    after it is committed (the client never got its answer) → the object is there, whole.
 * 2. Killed by SIGKILL (with its nats-server) while 4 uploads send parts concurrently: after
 *    restart no object is visible, every acknowledged part is listed with its ETag, and completing
 *    with the acknowledged parts gives byte-identical objects.
 *
 * In every case an object is either complete and byte-identical or absent.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildStrata, type ChildStrata } from '../support/child-strata.ts';
import { freePort } from '../support/ports.ts';
import { createRng, hashStream, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';

const MiB = 1024 * 1024;
const bucket = 'mp-crash';
const dataDir = mkdtempSync(join(tmpdir(), 'strata-mp-crash-'));
const running: ChildStrata[] = [];
const seed = testSeed('multipart crash');
const rng = createRng(seed);

async function start(crashPoint?: string): Promise<ChildStrata> {
  if (crashPoint) process.env['STRATA_CRASH_POINT'] = crashPoint;
  try {
    const s = await startChildStrata({ dataDir, port: await freePort(), natsPort: await freePort() });
    running.push(s);
    return s;
  } finally {
    delete process.env['STRATA_CRASH_POINT'];
  }
}

afterAll(async () => {
  for (const s of running) await s.killHard().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function readAll(client: S3Client, key: string): Promise<{ sha256: string; bytes: number } | 'absent'> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await hashStream(r.Body as AsyncIterable<Uint8Array>);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return 'absent';
    throw err;
  }
}

const md5Hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');

async function uploadParts(client: S3Client, key: string, parts: Buffer[]): Promise<{ uploadId: string; etags: string[] }> {
  const c = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const etags: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', PartNumber: i + 1, Body: parts[i] ?? Buffer.alloc(0) }));
    etags.push(r.ETag ?? '');
  }
  return { uploadId: c.UploadId ?? '', etags };
}

function complete(client: S3Client, key: string, uploadId: string, etags: string[]): Promise<unknown> {
  return client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
}

async function waitExit(s: ChildStrata): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) await new Promise((r) => s.child.once('exit', r));
  await s.killHard(); // its nats-server too
}

describe('kill -9 during CompleteMultipartUpload', () => {
  for (const [point, committed] of [
    ['multipart-complete-before-publish', false],
    ['multipart-complete-after-commit', true],
  ] as const) {
    it(`at ${point}: the object is ${committed ? 'complete' : 'absent, and the upload still completes'} after restart`, async () => {
      const key = `complete/${point}`;
      const parts = [randomBuffer(rng, 5 * MiB), randomBuffer(rng, 5 * MiB), randomBuffer(rng, 3 * MiB + 1)];
      const want = { sha256: sha256Hex(Buffer.concat(parts)), bytes: 13 * MiB + 1 };
      const first = await start(point);
      const c1 = first.client({ maxAttempts: 1 });
      await c1.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
      const { uploadId, etags } = await uploadParts(c1, key, parts);
      await expect(complete(c1, key, uploadId, etags)).rejects.toThrow();
      c1.destroy();
      await waitExit(first);
      expect(first.output()).toContain(`crash point ${point}`);

      const second = await start();
      const c2 = second.client();
      try {
        if (committed) {
          expect(await readAll(c2, key)).toEqual(want);
          const left = await c2.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
          expect(left.Uploads ?? []).toEqual([]);
        } else {
          expect(await readAll(c2, key)).toBe('absent');
          await complete(c2, key, uploadId, etags);
          expect(await readAll(c2, key)).toEqual(want);
        }
      } finally {
        c2.destroy();
        await second.stop();
      }
    });
  }
});

describe('kill -9 during part uploads', () => {
  it('keeps every acknowledged part; no object appears until completed, then byte-identical', async () => {
    const uploads = 4;
    const partsPerUpload = 6;
    const killAfterAcks = 8;
    const first = await start();
    const c1 = first.client({ maxAttempts: 1 });
    await c1.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
    const plan = Array.from({ length: uploads }, (_, u) => ({
      key: `parts/${u}`,
      parts: Array.from({ length: partsPerUpload }, () => ({ seed: rng.u32(), size: 5 * MiB + rng.below(MiB) })),
    }));
    const ids = new Map<string, string>();
    for (const p of plan) {
      const c = await c1.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: p.key }));
      ids.set(p.key, c.UploadId ?? '');
    }
    const acked = new Map<string, Map<number, string>>(plan.map((p) => [p.key, new Map()]));
    let ackCount = 0;
    let killing: Promise<void> | undefined;
    await Promise.all(
      plan.map(async (p) => {
        for (let i = 0; i < p.parts.length && killing === undefined; i++) {
          const spec = p.parts[i];
          if (!spec) break;
          const body = randomBuffer(createRng(spec.seed), spec.size);
          try {
            const r = await c1.send(new UploadPartCommand({ Bucket: bucket, Key: p.key, UploadId: ids.get(p.key) ?? '', PartNumber: i + 1, Body: body }));
            expect(r.ETag).toBe(`"${md5Hex(body)}"`);
            acked.get(p.key)?.set(i + 1, r.ETag ?? '');
            if (++ackCount === killAfterAcks) killing = first.killHard();
          } catch {
            return;
          }
        }
      }),
    );
    await killing;
    c1.destroy();
    expect(ackCount).toBeGreaterThanOrEqual(killAfterAcks);

    const second = await start();
    const c2 = second.client();
    try {
      for (const p of plan) {
        expect(await readAll(c2, p.key)).toBe('absent');
        const listed = await c2.send(new ListPartsCommand({ Bucket: bucket, Key: p.key, UploadId: ids.get(p.key) ?? '' }));
        const got = new Map((listed.Parts ?? []).map((x) => [x.PartNumber ?? 0, x.ETag ?? '']));
        // Acknowledged means durable; an unacknowledged part may or may not have landed, but whole.
        for (const [n, etag] of acked.get(p.key) ?? []) expect(got.get(n), `${p.key} part ${n}`).toBe(etag);
        for (const [n, etag] of got) expect(etag).toBe(`"${md5Hex(randomBuffer(createRng(p.parts[n - 1]?.seed ?? 0), p.parts[n - 1]?.size ?? 0))}"`);
        // Complete with the leading run of parts that made it: the object is exactly those bytes.
        const run: number[] = [];
        while (got.has(run.length + 1)) run.push(run.length + 1);
        if (run.length === 0) continue;
        await complete(c2, p.key, ids.get(p.key) ?? '', run.map((n) => got.get(n) ?? ''));
        const bytes = Buffer.concat(run.map((n) => randomBuffer(createRng(p.parts[n - 1]?.seed ?? 0), p.parts[n - 1]?.size ?? 0)));
        expect(await readAll(c2, p.key)).toEqual({ sha256: sha256Hex(bytes), bytes: bytes.length });
      }
    } finally {
      c2.destroy();
      await second.stop();
    }
  });
});
