/**
 * ShardIndex.forgetSegments scans the whole index yielding to the event loop, then removes what
 * it found in one transaction: an entry rewritten meanwhile into a live segment (the same shard
 * id written again) must survive, and everything still pointing into the forgotten segments goes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShardIndex, type IndexEntry } from '../../src/storage/shard-index.ts';

function id(n: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(n, 12);
  return b;
}

function entry(segmentId: number, offset: number): IndexEntry {
  return { segmentId, offset, payloadBytes: 10, payloadCrc32: 0, writtenAtMs: 1 };
}

describe('ShardIndex.forgetSegments', () => {
  it('forgets the dropped segments\' entries but keeps one rewritten elsewhere while its scan yielded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-index-'));
    const index = ShardIndex.open(join(dir, 'index'), 'n1');
    try {
      // Shard 0 sorts first, so the scan finds it in segment 5 at once; 20,000 entries of a kept
      // segment make the scan yield many times after that.
      const entries: [Buffer, IndexEntry][] = [[id(0), entry(5, 64)], [id(1), entry(5, 128)], [id(2), entry(6, 64)]];
      for (let i = 0; i < 20_000; i++) entries.push([id(10 + i), entry(9, 64 + i * 100)]);
      await index.commit({ entries, segments: [[5, { sealed: true, indexedUpTo: 1000 }], [6, { sealed: true, indexedUpTo: 1000 }], [9, { sealed: true, indexedUpTo: 10_000_000 }]] });

      const forgetting = index.forgetSegments([5, 6]);
      // Shard 0 written again, into segment 9, while the scan is under way.
      await index.commit({ entries: [[id(0), entry(9, 9_000_000)]], segments: [] });
      const removed = await forgetting;

      expect(index.get(id(0))).toEqual(entry(9, 9_000_000));
      expect(index.get(id(1))).toBeUndefined();
      expect(index.get(id(2))).toBeUndefined();
      expect(index.get(id(10))).toEqual(entry(9, 64));
      expect(index.segmentMeta(5)).toBeUndefined();
      expect(index.segmentMeta(6)).toBeUndefined();
      expect(index.segmentMeta(9)).toBeDefined();
      expect(removed).toBe(2);
    } finally {
      await index.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
