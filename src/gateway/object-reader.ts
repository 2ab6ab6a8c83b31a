/**
 * Streams a byte range of an object from its shards. Only the shards overlapping the range are
 * read; the next shard is fetched while the current one is being sent (one ahead, bounded), and
 * each read goes to the first healthy replica and falls back to the next on an error, a timeout
 * (limits.replicaReadTimeoutMs) or a checksum mismatch; what it returns is verified.
 */
import { crc32 } from '../lib/checksums.ts';
import type { ShardRef } from '../events/types.ts';
import { limits } from '../lib/limits.ts';
import { assert } from '../lib/assert.ts';
import type { ObjectRecord } from '../model/records.ts';
import type { ShardPlacement } from './types.ts';

/** Yields the bytes [start, end] (inclusive) of the object. */
export async function* readObjectRange(placement: ShardPlacement, record: ObjectRecord, start: number, end: number): AsyncGenerator<Buffer> {
  if (end < start) return;
  assert(start >= 0 && end < record.size, 'range within object');
  if (record.inlineData) {
    yield Buffer.from(record.inlineData.buffer, record.inlineData.byteOffset, record.inlineData.byteLength).subarray(start, end + 1);
    return;
  }
  const pieces = record.shards
    .filter((s) => s.objectOffset + s.length > start && s.objectOffset <= end)
    .map((s) => {
      const from = Math.max(start, s.objectOffset) - s.objectOffset;
      const to = Math.min(end, s.objectOffset + s.length - 1) - s.objectOffset;
      return { shard: s, offset: from, length: to - from + 1 };
    });
  let next: Promise<Buffer> | undefined;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    assert(p, 'piece');
    const current = next ?? readPiece(placement, p.shard, p.offset, p.length);
    const after = pieces[i + 1];
    next = after ? readPiece(placement, after.shard, after.offset, after.length) : undefined;
    // Keep the prefetch from becoming an unhandled rejection if the consumer stops early.
    next?.catch(() => undefined);
    yield await current;
  }
}

async function readPiece(placement: ShardPlacement, shard: ShardRef, offset: number, length: number): Promise<Buffer> {
  // Not an Error made up front: capturing its stack cost ~4% of a 1 MiB GET's event-loop time.
  let lastErr: unknown;
  const stores = placement.readOrder?.(shard.shardId, shard.nodes) ?? shard.nodes.map((id) => placement.forNode(id)).filter((s) => s !== undefined);
  // A whole-shard read is checked against the crc32 the event recorded; a partial one was checked
  // by the node against the record's crc32 before slicing (and in transit by the NATS client).
  const whole = offset === 0 && length === shard.length && shard.crc32 !== 0;
  for (const store of stores) {
    try {
      const read = store.readShardVerified
        ? store.readShardVerified(shard.shardId, offset, length)
        : store.readShard(shard.shardId, offset, length).then((data) => ({ data, crc32: undefined }));
      const { data, crc32: checkedCrc32 } = await withTimeout(read, limits.replicaReadTimeoutMs, store.nodeId);
      if (data.length !== length) throw new Error(`node ${store.nodeId} returned ${data.length} bytes of shard ${shard.shardId}, wanted ${length}`);
      // A store that checked the bytes against a crc32 in this process names it: comparing the
      // numbers is as strong as hashing again, without a second pass over the bytes.
      if (whole && (checkedCrc32 ?? crc32(data)) !== shard.crc32) throw new Error(`node ${store.nodeId} returned shard ${shard.shardId} with a bad checksum`);
      return data;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr ?? new Error(`shard ${shard.shardId} has no known copy`);
}

/** Rejects after `ms`, so a hung replica costs a bounded wait before the next one is tried. */
async function withTimeout<T>(p: Promise<T>, ms: number, nodeId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`node ${nodeId}: read timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
    p.catch(() => undefined);
  }
}
