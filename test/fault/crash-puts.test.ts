/**
 * kill -9 during a burst of PUTs. Strata runs as a child process; 16 PUTs of seeded random sizes
 * (0-3 MiB) run at once; after N of them are acknowledged the server and its nats-server are
 * SIGKILLed with others still in flight. On restart on the same data dir:
 *   - every acknowledged PUT reads back byte-identical (a 2xx means durable);
 *   - no key is visible with wrong bytes or size (an unacknowledged PUT is absent or complete).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildStrata, type ChildStrata } from '../support/child-strata.ts';
import { freePort } from '../support/ports.ts';
import { createRng, hashStream, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';

const bucket = 'crash-bucket';
const putsTotal = 64;
const concurrency = 16;
const killAfterAcks = 16;
const sizeMaxBytes = 3 * 1024 * 1024;

interface Planned {
  readonly key: string;
  readonly size: number;
  readonly seed: number;
}

const dataDir = mkdtempSync(join(tmpdir(), 'strata-crash-'));
const running: ChildStrata[] = [];

async function start(): Promise<ChildStrata> {
  const s = await startChildStrata({ dataDir, port: await freePort(), natsPort: await freePort() });
  running.push(s);
  return s;
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

describe('kill -9 during concurrent PUTs', () => {
  it('keeps every acknowledged PUT and shows no torn object', async () => {
    const seed = testSeed('crash puts');
    const rng = createRng(seed);
    const plan: Planned[] = Array.from({ length: putsTotal }, (_, i) => {
      // A few empty and inline-sized bodies among the large ones.
      const size = i % 8 === 0 ? rng.below(5000) : rng.below(sizeMaxBytes + 1);
      return { key: `burst/${String(i).padStart(3, '0')}`, size, seed: rng.u32() };
    });
    const expected = new Map(plan.map((p) => [p.key, { size: p.size, sha256: sha256Hex(randomBuffer(createRng(p.seed), p.size)) }]));

    const first = await start();
    const setup = first.client();
    await setup.send(new CreateBucketCommand({ Bucket: bucket }));
    const before = randomBuffer(rng, 200_000);
    await setup.send(new PutObjectCommand({ Bucket: bucket, Key: 'before-burst', Body: before }));
    setup.destroy();

    // One attempt per PUT: a retry could land on the restarted server and blur what was acked.
    const client = first.client({ maxAttempts: 1 });
    const acked = new Set<string>();
    const failed = new Map<string, string>();
    let inFlight = 0;
    let inFlightAtKill = -1;
    let next = 0;
    let killing: Promise<void> | undefined;
    const worker = async (): Promise<void> => {
      while (killing === undefined && next < plan.length) {
        const p = plan[next++];
        if (!p) break;
        const body = randomBuffer(createRng(p.seed), p.size);
        inFlight++;
        try {
          await client.send(new PutObjectCommand({ Bucket: bucket, Key: p.key, Body: body }));
          acked.add(p.key);
          if (acked.size === killAfterAcks && killing === undefined) {
            inFlightAtKill = inFlight - 1;
            killing = first.killHard();
          }
        } catch (err) {
          failed.set(p.key, String((err as Error).name ?? err));
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await killing;
    client.destroy();
    console.log(`[crash] acked ${acked.size}, failed ${failed.size}, in flight at kill ${inFlightAtKill}, never sent ${plan.length - next}`);
    expect(killing, 'the kill was triggered').toBeDefined();
    expect(inFlightAtKill, 'PUTs were in flight when the server was killed').toBeGreaterThan(0);
    expect(acked.size).toBeGreaterThanOrEqual(killAfterAcks);

    const second = await start();
    const s3 = second.client();
    try {
      // Acknowledged means durable.
      for (const key of acked) {
        const got = await readAll(s3, key);
        const want = expected.get(key);
        expect({ key, got }).toEqual({ key, got: { sha256: want?.sha256, bytes: want?.size } });
      }
      // Whatever is visible is complete: listing, HEAD and GET agree with what was sent.
      const listed: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'burst/', ...(token === undefined ? {} : { ContinuationToken: token }) }));
        for (const c of r.Contents ?? []) listed.push({ key: c.Key ?? '', size: c.Size ?? -1 });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token !== undefined);
      for (const { key, size } of listed) {
        const want = expected.get(key);
        expect(want, `listed key ${key} was never written`).toBeDefined();
        expect({ key, size }).toEqual({ key, size: want?.size });
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        expect({ key, size: head.ContentLength }).toEqual({ key, size: want?.size });
      }
      const listedKeys = new Set(listed.map((l) => l.key));
      for (const key of acked) expect(listedKeys.has(key), `acked ${key} is listed`).toBe(true);
      let unackedPresent = 0;
      for (const p of plan) {
        if (acked.has(p.key)) continue;
        const got = await readAll(s3, p.key);
        if (got !== 'absent') unackedPresent++;
        if (got === 'absent') {
          expect(listedKeys.has(p.key), `absent ${p.key} is not listed`).toBe(false);
        } else {
          expect({ key: p.key, got }).toEqual({ key: p.key, got: { sha256: expected.get(p.key)?.sha256, bytes: p.size } });
        }
      }
      console.log(`[crash] after restart: ${listed.length} burst keys listed, ${unackedPresent} of them never acknowledged (complete)`);
      expect(await readAll(s3, 'before-burst')).toEqual({ sha256: sha256Hex(before), bytes: before.length });

      // The restarted server takes writes.
      const after = randomBuffer(rng, 1024 * 1024 + 7);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-restart', Body: after }));
      expect(await readAll(s3, 'after-restart')).toEqual({ sha256: sha256Hex(after), bytes: after.length });
    } finally {
      s3.destroy();
      await second.stop();
    }
  });
});
