import { appendFile, cp, mkdtemp, open, readFile, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { limits } from '../../src/lib/limits.ts';
import { NodeClosedError, ShardCorruptError, ShardNotFoundError, ShardRangeError } from '../../src/storage/errors.ts';
import { StorageNode, type ShardLocation, type StorageNodeOptions } from '../../src/storage/node.ts';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, segmentFileName } from '../../src/storage/segment-format.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { createRng, randomBuffer, testSeed, type Rng } from '../support/prng.ts';

const dirs: string[] = [];
const nodes: StorageNode[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close().catch(() => {});
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-storage-'));
  dirs.push(dir);
  return dir;
}

interface Opened {
  node: StorageNode;
  logs: string[];
}

async function openNode(dataDir: string, extra: Partial<StorageNodeOptions> = {}): Promise<Opened> {
  const logs: string[] = [];
  const node = await StorageNode.open({ nodeId: 'n1', dataDir, log: (l) => logs.push(l), ...extra });
  nodes.push(node);
  return { node, logs };
}

async function closeNode(node: StorageNode): Promise<void> {
  await node.close();
  nodes.splice(nodes.indexOf(node), 1);
}

const idFrom = (rng: Rng) => () => newShardId((n) => randomBuffer(rng, n));

/** Writes `count` random shards (sizes below `maxBytes`) and returns them by id. */
async function writeShards(node: StorageNode, rng: Rng, count: number, maxBytes: number, sync = true): Promise<Map<string, Buffer>> {
  const shards = new Map<string, Buffer>();
  const nextId = idFrom(rng);
  for (let i = 0; i < count; i++) {
    const id = nextId();
    const data = randomBuffer(rng, 1 + rng.below(maxBytes));
    await node.putShard(id, data, { sync });
    shards.set(id, data);
  }
  return shards;
}

async function expectAllReadable(node: StorageNode, shards: Map<string, Buffer>): Promise<void> {
  for (const [id, data] of shards) {
    const got = await node.readShard(id, 0, data.length);
    expect(got.equals(data), `shard ${id}`).toBe(true);
  }
}

async function dumpIndex(node: StorageNode): Promise<ShardLocation[]> {
  const all: ShardLocation[] = [];
  for await (const loc of node.listShards()) all.push(loc);
  return all;
}

/** Waits for a condition (checked every 5 ms), failing after 10 s. */
async function waitUntil(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function segmentFiles(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'segments'))).sort();
}

describe('StorageNode', () => {
  it('reads back what it wrote, whole and in ranges', async () => {
    const rng = createRng(testSeed('storage-node roundtrip'));
    const { node } = await openNode(await tempDir());
    const shards = await writeShards(node, rng, 40, 300_000);
    // Several parts are written as one shard without being joined first.
    const id = idFrom(rng)();
    const parts = [randomBuffer(rng, 1000), randomBuffer(rng, 1), randomBuffer(rng, 70_000)];
    const loc = await node.putShard(id, parts, { sync: false });
    shards.set(id, Buffer.concat(parts));
    expect(loc.size).toBe(71_001);
    await expectAllReadable(node, shards);
    for (const [sid, data] of shards) {
      const offset = rng.below(data.length);
      const length = rng.below(data.length - offset + 1);
      expect((await node.readShard(sid, offset, length)).equals(data.subarray(offset, offset + length))).toBe(true);
    }
    const [firstId, first] = [...shards][0] ?? [];
    expect(firstId && first).toBeTruthy();
    await expect(node.readShard(firstId ?? '', 1, first?.length ?? 0)).rejects.toBeInstanceOf(ShardRangeError);
    await expect(node.readShard('0'.repeat(32), 0, 1)).rejects.toBeInstanceOf(ShardNotFoundError);
    expect(await node.tryReadShard('0'.repeat(32), 0, 1)).toEqual({ kind: 'not-found' });
    expect((await dumpIndex(node)).map((l) => l.shardId).sort()).toEqual([...shards.keys()].sort());
  });

  it('group-commits concurrent sync appends: far fewer fsyncs than appends', async () => {
    const rng = createRng(testSeed('storage-node group commit'));
    const { node } = await openNode(await tempDir());
    const before = node.stats().fsyncs;
    const nextId = idFrom(rng);
    const puts = Array.from({ length: 64 }, () => node.putShard(nextId(), randomBuffer(rng, 64 * 1024), { sync: true }));
    await Promise.all(puts);
    const fsyncs = node.stats().fsyncs - before;
    console.log(`64 concurrent sync appends took ${fsyncs} fsyncs`);
    expect(fsyncs).toBeGreaterThanOrEqual(1);
    expect(fsyncs).toBeLessThanOrEqual(16);
  });

  it('rolls to a new segment at segmentBytesMax and keeps everything across reopen', async () => {
    const rng = createRng(testSeed('storage-node roll'));
    const dataDir = await tempDir();
    const segmentBytesMax = 64 * 1024;
    const { node } = await openNode(dataDir, { segmentBytesMax });
    const shards = await writeShards(node, rng, 60, 12_000);
    // A shard larger than a whole segment still fits: alone in its own segment.
    const bigId = idFrom(rng)();
    shards.set(bigId, randomBuffer(rng, 100_000));
    await node.putShard(bigId, shards.get(bigId) ?? Buffer.alloc(0), { sync: true });
    shards.set(idFrom(rng)(), Buffer.alloc(0)); // and an empty one
    for (const [id, data] of [...shards].slice(-1)) await node.putShard(id, data, { sync: true });
    const files = await segmentFiles(dataDir);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const { size } = await stat(join(dataDir, 'segments', f));
      // Plus its seal record (one 40-byte entry) when the segment was sealed.
      if (size > segmentBytesMax) expect([SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 100_000, SEGMENT_HEADER_BYTES + 2 * RECORD_HEADER_BYTES + 100_000 + 16 + 40]).toContain(size);
    }
    await expectAllReadable(node, shards);
    const before = await dumpIndex(node);
    await closeNode(node);

    const { node: again } = await openNode(dataDir, { segmentBytesMax });
    expect(again.recovery.recordsIndexed).toBe(0); // a clean close left nothing to scan
    expect(again.recovery.segmentsSkipped).toBe(files.length);
    expect(await dumpIndex(again)).toEqual(before);
    await expectAllReadable(again, shards);
    const more = await writeShards(again, rng, 10, 12_000);
    await expectAllReadable(again, more);
  });

  it('rebuilds a deleted index from the segments', async () => {
    const rng = createRng(testSeed('storage-node rebuild'));
    const dataDir = await tempDir();
    const { node } = await openNode(dataDir, { segmentBytesMax: 100_000 });
    const shards = await writeShards(node, rng, 50, 20_000, false);
    // Overwriting an id keeps the latest record, live and after a rebuild alike.
    const [dupId] = [...shards.keys()];
    const newer = randomBuffer(rng, 5000);
    await node.putShard(dupId ?? '', newer, { sync: false });
    shards.set(dupId ?? '', newer);
    const before = await dumpIndex(node);
    await closeNode(node);

    await rm(join(dataDir, 'index'), { recursive: true });
    const { node: rebuilt } = await openNode(dataDir, { segmentBytesMax: 100_000 });
    expect(rebuilt.recovery.recordsIndexed).toBe(51);
    expect(rebuilt.recovery.problems).toEqual([]);
    expect(await dumpIndex(rebuilt)).toEqual(before);
    await expectAllReadable(rebuilt, shards);
  });

  describe('an index left open (commits are not fsynced: shard-index.ts)', () => {
    /** A copy of a node's data dir taken while the node runs: what a crash at that instant leaves. */
    async function crashCopy(dataDir: string): Promise<string> {
      const copy = await tempDir();
      await cp(dataDir, copy, { recursive: true });
      return copy;
    }

    it('is kept after a crash of the process (same boot id) and rebuilt after a machine restart', async () => {
      const rng = createRng(testSeed('storage-node index boot id'));
      const dataDir = await tempDir();
      const { node } = await openNode(dataDir, { segmentBytesMax: 100_000, bootId: () => 'boot-a' });
      const shards = await writeShards(node, rng, 40, 20_000, true);
      await node.sync();
      expect((await readFile(join(dataDir, 'index', 'open-boot-id'), 'utf8')).trim()).toBe('boot-a');
      const before = await dumpIndex(node);
      const crashed = await crashCopy(dataDir);

      // The process died, the machine did not: the index is trusted and only its tail is scanned.
      const sameBoot = await crashCopy(crashed);
      const { node: kept, logs: keptLogs } = await openNode(sameBoot, { segmentBytesMax: 100_000, bootId: () => 'boot-a' });
      expect(keptLogs.join('\n')).not.toMatch(/machine went down/);
      expect(kept.recovery.recordsIndexed).toBeLessThan(before.length);
      expect(await dumpIndex(kept)).toEqual(before);
      await expectAllReadable(kept, shards);

      // The machine restarted while the index was open: it is thrown away and rebuilt.
      const { node: rebuilt, logs } = await openNode(crashed, { segmentBytesMax: 100_000, bootId: () => 'boot-b' });
      expect(logs.join('\n')).toMatch(/index was open when the machine went down/);
      expect(rebuilt.recovery.recordsIndexed).toBe(before.length);
      expect(rebuilt.recovery.problems).toEqual([]);
      expect(await dumpIndex(rebuilt)).toEqual(before);
      await expectAllReadable(rebuilt, shards);
    });

    it('commits durable shards to the index in batches; a crash before the commit loses none', async () => {
      const rng = createRng(testSeed('storage-node index batches'));
      const dataDir = await tempDir();
      // No timer within this test: only a sync or a full batch commits.
      const { node } = await openNode(dataDir, { bootId: () => 'boot-a', indexCommitDelayMs: 3_600_000 });
      const few = Math.min(25, limits.indexCommitEntriesMin - 1);
      const shards = await writeShards(node, rng, few, 5000, true);
      // Durable (each append was fsynced) but served from memory until the index commits.
      expect(node.stats().indexedShards).toBe(0);
      expect(node.stats().pendingIndexEntries).toBe(few);
      await expectAllReadable(node, shards);
      const crashed = await crashCopy(dataDir);
      const { node: recovered } = await openNode(crashed, { bootId: () => 'boot-a' });
      expect(recovered.recovery.recordsIndexed).toBe(few);
      await expectAllReadable(recovered, shards);

      // A full batch commits without being asked; a sync commits the rest.
      const nextId = idFrom(rng);
      const burst = Array.from({ length: limits.indexCommitEntriesMin }, () => node.putShard(nextId(), randomBuffer(rng, 100), { sync: true }));
      await Promise.all(burst);
      await waitUntil(() => node.stats().indexedShards >= limits.indexCommitEntriesMin);
      await node.sync();
      expect(node.stats().indexedShards).toBe(few + limits.indexCommitEntriesMin);
      expect(node.stats().pendingIndexEntries).toBe(0);
    });

    it('commits a partial batch once its oldest entry is indexCommitDelayMs old', async () => {
      const rng = createRng(testSeed('storage-node index timer'));
      const { node } = await openNode(await tempDir(), { indexCommitDelayMs: 20 });
      const shards = await writeShards(node, rng, 3, 1000, true);
      await waitUntil(() => node.stats().indexedShards === 3);
      expect(node.stats().pendingIndexEntries).toBe(0);
      await expectAllReadable(node, shards);
    });

    it('is clean after a close: another boot id keeps it', async () => {
      const rng = createRng(testSeed('storage-node index clean close'));
      const dataDir = await tempDir();
      const { node } = await openNode(dataDir, { segmentBytesMax: 100_000, bootId: () => 'boot-a' });
      const shards = await writeShards(node, rng, 30, 20_000, true);
      const before = await dumpIndex(node);
      await closeNode(node);
      await expect(stat(join(dataDir, 'index', 'open-boot-id'))).rejects.toThrow(/ENOENT/);
      const { node: again, logs } = await openNode(dataDir, { segmentBytesMax: 100_000, bootId: () => 'boot-b' });
      expect(logs.join('\n')).not.toMatch(/machine went down/);
      expect(again.recovery.recordsIndexed).toBe(0);
      expect(await dumpIndex(again)).toEqual(before);
      await expectAllReadable(again, shards);
    });
  });

  it('serves unsynced shards right away and keeps them across a clean close', async () => {
    const rng = createRng(testSeed('storage-node unsynced'));
    const dataDir = await tempDir();
    const { node } = await openNode(dataDir);
    const shards = await writeShards(node, rng, 20, 5000, false);
    await expectAllReadable(node, shards);
    await closeNode(node);
    const { node: again } = await openNode(dataDir);
    await expectAllReadable(again, shards);
  });

  describe('a torn tail of the last segment', () => {
    async function setup(): Promise<{ dataDir: string; shards: Map<string, Buffer>; lastId: string; lastSeg: string; rng: Rng }> {
      const rng = createRng(testSeed('storage-node torn tail'));
      const dataDir = await tempDir();
      const { node } = await openNode(dataDir, { segmentBytesMax: 200_000 });
      const shards = await writeShards(node, rng, 30, 30_000);
      const lastId = [...shards.keys()].at(-1) ?? '';
      await closeNode(node);
      const files = await segmentFiles(dataDir);
      return { dataDir, shards, lastId, lastSeg: join(dataDir, 'segments', files.at(-1) ?? ''), rng };
    }

    for (const withIndex of [true, false]) {
      it(`is cut when the last record is cut short (index ${withIndex ? 'kept' : 'deleted'})`, async () => {
        const { dataDir, shards, lastId, lastSeg } = await setup();
        const { size } = await stat(lastSeg);
        const lastBytes = RECORD_HEADER_BYTES + (shards.get(lastId)?.length ?? 0);
        await truncate(lastSeg, size - Math.floor(lastBytes / 2));
        if (!withIndex) await rm(join(dataDir, 'index'), { recursive: true });

        const { node, logs } = await openNode(dataDir, { segmentBytesMax: 200_000 });
        expect(node.recovery.truncatedBytes).toBe(lastBytes - Math.floor(lastBytes / 2));
        expect(logs.some((l) => /truncated \d+ bytes/.test(l))).toBe(true);
        expect((await stat(lastSeg)).size).toBe(size - lastBytes);
        shards.delete(lastId);
        await expectAllReadable(node, shards);
        await expect(node.readShard(lastId, 0, 1)).rejects.toBeInstanceOf(ShardNotFoundError);
        expect((await dumpIndex(node)).length).toBe(shards.size);
      });
    }

    it('is cut when garbage follows the last record, and appends continue after it', async () => {
      const { dataDir, shards, lastSeg, rng } = await setup();
      const { size } = await stat(lastSeg);
      await appendFile(lastSeg, randomBuffer(rng, 777));
      const { node } = await openNode(dataDir, { segmentBytesMax: 200_000 });
      expect(node.recovery.truncatedBytes).toBe(777);
      expect((await stat(lastSeg)).size).toBe(size);
      await expectAllReadable(node, shards);
      const more = await writeShards(node, rng, 3, 1000);
      await closeNode(node);
      const { node: again } = await openNode(dataDir, { segmentBytesMax: 200_000 });
      expect(again.recovery.truncatedBytes).toBe(0);
      await expectAllReadable(again, new Map([...shards, ...more]));
    });

    it('is cut when only zeros follow (a crash extended the file)', async () => {
      const { dataDir, shards, lastSeg } = await setup();
      await appendFile(lastSeg, Buffer.alloc(10_000));
      await rm(join(dataDir, 'index'), { recursive: true });
      const { node } = await openNode(dataDir, { segmentBytesMax: 200_000 });
      expect(node.recovery.truncatedBytes).toBe(10_000);
      await expectAllReadable(node, shards);
    });
  });

  it('reports a flipped payload byte as corrupt, and skips that record on rebuild', async () => {
    const rng = createRng(testSeed('storage-node flipped byte'));
    const dataDir = await tempDir();
    const { node } = await openNode(dataDir);
    const shards = await writeShards(node, rng, 10, 10_000);
    const [victimId, victim] = [...shards][4] ?? [];
    const loc = node.locate(victimId ?? '');
    expect(loc && victim).toBeTruthy();
    if (!loc || !victim || !victimId) return;
    const fh = await open(join(dataDir, 'segments', segmentFileName(loc.segmentId)), 'r+');
    const at = loc.offset + RECORD_HEADER_BYTES + rng.below(victim.length);
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, at);
    byte[0] = (byte[0] ?? 0) ^ 0x10;
    await fh.write(byte, 0, 1, at);
    await fh.close();

    await expect(node.readShard(victimId, 0, victim.length)).rejects.toBeInstanceOf(ShardCorruptError);
    // A range read of undamaged bytes still verifies the whole payload.
    await expect(node.readShard(victimId, 0, 1)).rejects.toBeInstanceOf(ShardCorruptError);
    expect((await node.tryReadShard(victimId, 0, 1)).kind).toBe('corrupt');
    expect(node.stats().corruptReads).toBe(3);
    await closeNode(node);

    await rm(join(dataDir, 'index'), { recursive: true });
    const { node: rebuilt, logs } = await openNode(dataDir);
    expect(rebuilt.recovery.corruptRecords).toBe(1);
    expect(rebuilt.recovery.truncatedBytes).toBe(0); // damage in place is not a torn tail
    expect(logs.some((l) => l.includes('corrupt record'))).toBe(true);
    shards.delete(victimId);
    await expectAllReadable(rebuilt, shards);
    await expect(rebuilt.readShard(victimId, 0, 1)).rejects.toBeInstanceOf(ShardNotFoundError);
  });

  it('does not cut a sealed segment with a damaged record', async () => {
    const rng = createRng(testSeed('storage-node sealed damage'));
    const dataDir = await tempDir();
    const { node } = await openNode(dataDir, { segmentBytesMax: 50_000 });
    const shards = await writeShards(node, rng, 45, 8_000);
    await closeNode(node);
    const files = await segmentFiles(dataDir);
    expect(files.length).toBeGreaterThan(2);
    const first = join(dataDir, 'segments', files[0] ?? '');
    const { size } = await stat(first);
    // Zero a record header in the middle of a sealed segment.
    const fh = await open(first, 'r+');
    await fh.write(Buffer.alloc(8), 0, 8, SEGMENT_HEADER_BYTES);
    await fh.close();
    await rm(join(dataDir, 'index'), { recursive: true });

    // With its seal record intact, the index comes from the seal (no payload is read): every
    // record is indexed, and the damaged one is found corrupt when read (or scrubbed).
    const { node: sealed } = await openNode(dataDir, { segmentBytesMax: 50_000 });
    expect(sealed.recovery.segmentsFromSeal).toBeGreaterThan(0);
    expect(sealed.recovery.problems).toEqual([]);
    expect((await dumpIndex(sealed)).length).toBe(shards.size);
    const firstShard = (await dumpIndex(sealed)).find((l) => l.segmentId === 1 && l.offset === SEGMENT_HEADER_BYTES);
    expect(firstShard).toBeDefined();
    expect((await sealed.tryReadShard(firstShard?.shardId ?? '', 0, 0)).kind).toBe('corrupt');
    await closeNode(sealed);

    // Without it (its tail zeroed too), the segment is scanned and the damage stops the scan.
    const fh2 = await open(first, 'r+');
    await fh2.write(Buffer.alloc(8), 0, 8, size - 8);
    await fh2.close();
    await rm(join(dataDir, 'index'), { recursive: true });

    const { node: again } = await openNode(dataDir, { segmentBytesMax: 50_000 });
    expect(again.recovery.truncatedBytes).toBe(0);
    expect(again.recovery.problems.some((p) => p.includes('rest of the segment not indexed'))).toBe(true);
    expect((await stat(first)).size).toBe(size);
    const lost = new Set((await dumpIndex(again)).map((l) => l.shardId));
    let missing = 0;
    for (const [id, data] of shards) {
      if (lost.has(id)) expect((await again.readShard(id, 0, data.length)).equals(data)).toBe(true);
      else missing++;
    }
    expect(missing).toBeGreaterThan(0); // the damaged segment's records
    expect(missing).toBeLessThan(shards.size);
  });

  it('keeps a bounded number of read handles however many segments are read', async () => {
    const rng = createRng(testSeed('storage-node read handles'));
    const { node } = await openNode(await tempDir(), { segmentBytesMax: 4096 });
    // 2500-byte shards: one per 4 KiB segment.
    const shards = new Map<string, Buffer>();
    for (let i = 0; i < limits.segmentReadFdsMax + 20; i++) shards.set(idFrom(rng)(), randomBuffer(rng, 2500));
    for (const [id, data] of shards) await node.putShard(id, data, { sync: false });
    expect(node.stats().segmentsCreated).toBeGreaterThan(limits.segmentReadFdsMax);
    await expectAllReadable(node, shards);
    expect(node.stats().readHandlesOpen).toBeLessThanOrEqual(limits.segmentReadFdsMax);
  });

  it('refuses work after close', async () => {
    const { node } = await openNode(await tempDir());
    await closeNode(node);
    await expect(node.putShard('1'.repeat(32), Buffer.alloc(1), { sync: true })).rejects.toBeInstanceOf(NodeClosedError);
  });

  it('refuses a data dir of another node', async () => {
    const dataDir = await tempDir();
    const { node } = await openNode(dataDir);
    await node.putShard('2'.repeat(32), Buffer.alloc(10), { sync: true });
    await closeNode(node);
    await expect(StorageNode.open({ nodeId: 'n2', dataDir, log: () => {} })).rejects.toThrow(/belongs to node n1/);
  });
});
