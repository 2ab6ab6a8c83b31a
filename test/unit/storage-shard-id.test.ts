import { describe, expect, it } from 'vitest';
import { isValidShardId, newShardId, shardIdFromBytes, shardIdToBytes } from '../../src/storage/shard-id.ts';
import { writeU64LE } from '../../src/storage/segment-format.ts';

describe('shard ids', () => {
  it('are valid, distinct and round-trip through bytes across refills of the random block', () => {
    const seen = new Set<string>();
    // 256 ids per block: 2,000 ids cross several refills.
    for (let i = 0; i < 2000; i++) {
      const id = newShardId();
      expect(isValidShardId(id)).toBe(true);
      expect(shardIdFromBytes(shardIdToBytes(id))).toBe(id);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });

  it('take a deterministic random source when one is given', () => {
    const id = newShardId((n) => Buffer.alloc(n, 0xab));
    expect(id).toBe('ab'.repeat(16));
  });
});

describe('writeU64LE', () => {
  it('writes safe integers as BigInt would', () => {
    for (const n of [0, 1, 0xffff_ffff, 0x1_0000_0000, 1_700_000_000_123, Number.MAX_SAFE_INTEGER]) {
      const a = Buffer.alloc(8);
      const b = Buffer.alloc(8);
      writeU64LE(a, n, 0);
      b.writeBigUInt64LE(BigInt(n));
      expect(a.equals(b), String(n)).toBe(true);
    }
  });
});
