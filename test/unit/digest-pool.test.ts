/**
 * The digest offload: shared buffers stay within their byte limit, worker digests equal the
 * inline ones, and writeBody gives the same shards, crc32s and digests with and without the pool.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBody } from '../../src/gateway/object-writer.ts';
import type { ShardPlacement, ShardStoreLike } from '../../src/gateway/types.ts';
import { checksumOf } from '../../src/lib/checksums.ts';
import { DigestPool } from '../../src/lib/digest-pool.ts';
import { newShardId } from '../../src/lib/ids.ts';
import { ReadBufferPool, releaseReadBuffer } from '../../src/lib/read-buffers.ts';
import { SharedBufferPool, copyIntoShared } from '../../src/lib/shared-buffers.ts';
import { ShardCorruptError } from '../../src/storage/errors.ts';
import { StorageNode } from '../../src/storage/node.ts';
import { RECORD_HEADER_BYTES, segmentFileName } from '../../src/storage/segment-format.ts';

const seed = Number(process.env['STRATA_TEST_SEED'] ?? Date.now() % 1_000_000);
console.log(`[seed] digest-pool: ${seed} (replay with STRATA_TEST_SEED=${seed})`);

function bytes(n: number, s: number): Buffer {
  const b = Buffer.alloc(n);
  let x = s >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('SharedBufferPool', () => {
  it('never holds more than its limit and serves waiters in order as buffers come back', async () => {
    const kib = 1024;
    const pool = new SharedBufferPool(256 * kib, 128 * kib);
    const a = await pool.acquire(100 * kib); // class 128 KiB
    const b = await pool.acquire(128 * kib);
    expect(a.buf.length).toBe(128 * kib);
    expect(a.buf.buffer).toBeInstanceOf(SharedArrayBuffer);
    const order: string[] = [];
    const c = pool.acquire(64 * kib).then((x) => (order.push('c'), x));
    const d = pool.acquire(10 * kib).then((x) => (order.push('d'), x));
    await Promise.resolve();
    expect(pool.stats()).toEqual({ allocatedBytes: 256 * kib, inUse: 2, waiting: 2 });
    pool.release(a); // dropped (other class) to make room for c's 64 KiB and then d's
    const [cb, db] = await Promise.all([c, d]);
    expect(order).toEqual(['c', 'd']);
    expect(cb.buf.length).toBe(64 * kib);
    expect(db.buf.length).toBe(64 * kib);
    expect(pool.stats().allocatedBytes).toBeLessThanOrEqual(256 * kib);
    pool.release(b);
    pool.release(cb);
    pool.release(db);
    pool.close();
  });
});

describe('copyIntoShared', () => {
  it('copies exactly the source at any offset of a shared buffer, touching nothing around it', () => {
    const dst = Buffer.from(new SharedArrayBuffer(4096));
    const src = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 1) & 0xff));
    for (const [offset, length] of [[0, 1000], [3, 999], [5, 1], [3096, 1000], [17, 0]] as const) {
      dst.fill(0xee);
      copyIntoShared(src.subarray(0, length), dst, offset);
      expect(dst.subarray(offset, offset + length).equals(src.subarray(0, length)), `at ${offset}`).toBe(true);
      expect(dst.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
      expect(dst.subarray(offset + length).every((b) => b === 0xee)).toBe(true);
    }
    expect(() => copyIntoShared(src, dst, 3097)).toThrow(/beyond/);
  });
});

describe('ReadBufferPool', () => {
  it('lends shared buffers up to its limit, reuses one given back, and ignores a second or foreign release', () => {
    const kib = 1024;
    const pool = new ReadBufferPool(256 * kib, 200 * kib);
    const a = pool.tryLend(100 * kib + 48); // class 128 KiB
    const b = pool.tryLend(128 * kib);
    expect(a?.length).toBe(100 * kib + 48);
    expect(a?.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(pool.tryLend(64 * kib)).toBeUndefined(); // at the limit: the caller allocates
    expect(pool.tryLend(300 * kib)).toBeUndefined(); // larger than any pooled buffer
    if (!a || !b) throw new Error('lend failed');
    releaseReadBuffer(a.subarray(5, 10)); // any view of it
    releaseReadBuffer(a);
    releaseReadBuffer(Buffer.alloc(10));
    const c = pool.tryLend(90 * kib);
    expect(c?.buffer).toBe(a.buffer);
    expect(pool.tryLend(1)).toBeUndefined();
    expect(pool.stats()).toEqual({ allocatedBytes: 256 * kib, freeBuffers: 0 });
  });
});

describe('DigestPool', () => {
  let pool: DigestPool;
  let single: DigestPool;
  beforeAll(async () => {
    pool = await DigestPool.start({ workers: 2, bufferBytesMax: 32 * 1024 * 1024 });
    single = await DigestPool.start({ workers: 1, bufferBytesMax: 32 * 1024 * 1024 });
  }, 60_000);
  afterAll(async () => {
    await pool.stop();
    await single.stop();
  });

  it.each([1, 2])('answers the MD5, SHA-256, flexible checksum and per-shard crc32 of a body fed in pieces (%i workers)', async (workers) => {
    const p = workers === 1 ? single : pool;
    const body = bytes(3 * 1024 * 1024 + 17, seed);
    const sab = Buffer.from(new SharedArrayBuffer(body.length));
    body.copy(sab);
    const s = p.openStream({ sha256: true, checksum: 'CRC32C' });
    const cutAt = 1024 * 1024 + 5;
    s.update(sab.subarray(0, 1000));
    s.update(sab.subarray(1000, cutAt));
    const cut = s.cut();
    const first = await cut.crc32;
    await cut.hashed;
    s.update(sab.subarray(cutAt, 2 * 1024 * 1024));
    const finished = s.finish(sab.subarray(2 * 1024 * 1024));
    const lastShardCrc32 = await finished.crc32;
    const digests = await finished.digests;
    expect(first).toBe(crc32(body.subarray(0, cutAt)));
    expect(lastShardCrc32).toBe(crc32(body.subarray(cutAt)));
    expect(digests.md5.equals(createHash('md5').update(body).digest())).toBe(true);
    expect(digests.sha256Hex).toBe(createHash('sha256').update(body).digest('hex'));
    expect(digests.checksum?.equals(checksumOf('CRC32C', body))).toBe(true);
  });

  it.each([1, 2])('a finish with no bytes since the last cut answers the crc32 of nothing, and a dropped stream leaves the others right (%i workers)', async (workers) => {
    const p = workers === 1 ? single : pool;
    const body = bytes(64 * 1024, seed + 5);
    const sab = Buffer.from(new SharedArrayBuffer(body.length));
    body.copy(sab);
    const dropped = p.openStream({ sha256: false, checksum: undefined });
    dropped.update(sab);
    dropped.drop();
    const s = p.openStream({ sha256: false, checksum: undefined });
    s.update(sab);
    expect(await s.cut().crc32).toBe(crc32(body));
    const f = s.finish();
    expect(await f.crc32).toBe(0);
    expect((await f.digests).md5.equals(createHash('md5').update(body).digest())).toBe(true);
  });

  it('writeBody gives the same shards and digests with the pool as without', async () => {
    const p = pool;
    const body = bytes(2_500_000, seed + 1);
    const run = async (withPool: boolean): Promise<{ etag: string; checksum: string | undefined; shards: [number, number, number][]; stored: Buffer[] }> => {
      const stored = new Map<string, Buffer>();
      const store: ShardStoreLike = {
        nodeId: 'n1',
        putShard: async (shardId, data, opts) => {
          const b = Buffer.concat(data);
          stored.set(shardId, b);
          // The writer's crc32OfData must be the crc32 of exactly these bytes.
          if (opts.crc32OfData !== undefined) expect(opts.crc32OfData).toBe(crc32(b));
          return { shardId, nodeId: 'n1', size: b.length, crc32: crc32(b) };
        },
        readShard: async () => Buffer.alloc(0),
      };
      const placement: ShardPlacement = { forWrite: () => store, forNode: () => store, shardBytes: 1024 * 1024 };
      const pass = new PassThrough();
      // Uneven chunks, so chunk and shard boundaries do not line up.
      for (let at = 0, i = 0; at < body.length; i++) {
        const n = 1000 + ((seed + i * 7919) % 90_000);
        pass.write(body.subarray(at, at + n));
        at += n;
      }
      pass.end();
      const r = await writeBody(
        placement,
        { body: pass, expectedLength: body.length, contentMd5: createHash('md5').update(body).digest(), sha256Hex: undefined, checksum: undefined, defaultChecksum: 'CRC64NVME' },
        withPool ? p : undefined,
      );
      if (!r.ok) throw new Error(`writeBody failed: ${r.reason}`);
      const shards = r.value.shards.map((s): [number, number, number] => [s.objectOffset, s.length, s.crc32]);
      return { etag: r.value.md5Hex, checksum: r.value.checksum?.value, shards, stored: r.value.shards.map((s) => stored.get(s.shardId) ?? Buffer.alloc(0)) };
    };
    const inline = await run(false);
    const pooled = await run(true);
    expect(pooled.etag).toBe(inline.etag);
    expect(pooled.checksum).toBe(inline.checksum);
    expect(pooled.shards).toEqual(inline.shards);
    expect(Buffer.concat(pooled.stored).equals(body)).toBe(true);
    expect(p.buffers.stats().inUse).toBe(0);
  });

  it('reuses a shard buffer only once its bytes are hashed for the digests, not just for the crc32', async () => {
    // Many small shards through a pool of sixteen buffers, each reused soon after its write. The
    // crc32 is known at once (computed on the event loop) while MD5 trails on its worker, so a
    // buffer given back on the write alone is refilled while MD5 still has to read it, and the
    // ETag comes out wrong.
    const small = await DigestPool.start({ workers: 2, bufferBytesMax: 4 * 1024 * 1024 });
    try {
      const body = bytes(24 * 1024 * 1024, seed + 6);
      const store: ShardStoreLike = {
        nodeId: 'n1',
        putShard: async (shardId, data, opts) => ({ shardId, nodeId: 'n1', size: Buffer.concat(data).length, crc32: opts.crc32OfData ?? 0 }),
        readShard: async () => Buffer.alloc(0),
      };
      const placement: ShardPlacement = { forWrite: () => store, forNode: () => store, shardBytes: 256 * 1024 };
      const pass = new PassThrough();
      for (let at = 0; at < body.length; at += 64 * 1024) pass.write(body.subarray(at, at + 64 * 1024));
      pass.end();
      const r = await writeBody(placement, { body: pass, expectedLength: body.length, contentMd5: undefined, sha256Hex: undefined, checksum: undefined, defaultChecksum: 'CRC32' }, small);
      if (!r.ok) throw new Error(`writeBody failed: ${r.reason}`);
      expect(r.value.md5Hex).toBe(createHash('md5').update(body).digest('hex'));
      expect(r.value.checksum?.value).toBe(checksumOf('CRC32', body).toString('base64'));
      expect(r.value.shards.map((s) => s.crc32)).toEqual(r.value.shards.map((s) => crc32(body.subarray(s.objectOffset, s.objectOffset + s.length))));
      expect(small.buffers.stats().inUse).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it('a body shorter than declared fails without keeping a buffer', async () => {
    const pass = new PassThrough();
    pass.end(bytes(300_000, seed + 2));
    const store: ShardStoreLike = {
      nodeId: 'n1',
      putShard: async (shardId, data) => ({ shardId, nodeId: 'n1', size: Buffer.concat(data).length, crc32: 0 }),
      readShard: async () => Buffer.alloc(0),
    };
    const placement: ShardPlacement = { forWrite: () => store, forNode: () => store, shardBytes: 1024 * 1024 };
    const r = await writeBody(placement, { body: pass, expectedLength: 400_000, contentMd5: undefined, sha256Hex: undefined, checksum: undefined, defaultChecksum: undefined }, pool);
    expect(r).toMatchObject({ ok: false, reason: 'IncompleteBody' });
    expect(pool.buffers.stats().inUse).toBe(0);
  });

  it('a storage node reading into the pool\'s buffers returns verified bytes and still finds a flipped byte', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-digest-node-'));
    try {
      const node = await StorageNode.open({ nodeId: 'n1', dataDir, log: () => {}, readBuffers: pool });
      try {
        const big = bytes(1024 * 1024 + 3, seed + 3); // read into a pooled buffer
        const small = bytes(5000, seed + 4); // read into a buffer of its own
        const bigId = newShardId();
        const smallId = newShardId();
        await node.putShard(bigId, [big], { sync: true });
        await node.putShard(smallId, [small], { sync: true });
        expect((await node.readShard(bigId, 0, big.length)).equals(big)).toBe(true);
        expect((await node.readShard(bigId, 10, 1000)).equals(big.subarray(10, 1010))).toBe(true);
        expect((await node.readShard(smallId, 0, small.length)).equals(small)).toBe(true);
        const loc = node.locate(bigId);
        if (!loc) throw new Error('big shard not found');
        const fh = await open(join(dataDir, 'segments', segmentFileName(loc.segmentId)), 'r+');
        const at = loc.offset + RECORD_HEADER_BYTES + (seed % big.length);
        const byte = Buffer.alloc(1);
        await fh.read(byte, 0, 1, at);
        byte[0] = (byte[0] ?? 0) ^ 0x04;
        await fh.write(byte, 0, 1, at);
        await fh.close();
        await expect(node.readShard(bigId, 0, big.length)).rejects.toBeInstanceOf(ShardCorruptError);
        await expect(node.readShard(bigId, 0, 1)).rejects.toBeInstanceOf(ShardCorruptError);
        expect((await node.readShard(smallId, 0, small.length)).equals(small)).toBe(true);
      } finally {
        await node.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
