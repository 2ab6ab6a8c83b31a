import { describe, expect, it } from 'vitest';
import { bucketPrefixBytes, keyFromObjectKeyBytes, keySuccessor, objectKeyBytes, prefixSuccessor } from '../../src/model/keys.ts';

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
});
