import { describe, expect, it } from 'vitest';
import { isValidShardId, newShardId, shardIdFromBytes, shardIdToBytes } from '../../src/storage/shard-id.ts';
import { writeU64LE } from '../../src/storage/segment-format.ts';
import { newShardId as idAt } from '../../src/lib/ids.ts';

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

  it('start with their creation time in ms, so ids made later sort after earlier ones', () => {
    const a = idAt(1_700_000_000_000);
    const b = idAt(1_700_000_000_001);
    expect(a.slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    expect(Buffer.from(a, 'hex').compare(Buffer.from(b, 'hex'))).toBe(-1);
    // The rest is random: two ids of one millisecond differ.
    expect(idAt(5).slice(12)).not.toBe(idAt(5).slice(12));
    const now = Date.now();
    const t = Number.parseInt(newShardId().slice(0, 12), 16);
    expect(t).toBeGreaterThanOrEqual(now);
    expect(t).toBeLessThan(now + 60_000);
  });

  it('are 32 lowercase hex characters, nothing else', () => {
    for (const bad of ['', 'ab'.repeat(15), 'ab'.repeat(17), 'AB'.repeat(16), `${'0'.repeat(31)}g`, `${'0'.repeat(31)}/`, `${'0'.repeat(31)}:`, ` ${'0'.repeat(31)}`]) {
      expect(isValidShardId(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(isValidShardId('0123456789abcdef'.repeat(2))).toBe(true);
    for (const bad of ['', 'AB'.repeat(16), `${'0'.repeat(31)}g`, '0'.repeat(30)]) expect(() => shardIdToBytes(bad), JSON.stringify(bad)).toThrow(/bad shard id/);
    expect(shardIdToBytes('0123456789abcdef'.repeat(2)).toString('hex')).toBe('0123456789abcdef'.repeat(2));
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
