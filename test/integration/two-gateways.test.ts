/**
 * Two gateways on one log: gateway A (embedded nats-server and storage node) and gateway B (its
 * own read model, reaching A's storage node over NATS). A write acknowledged by one is visible to
 * an immediately following GET, HEAD and LIST through the other (the read fence); concurrent
 * overwrites through both end in one state both agree on; conditional creates race-free across
 * them. A third gateway without the fence measures what the fence costs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/app/strata.ts';
import { rebuildInto } from '../../src/projections/rebuild.ts';
import { createRng, randomBuffer, testSeed, type Rng } from '../support/prng.ts';
import { lagProjector } from '../support/lag.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let a: TestStrata;
let b: TestStrata;
let c: TestStrata;
let s3a: S3Client;
let s3b: S3Client;
let s3c: S3Client;

const md5Hex = (d: Uint8Array | string): string => createHash('md5').update(d).digest('hex');

beforeAll(async () => {
  a = await startTestStrata();
  const shared = { natsUrl: a.strata.natsUrl, remoteNodes: [a.config.nodeId] };
  b = await startTestStrata({ ...shared, gatewayId: 'gw-b' });
  c = await startTestStrata({ ...shared, gatewayId: 'gw-c-unfenced', readFence: false });
  [s3a, s3b, s3c] = [a.client(), b.client(), c.client()];
});

afterAll(async () => {
  for (const s of [s3a, s3b, s3c]) s?.destroy();
  // A runs the nats-server the others use: stop it last.
  await c?.stop();
  await b?.stop();
  await a?.stop();
});

interface Expected {
  readonly etag: string;
  readonly body: Buffer;
  readonly versionId: string | undefined;
}

/** What one read through a gateway returned that differs from what was acknowledged before it. */
type Stale = { readonly iteration: number; readonly op: string; readonly key: string; readonly what: string };

async function readState(s3: S3Client, bucket: string, key: string): Promise<{ get: string; head: string }> {
  let get: string;
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from((await r.Body?.transformToByteArray()) ?? []);
    get = `200 ${r.ETag ?? ''} ${md5Hex(body)} ${body.length} ${r.VersionId ?? '-'}`;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    get = `${err.$metadata?.httpStatusCode ?? '?'} ${err.name}`;
  }
  let head: string;
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    head = `200 ${r.ETag ?? ''} ${r.ContentLength ?? '?'} ${r.VersionId ?? '-'}`;
  } catch (e) {
    const err = e as { $metadata?: { httpStatusCode?: number } };
    head = `${err.$metadata?.httpStatusCode ?? '?'}`;
  }
  return { get, head };
}

function expectedState(e: Expected | undefined): { get: string; head: string } {
  if (!e) return { get: '404 NoSuchKey', head: '404' };
  return {
    get: `200 "${e.etag}" ${md5Hex(e.body)} ${e.body.length} ${e.versionId ?? '-'}`,
    head: `200 "${e.etag}" ${e.body.length} ${e.versionId ?? '-'}`,
  };
}

async function listUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) out.push(`${o.Key ?? ''} ${o.ETag ?? ''}`);
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

function body(rng: Rng, i: number): Buffer {
  // Mostly small objects (inline in the event); every 8th larger than the inline limit, so its
  // bytes come from the storage node over NATS when read through B.
  const size = i % 8 === 0 ? 5000 + rng.below(20_000) : rng.below(600);
  return randomBuffer(rng, size);
}

/**
 * Writes through `writer` and reads through `reader`, `iterations` times; returns every read that
 * did not match the write acknowledged just before it.
 */
async function writeThenRead(
  label: string,
  bucket: string,
  versioned: boolean,
  writer: S3Client,
  reader: S3Client,
  iterations: number,
  seed: number,
): Promise<{ stale: Stale[]; ops: Record<string, number> }> {
  const rng = createRng(seed);
  const state = new Map<string, Expected>();
  const stale: Stale[] = [];
  const ops: Record<string, number> = { put: 0, overwrite: 0, delete: 0 };
  const dirs = 12;
  for (let i = 0; i < iterations; i++) {
    const dir = `${label}/d${rng.below(dirs)}/`;
    const existing = [...state.keys()].filter((k) => k.startsWith(dir));
    const roll = rng.below(10);
    let key: string;
    let op: string;
    if (existing.length === 0 || roll < 4) {
      op = 'put';
      key = `${dir}k${i}`;
    } else {
      key = existing[rng.below(existing.length)] ?? '';
      op = roll < 7 ? 'overwrite' : 'delete';
    }
    ops[op] = (ops[op] ?? 0) + 1;
    if (op === 'delete') {
      await writer.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      state.delete(key);
    } else {
      const data = body(rng, i);
      const put = await writer.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
      expect(put.ETag).toBe(`"${md5Hex(data)}"`);
      if (versioned) expect(put.VersionId).toMatch(/^[0-9a-z]{29}$/);
      state.set(key, { etag: md5Hex(data), body: data, versionId: put.VersionId });
    }
    // Immediately after the acknowledgement, through the other gateway.
    const seen = await readState(reader, bucket, key);
    const want = expectedState(state.get(key));
    if (seen.get !== want.get) stale.push({ iteration: i, op, key, what: `GET ${seen.get}, expected ${want.get}` });
    if (seen.head !== want.head) stale.push({ iteration: i, op, key, what: `HEAD ${seen.head}, expected ${want.head}` });
    const listed = await listUnder(reader, bucket, dir);
    const wantListed = [...state.entries()]
      .filter(([k]) => k.startsWith(dir))
      .sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      .map(([k, e]) => `${k} "${e.etag}"`);
    if (JSON.stringify(listed) !== JSON.stringify(wantListed)) {
      stale.push({ iteration: i, op, key, what: `LIST ${dir}: ${JSON.stringify(listed)}, expected ${JSON.stringify(wantListed)}` });
    }
  }
  return { stale, ops };
}

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

describe('with lagging projectors', () => {
  it('the fence still gives B zero stale reads, while the unfenced C, lagging alike, serves stale ones', async () => {
    const seed = testSeed('two gateways, lagging projectors');
    await s3a.send(new CreateBucketCommand({ Bucket: 'raw-lag' }));
    const undo = [lagProjector(b.strata.store, 30), lagProjector(c.strata.store, 30)];
    try {
      const fenced = await writeThenRead('lag-b', 'raw-lag', false, s3a, s3b, 100, seed);
      expect(fenced.stale.slice(0, 10)).toEqual([]);
      // The same check through C: proves it does see stale reads when the fence is off.
      const unfenced = await writeThenRead('lag-c', 'raw-lag', false, s3a, s3c, 30, seed + 1);
      console.log(`lagging by 30 ms per batch: fenced B ${fenced.stale.length} stale reads in 100 iterations, unfenced C ${unfenced.stale.length} in 30`);
      expect(unfenced.stale.length).toBeGreaterThan(0);
    } finally {
      for (const u of undo) u();
    }
  });
});

describe('bucket state across gateways (B lagging)', () => {
  /** Runs `body` with B's projector held back, so a fence that is missing shows as a stale answer. */
  async function withLaggingB(body: () => Promise<void>): Promise<void> {
    const undo = lagProjector(b.strata.store, 30);
    try {
      await body();
    } finally {
      undo();
    }
  }
  /** Waits until B has applied everything A has (before the part of a test that needs B current). */
  const bCaughtUp = async (): Promise<void> => {
    await b.strata.projector.waitApplied(a.strata.store.checkpoint());
  };

  it('GET through B of a key in a bucket just created through A is NoSuchKey, and NoSuchBucket once deleted', async () => {
    await withLaggingB(async () => {
      for (let i = 0; i < 5; i++) {
        const name = `lag-created-${i}`;
        await s3a.send(new CreateBucketCommand({ Bucket: name }));
        await expect(s3b.send(new GetObjectCommand({ Bucket: name, Key: 'nothing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
        await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
        await s3a.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
        await s3a.send(new DeleteBucketCommand({ Bucket: name }));
        await expect(s3b.send(new GetObjectCommand({ Bucket: name, Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      }
    });
  });

  it('versioning enabled through A governs the next PUT, DELETE and GET through B (no null version overwritten)', async () => {
    for (let i = 0; i < 3; i++) {
      const name = `lag-versioning-${i}`;
      await s3a.send(new CreateBucketCommand({ Bucket: name }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'put-me', Body: 'original' }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'delete-me', Body: 'original' }));
      await bCaughtUp();
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        // GET: the pre-existing object is now the null version of a versioned bucket.
        const got = await s3b.send(new GetObjectCommand({ Bucket: name, Key: 'put-me' }));
        await got.Body?.transformToString();
        expect(got.VersionId).toBe('null');
      });
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        const put = await s3b.send(new PutObjectCommand({ Bucket: name, Key: 'put-me', Body: 'new' }));
        expect(put.VersionId).toMatch(/^[0-9a-z]{29}$/);
      });
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        const del = await s3b.send(new DeleteObjectCommand({ Bucket: name, Key: 'delete-me' }));
        expect(del.DeleteMarker).toBe(true);
      });
      // Nothing was lost: both originals are still there as null versions.
      for (const key of ['put-me', 'delete-me']) {
        const r = await s3a.send(new GetObjectCommand({ Bucket: name, Key: key, VersionId: 'null' }));
        expect(await r.Body?.transformToString()).toBe('original');
      }
    }
  });

  it('DeleteBucket through B right after the last object was deleted through A succeeds', async () => {
    for (let i = 0; i < 3; i++) {
      const name = `lag-emptied-${i}`;
      await s3a.send(new CreateBucketCommand({ Bucket: name }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
      await bCaughtUp();
      await withLaggingB(async () => {
        await s3a.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
        const del = await s3b.send(new DeleteBucketCommand({ Bucket: name }));
        expect(del.$metadata.httpStatusCode).toBe(204);
      });
    }
  });

  it('bucket reads through B (HeadBucket, ListBuckets, GetBucketVersioning) see bucket writes just made through A', async () => {
    await withLaggingB(async () => {
      for (let i = 0; i < 3; i++) {
        const name = `lag-bucket-reads-${i}`;
        await s3a.send(new CreateBucketCommand({ Bucket: name }));
        expect((await s3b.send(new HeadBucketCommand({ Bucket: name }))).$metadata.httpStatusCode).toBe(200);
        expect((await s3b.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name)).toContain(name);
        for (const status of ['Enabled', 'Suspended', 'Enabled'] as const) {
          await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
          expect((await s3b.send(new GetBucketVersioningCommand({ Bucket: name }))).Status).toBe(status);
        }
        await s3a.send(new DeleteBucketCommand({ Bucket: name }));
        await expect(s3b.send(new HeadBucketCommand({ Bucket: name }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      }
    });
  });

  it('CopyObject through B of a source just overwritten through A copies the new bytes', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-copy' }));
    await s3a.send(new PutObjectCommand({ Bucket: 'lag-copy', Key: 'src', Body: 'old' }));
    await bCaughtUp();
    await withLaggingB(async () => {
      for (let i = 0; i < 3; i++) {
        await s3a.send(new PutObjectCommand({ Bucket: 'lag-copy', Key: 'src', Body: `new ${i}` }));
        await s3b.send(new CopyObjectCommand({ Bucket: 'lag-copy', Key: `dst-${i}`, CopySource: 'lag-copy/src' }));
        const got = await s3a.send(new GetObjectCommand({ Bucket: 'lag-copy', Key: `dst-${i}` }));
        expect(await got.Body?.transformToString()).toBe(`new ${i}`);
      }
    });
  });

  it('DeleteObjects through B in a bucket just created through A', async () => {
    await withLaggingB(async () => {
      await s3a.send(new CreateBucketCommand({ Bucket: 'lag-batch' }));
      const r = await s3b.send(new DeleteObjectsCommand({ Bucket: 'lag-batch', Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }));
      expect(r.Errors).toBeUndefined();
      expect(r.Deleted?.map((d) => d.Key).sort()).toEqual(['a', 'b']);
    });
  });
});
