/**
 * Two gateways on one log (test/support/two-gateways.ts): a write acknowledged by one is visible
 * to an immediately following GET, HEAD and LIST through the other (the read fence); concurrent
 * overwrites through both end in one state both agree on; conditional creates race-free across
 * them; racing mixed writers converge to identical models equal to a replay. A third gateway
 * without the fence measures what the fence costs. Lagging projectors: two-gateways-lag.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/app/strata.ts';
import { rebuildInto } from '../../src/projections/rebuild.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { md5Hex, readState, startGateways, writeThenRead, type Gateways } from '../support/two-gateways.ts';
import type { TestStrata } from '../support/strata.ts';

let g: Gateways;
let a: TestStrata;
let b: TestStrata;
let c: TestStrata;
let s3a: S3Client;
let s3b: S3Client;
let s3c: S3Client;

beforeAll(async () => {
  g = await startGateways();
  ({ a, b, c, s3a, s3b, s3c } = g);
});

afterAll(async () => {
  await g?.stop();
});

describe('read-after-write across gateways', () => {
  it('1,000 writes through A, each read at once through B (GET, HEAD, LIST): zero stale reads', async () => {
    const seed = testSeed('two gateways A→B');
    await s3a.send(new CreateBucketCommand({ Bucket: 'raw-plain' }));
    await s3a.send(new CreateBucketCommand({ Bucket: 'raw-versioned' }));
    await s3a.send(new PutBucketVersioningCommand({ Bucket: 'raw-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    const plain = await writeThenRead('ab', 'raw-plain', false, s3a, s3b, 700, seed);
    const versioned = await writeThenRead('ab', 'raw-versioned', true, s3a, s3b, 300, seed + 1);
    console.log(`A→B: plain ${JSON.stringify(plain.ops)}, versioned ${JSON.stringify(versioned.ops)}`);
    expect([...plain.stale, ...versioned.stale].slice(0, 10)).toEqual([]);
  });

  it('300 writes through B (bytes over NATS to A\'s node), each read at once through A: zero stale reads', async () => {
    const seed = testSeed('two gateways B→A');
    const r = await writeThenRead('ba', 'raw-plain', false, s3b, s3a, 200, seed);
    const v = await writeThenRead('ba', 'raw-versioned', true, s3b, s3a, 100, seed + 1);
    console.log(`B→A: plain ${JSON.stringify(r.ops)}, versioned ${JSON.stringify(v.ops)}`);
    expect([...r.stale, ...v.stale].slice(0, 10)).toEqual([]);
  });

  it('a bucket created through A is usable at once through B, and its versioning state too', async () => {
    for (let i = 0; i < 10; i++) {
      const name = `fresh-bucket-${i}`;
      await s3a.send(new CreateBucketCommand({ Bucket: name }));
      if (i % 2 === 0) await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      const put = await s3b.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
      expect(put.VersionId === undefined).toBe(i % 2 !== 0);
      const got = await s3a.send(new GetObjectCommand({ Bucket: name, Key: 'k' }));
      expect(await got.Body?.transformToString()).toBe('x');
    }
  });
});

describe('concurrent writers on different gateways', () => {
  it('two clients overwriting one key through A and B end in one latest version and one history both agree on', async () => {
    const seed = testSeed('concurrent overwrites');
    const rng = createRng(seed);
    const bucket = 'race-versioned';
    await s3a.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3a.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const writes = 40;
    const acked = new Map<string, string>();
    const writer = async (s3: S3Client, who: string): Promise<void> => {
      for (let i = 0; i < writes; i++) {
        const data = randomBuffer(rng, 1 + rng.below(2000));
        const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'contended', Body: data }));
        acked.set(r.VersionId ?? `missing ${who} ${i}`, `"${md5Hex(data)}"`);
      }
    };
    await Promise.all([writer(s3a, 'A'), writer(s3b, 'B'), writer(s3b, 'B2'), writer(s3a, 'A2')]);
    expect(acked.size).toBe(4 * writes);

    const view = async (s3: S3Client): Promise<{ etag: string | undefined; versionId: string | undefined; versions: unknown[][] }> => {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'contended' }));
      const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      return { etag: head.ETag, versionId: head.VersionId, versions: (list.Versions ?? []).map((v) => [v.VersionId, v.ETag, v.IsLatest]) };
    };
    const va = await view(s3a);
    const vb = await view(s3b);
    expect(vb).toEqual(va);
    // C has no read fence: once its projector has reached what A has applied, it agrees too.
    await c.strata.projector.waitApplied(a.strata.store.checkpoint());
    expect(await view(s3c)).toEqual(va);
    expect(va?.versions.length).toBe(4 * writes);
    expect(new Set(va?.versions.map(([id]) => id))).toEqual(new Set(acked.keys()));
    for (const [id, etag] of va?.versions ?? []) expect(etag).toBe(acked.get(id as string));
    // The latest is the first in the history and carries the ETag acknowledged for it.
    expect(va?.versions[0]).toEqual([va?.versionId, va?.etag, true]);
  });

  it('unversioned: concurrent overwrites through A and B leave one object both return identically', async () => {
    const seed = testSeed('concurrent overwrites, unversioned');
    const rng = createRng(seed);
    const etags = new Set<string>();
    const writer = async (s3: S3Client): Promise<void> => {
      for (let i = 0; i < 30; i++) {
        const data = randomBuffer(rng, rng.below(9000));
        const r = await s3.send(new PutObjectCommand({ Bucket: 'raw-plain', Key: 'contended-plain', Body: data }));
        etags.add(r.ETag ?? '');
      }
    };
    await Promise.all([writer(s3a), writer(s3b)]);
    const [ra, rb] = await Promise.all([readState(s3a, 'raw-plain', 'contended-plain'), readState(s3b, 'raw-plain', 'contended-plain')]);
    expect(rb).toEqual(ra);
    expect(etags).toContain(ra?.get.split(' ')[1]);
    const versions = await Promise.all(
      [s3a, s3b].map(async (s3) => (await s3.send(new ListObjectVersionsCommand({ Bucket: 'raw-plain', Prefix: 'contended-plain' }))).Versions?.map((v) => [v.VersionId, v.ETag])),
    );
    expect(versions[0]).toEqual(versions[1]);
    expect(versions[0]?.length).toBe(1);
  });

  it('If-None-Match: * through both gateways at once: exactly one create wins, the other gets 412', async () => {
    for (let i = 0; i < 20; i++) {
      const key = `create-once/${i}`;
      const results = await Promise.allSettled(
        [s3a, s3b].map((s3, j) => s3.send(new PutObjectCommand({ Bucket: 'raw-plain', Key: key, Body: `from ${j}`, IfNoneMatch: '*' }))),
      );
      const statuses = results.map((r) => (r.status === 'fulfilled' ? 200 : ((r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0)));
      expect(statuses.sort()).toEqual([200, 412]);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      const [ga, gb] = await Promise.all([s3a, s3b].map(async (s3) => (await s3.send(new GetObjectCommand({ Bucket: 'raw-plain', Key: key }))).Body?.transformToString()));
      expect([ga, gb]).toEqual([`from ${winner}`, `from ${winner}`]);
    }
  });
});

describe('concurrent mixed writers converge', () => {
  it('PUTs, DELETEs, version deletes and versioning toggles racing through A and B leave both models (and a replay) identical', async () => {
    const seed = testSeed('concurrent mixed writers');
    const rng = createRng(seed);
    const bucket = 'race-mixed';
    await s3a.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = ['k1', 'k2', 'dir/k3'];
    const versionsSeen: string[] = [];
    const worker = async (s3: S3Client, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const key = keys[rng.below(keys.length)] ?? 'k1';
        const roll = rng.below(20);
        if (roll < 10) {
          const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBuffer(rng, rng.below(6000)) }));
          if (r.VersionId) versionsSeen.push(`${key} ${r.VersionId}`);
        } else if (roll < 15) {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        } else if (roll < 18) {
          const pick = versionsSeen[rng.below(Math.max(1, versionsSeen.length))];
          if (pick) {
            const [k, v] = pick.split(' ');
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k, VersionId: v }));
          }
        } else {
          const status = rng.below(2) === 0 ? 'Enabled' : 'Suspended';
          await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
        }
      }
    };
    await Promise.all([worker(s3a, 60), worker(s3b, 60), worker(s3a, 60), worker(s3b, 60)]);

    // Both (and C) catch up with the whole stream, then must hold the same model.
    const streamLast = Math.max(a.strata.store.checkpoint(), b.strata.store.checkpoint());
    for (const g of [a, b, c]) await g.strata.projector.waitApplied(streamLast);
    const dumpA = a.strata.store.dump();
    expect(b.strata.store.dump()).toEqual(dumpA);
    expect(c.strata.store.dump()).toEqual(dumpA);
    // And so does a replay of the log from scratch.
    const nc = await connectNats(a.strata.natsUrl, 'test-two-gateways-rebuild');
    const dir = mkdtempSync(join(tmpdir(), 'strata-two-gw-rebuild-'));
    try {
      const rebuilt = await rebuildInto(nc, dir);
      expect(rebuilt.lastSeq).toBe(a.strata.store.checkpoint());
      expect(rebuilt.store.dump()).toEqual(dumpA);
      await rebuilt.store.close();
    } finally {
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const answers = async (s3: S3Client): Promise<unknown> => ({
      versions: (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.ETag]),
      markers: (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).DeleteMarkers?.map((v) => [v.Key, v.VersionId, v.IsLatest]),
      listed: (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => [o.Key, o.ETag]),
      gets: await Promise.all(keys.map((k) => readState(s3, bucket, k))),
    });
    expect(await answers(s3b)).toEqual(await answers(s3a));
  });
});

describe('fence cost', () => {
  it('measures GET latency through B (fenced) and C (unfenced); prints, does not assert timing', async () => {
    await s3a.send(new PutObjectCommand({ Bucket: 'raw-plain', Key: 'fence/probe', Body: 'probe' }));
    // Both must have the object before timing starts (C has no fence: wait on its projector).
    const seq = a.strata.store.checkpoint();
    await c.strata.projector.waitApplied(seq);
    const rounds = 400;
    const timings: Record<'fenced' | 'unfenced', number[]> = { fenced: [], unfenced: [] };
    const once = async (s3: S3Client): Promise<number> => {
      const t0 = process.hrtime.bigint();
      const r = await s3.send(new GetObjectCommand({ Bucket: 'raw-plain', Key: 'fence/probe' }));
      await r.Body?.transformToString();
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    // Warm both connections, then alternate so drift affects both alike.
    for (let i = 0; i < 20; i++) {
      await once(s3b);
      await once(s3c);
    }
    for (let i = 0; i < rounds; i++) {
      timings.fenced.push(await once(s3b));
      timings.unfenced.push(await once(s3c));
    }
    const q = (xs: number[], p: number): number => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
    const f = (xs: number[]): string => `p50 ${q(xs, 0.5).toFixed(3)} ms, p90 ${q(xs, 0.9).toFixed(3)} ms, p99 ${q(xs, 0.99).toFixed(3)} ms`;
    console.log(`[fence cost] GET of a 5-byte object, ${rounds} each, sequential:`);
    console.log(`[fence cost]   B, readFence on:  ${f(timings.fenced)}`);
    console.log(`[fence cost]   C, readFence off: ${f(timings.unfenced)}`);
    console.log(`[fence cost]   median overhead: ${(q(timings.fenced, 0.5) - q(timings.unfenced, 0.5)).toFixed(3)} ms per GET`);

    // For information: how often the unfenced gateway answers from a model older than the write
    // just acknowledged by A (this is what the fence prevents).
    let staleUnfenced = 0;
    for (let i = 0; i < 100; i++) {
      const data = `unfenced ${i}`;
      await s3a.send(new PutObjectCommand({ Bucket: 'raw-plain', Key: 'fence/unfenced', Body: data }));
      const r = await s3c.send(new GetObjectCommand({ Bucket: 'raw-plain', Key: 'fence/unfenced' })).catch(() => undefined);
      if ((await r?.Body?.transformToString()) !== data) staleUnfenced++;
    }
    console.log(`[fence cost]   without the fence, ${staleUnfenced}/100 GETs right after a write through A were stale`);
    expect(timings.fenced.length).toBe(rounds);
  });
});
