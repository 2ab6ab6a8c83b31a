/**
 * The storage node index: one LMDB environment under `<dataDir>/index` mapping shard id to where
 * its record lives, plus per-segment progress. It is a cache of the segments: it is only written
 * for records an fsync has already made durable, so it never points at bytes a crash can take
 * away, and it can always be rebuilt by scanning the segments (recovery.ts).
 *
 * Named databases and their values (integers little-endian; keys as noted):
 *
 *   shards    key: shardId (16 bytes)
 *             value, 40 bytes:
 *               off size field
 *                 0    1 formatVersion u8 = 1
 *                 1    3 reserved, zero
 *                 4    4 payloadBytes u32
 *                 8    8 segmentId u64
 *                16    8 offset u64 (of the record header in the segment)
 *                24    8 writtenAtMs u64
 *                32    4 payloadCrc32 u32
 *                36    4 reserved, zero
 *
 *   segments  key: segmentId u64 big-endian (so keys sort like ids)
 *             value, 16 bytes:
 *               off size field
 *                 0    1 formatVersion u8 = 1
 *                 1    1 flags u8 (bit 0: sealed)
 *                 2    6 reserved, zero
 *                 8    8 indexedUpTo u64 (every record below this offset is in `shards`)
 *
 *   meta      key "node": JSON {"v":1,"nodeId":"…"} (refuses to open another node's index)
 *
 * Commits are not fsynced (LMDB noSync, guarded by a boot id marker: lib/volatile-lmdb.ts): the
 * index is a cache, and an fsync per group commit doubled the fsyncs of every write. An index
 * found open after a machine restart is thrown away and rebuilt from the segments (recovery.ts;
 * seal records make that a read of each sealed segment's tail).
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../lib/assert.ts';
import { yieldingEvery } from '../lib/event-loop.ts';
import { limits } from '../lib/limits.ts';
import { prepareVolatileEnv, type VolatileEnv, type VolatileOpenOptions } from '../lib/volatile-lmdb.ts';
import { SHARD_ID_BYTES, writeU64LE } from './segment-format.ts';

export const INDEX_FORMAT_VERSION = 1;
const ENTRY_BYTES = 40;
const SEGMENT_META_BYTES = 16;

export interface IndexEntry {
  readonly segmentId: number;
  readonly offset: number;
  readonly payloadBytes: number;
  readonly payloadCrc32: number;
  readonly writtenAtMs: number;
}

export interface SegmentMeta {
  readonly indexedUpTo: number;
  readonly sealed: boolean;
}

export interface IndexBatch {
  readonly entries: readonly (readonly [shardId: Buffer, entry: IndexEntry])[];
  readonly segments: readonly (readonly [segmentId: number, meta: SegmentMeta])[];
}

export function encodeIndexEntry(entry: IndexEntry): Buffer {
  assert(Number.isSafeInteger(entry.segmentId) && entry.segmentId >= 1, 'bad segment id');
  assert(Number.isSafeInteger(entry.offset) && entry.offset >= 0, 'bad offset');
  assert(Number.isInteger(entry.payloadBytes) && entry.payloadBytes >= 0 && entry.payloadBytes <= 0xffff_ffff);
  assert(Number.isInteger(entry.payloadCrc32) && entry.payloadCrc32 >= 0 && entry.payloadCrc32 <= 0xffff_ffff);
  assert(Number.isSafeInteger(entry.writtenAtMs) && entry.writtenAtMs >= 0, 'bad writtenAtMs');
  // A slice of Node's shared pool, zeroed here: Buffer.alloc gives every entry an ArrayBuffer of
  // its own, and LMDB then looks up each one's address.
  const buf = Buffer.allocUnsafe(ENTRY_BYTES).fill(0);
  buf.writeUInt8(INDEX_FORMAT_VERSION, 0);
  buf.writeUInt32LE(entry.payloadBytes, 4);
  writeU64LE(buf, entry.segmentId, 8);
  writeU64LE(buf, entry.offset, 16);
  writeU64LE(buf, entry.writtenAtMs, 24);
  buf.writeUInt32LE(entry.payloadCrc32, 32);
  return buf;
}

/** The index is ours and checked on write, so a value we cannot read is a bug or a newer format. */
export function decodeIndexEntry(buf: Uint8Array): IndexEntry {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  assert(b.length === ENTRY_BYTES && b.readUInt8(0) === INDEX_FORMAT_VERSION, 'unknown index entry format');
  return {
    payloadBytes: b.readUInt32LE(4),
    segmentId: safeNumber(b.readBigUInt64LE(8)),
    offset: safeNumber(b.readBigUInt64LE(16)),
    writtenAtMs: safeNumber(b.readBigUInt64LE(24)),
    payloadCrc32: b.readUInt32LE(32),
  };
}

export function encodeSegmentMeta(meta: SegmentMeta): Buffer {
  assert(Number.isSafeInteger(meta.indexedUpTo) && meta.indexedUpTo >= 0, 'bad indexedUpTo');
  const buf = Buffer.alloc(SEGMENT_META_BYTES);
  buf.writeUInt8(INDEX_FORMAT_VERSION, 0);
  buf.writeUInt8(meta.sealed ? 1 : 0, 1);
  buf.writeBigUInt64LE(BigInt(meta.indexedUpTo), 8);
  return buf;
}

export function decodeSegmentMeta(buf: Uint8Array): SegmentMeta {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  assert(b.length === SEGMENT_META_BYTES && b.readUInt8(0) === INDEX_FORMAT_VERSION, 'unknown segment meta format');
  return { sealed: (b.readUInt8(1) & 1) === 1, indexedUpTo: safeNumber(b.readBigUInt64LE(8)) };
}

function segmentKey(segmentId: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(segmentId));
  return key;
}

function safeNumber(n: bigint): number {
  assert(n <= BigInt(Number.MAX_SAFE_INTEGER), 'u64 beyond safe integer range');
  return Number(n);
}

export class ShardIndex {
  private constructor(
    private readonly root: RootDatabase,
    private readonly shards: Database<Buffer, Buffer>,
    private readonly segmentsDb: Database<Buffer, Buffer>,
    private readonly env: VolatileEnv,
  ) {}

  /** The index was found open after a machine restart and thrown away (it is rebuilt). */
  get discardedAfterMachineRestart(): boolean {
    return this.env.discardedAfterMachineRestart;
  }

  /** Opens (creating if needed) the index at `path`; refuses an index written by another node. */
  static open(path: string, nodeId: string, opts: VolatileOpenOptions = {}): ShardIndex {
    const env = prepareVolatileEnv(path, opts);
    const root = open({ path, compression: false, noSync: env.noSync });
    const shards = root.openDB<Buffer, Buffer>({ name: 'shards', keyEncoding: 'binary', encoding: 'binary' });
    const segments = root.openDB<Buffer, Buffer>({ name: 'segments', keyEncoding: 'binary', encoding: 'binary' });
    const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string' });
    const stored = meta.get('node');
    if (stored === undefined) {
      meta.putSync('node', JSON.stringify({ v: INDEX_FORMAT_VERSION, nodeId }));
    } else {
      const parsed = JSON.parse(stored) as { v?: unknown; nodeId?: unknown };
      if (parsed.v !== INDEX_FORMAT_VERSION || parsed.nodeId !== nodeId) {
        throw new Error(`index at ${path} belongs to node ${String(parsed.nodeId)} (format ${String(parsed.v)}), not ${nodeId}`);
      }
    }
    return new ShardIndex(root, shards, segments, env);
  }

  get(shardId: Buffer): IndexEntry | undefined {
    assert(shardId.length === SHARD_ID_BYTES, 'shard id must be 16 bytes');
    const value = this.shards.get(shardId);
    return value === undefined ? undefined : decodeIndexEntry(value);
  }

  segmentMeta(segmentId: number): SegmentMeta | undefined {
    const value = this.segmentsDb.get(segmentKey(segmentId));
    return value === undefined ? undefined : decodeSegmentMeta(value);
  }

  /** Writes a batch in one LMDB transaction; resolves when it is committed. */
  async commit(batch: IndexBatch): Promise<void> {
    const entries = batch.entries.map(([id, entry]) => [id, encodeIndexEntry(entry)] as const);
    const segments = batch.segments.map(([id, meta]) => [segmentKey(id), encodeSegmentMeta(meta)] as const);
    // `batch` groups the puts into one asynchronous transaction, so a segment's indexedUpTo is
    // never committed without the entries below it.
    const ok = await this.root.batch(() => {
      for (const [key, value] of entries) void this.shards.put(key, value);
      for (const [key, value] of segments) void this.segmentsDb.put(key, value);
    });
    assert(ok, 'index batch was not committed');
  }

  /** Removes entries pointing at `segmentId` at or beyond `offset`. Scans the whole index: rare. */
  async removeEntriesFrom(segmentId: number, offset: number): Promise<number> {
    const doomed: Buffer[] = [];
    for (const [shardId, entry] of this.entries()) {
      if (entry.segmentId === segmentId && entry.offset >= offset) doomed.push(shardId);
    }
    if (doomed.length > 0) {
      await this.root.batch(() => {
        for (const key of doomed) void this.shards.remove(key);
      });
    }
    return doomed.length;
  }

  /** Removes a shard's entry if it still points at `segmentId`/`offset`; false if it moved or is gone. */
  async removeEntry(shardId: Buffer, segmentId: number, offset: number): Promise<boolean> {
    return this.root.transaction(() => {
      const cur = this.get(shardId);
      if (cur === undefined || cur.segmentId !== segmentId || cur.offset !== offset) return false;
      void this.shards.removeSync(shardId);
      return true;
    });
  }

  /**
   * Forgets deleted segments: their meta and every entry still pointing into them, in one
   * transaction after one scan of the index. The scan yields to the event loop, and an entry it
   * found may be superseded meanwhile (the same shard id written again, into a live segment), so
   * the transaction removes an entry only if it still points into a forgotten segment.
   */
  async forgetSegments(segmentIds: readonly number[]): Promise<number> {
    if (segmentIds.length === 0) return 0;
    const ids = new Set(segmentIds);
    const doomed: Buffer[] = [];
    for await (const [shardId, entry] of yieldingEvery(this.entries(), limits.compactionScanYieldEvery)) if (ids.has(entry.segmentId)) doomed.push(shardId);
    return this.root.transaction(() => {
      let removed = 0;
      for (const key of doomed) {
        const cur = this.get(key);
        if (cur === undefined || !ids.has(cur.segmentId)) continue;
        void this.shards.removeSync(key);
        removed++;
      }
      for (const segmentId of ids) void this.segmentsDb.removeSync(segmentKey(segmentId));
      return removed;
    });
  }

  /** Snapshot iteration over all entries, in shard id order. */
  *entries(): Generator<readonly [shardId: Buffer, entry: IndexEntry]> {
    for (const { key, value } of this.shards.getRange()) {
      yield [Buffer.from(key), decodeIndexEntry(value)] as const;
    }
  }

  *segments(): Generator<readonly [segmentId: number, meta: SegmentMeta]> {
    for (const { key, value } of this.segmentsDb.getRange()) {
      yield [safeNumber(Buffer.from(key).readBigUInt64BE(0)), decodeSegmentMeta(value)] as const;
    }
  }

  count(): number {
    return this.shards.getCount();
  }

  /** Resolves when everything committed so far is flushed to disk. */
  async flushed(): Promise<void> {
    await this.root.flushed;
  }

  async close(): Promise<void> {
    await this.root.close();
    this.env.closed();
  }
}
