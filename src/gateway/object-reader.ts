/**
 * Streams a byte range of an object from its shards. Only the shards overlapping the range are
 * read; the next shard is fetched while the current one is being sent (one ahead, bounded), and
 * each read falls back to the next node holding a copy when one fails.
 */
import type { ShardRef } from '../events/types.ts';
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
  let lastErr: unknown = new Error(`shard ${shard.shardId} has no known copy`);
  for (const nodeId of shard.nodes) {
    const store = placement.forNode(nodeId);
    if (!store) continue;
    try {
      const data = await store.readShard(shard.shardId, offset, length);
      assert(data.length === length, `shard ${shard.shardId} returned ${data.length} bytes, wanted ${length}`);
      return data;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}
