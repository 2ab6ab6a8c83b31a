import { describe, expect, it } from 'vitest';
import { bucketPrefixBytes, keyFromObjectKeyBytes, keySuccessor, objectKeyBytes, parseVersionKeyBytes, prefixSuccessor, versionIdKeyBytes, versionKeyBytes } from '../../src/model/keys.ts';

describe('read model keys', () => {
  it('orders keys of one bucket by UTF-8 bytes, inside the bucket range', () => {
    const keys = ['a', 'a/b', 'a0', 'é', '\u{1F600}', '\uFFFD', 'Z'];
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const encoded = keys.map((k) => objectKeyBytes('b', k)).sort(Buffer.compare);
    expect(encoded.map((e) => keyFromObjectKeyBytes('b', e))).toEqual(sorted);
    const lo = bucketPrefixBytes('b');
    const hi = prefixSuccessor(lo);
    for (const e of encoded) expect(Buffer.compare(lo, e) <= 0 && Buffer.compare(e, hi) < 0).toBe(true);
    // Another bucket whose name extends this one's sorts outside the range.
    expect(Buffer.compare(objectKeyBytes('b0', 'a'), hi) >= 0).toBe(true);
  });

  it('prefixSuccessor is above every extension of the prefix and below the next prefix', () => {
    const p = Buffer.from('photos/');
    const s = prefixSuccessor(p);
    expect(s.toString()).toBe('photos0');
    expect(Buffer.compare(Buffer.from('photos/\xff\xff'), s) < 0).toBe(true);
    expect(Buffer.compare(keySuccessor(p), Buffer.from('photos/\0'))).toBe(0);
  });

  it('version and version-id keys have the documented bytes, for sequences below and above 2^32', () => {
    const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
    for (const [bucket, key] of [['b', 'k'], ['photos', 'é/\u{1F600} x'], ['b', '']] as const) {
      for (const seq of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1]) {
        const inv = Buffer.alloc(8);
        inv.writeBigUInt64BE(0xffff_ffff_ffff_ffffn - BigInt(seq));
        const expected = Buffer.concat([utf8(bucket), Buffer.from([0]), utf8(key), Buffer.from([0]), inv]);
        expect(versionKeyBytes(bucket, key, seq).equals(expected)).toBe(true);
        expect(parseVersionKeyBytes(bucket, expected)).toEqual({ key, seq });
      }
      const id = versionIdKeyBytes(bucket, key, '0mf3k2a1b0123456789abcdef0123');
      expect(id.equals(Buffer.concat([utf8(bucket), Buffer.from([0]), utf8(key), Buffer.from([0]), utf8('0mf3k2a1b0123456789abcdef0123')]))).toBe(true);
      expect(objectKeyBytes(bucket, key).equals(Buffer.concat([utf8(bucket), Buffer.from([0]), utf8(key)]))).toBe(true);
    }
  });
});
