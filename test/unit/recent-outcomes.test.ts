/**
 * The ring of recent outcomes the projector answers late writers from: by sequence, the last
 * `capacity` sequences kept, older ones forgotten, never confused with a newer one in their slot.
 */
import { describe, expect, it } from 'vitest';
import { RecentOutcomes } from '../../src/projections/recent-outcomes.ts';

describe('recent outcomes', () => {
  it('given outcomes set by sequence, when read, then each is found and unknown sequences are not', () => {
    const r = new RecentOutcomes(8);
    r.set(5, { kind: 'applied', versionId: 'v5' });
    r.set(6, { kind: 'rejected', code: 'NoSuchBucket' });
    expect(r.get(5)).toEqual({ kind: 'applied', versionId: 'v5' });
    expect(r.get(6)).toEqual({ kind: 'rejected', code: 'NoSuchBucket' });
    expect(r.get(7)).toBeUndefined();
    expect(r.get(0)).toBeUndefined();
  });

  it('given more sequences than the capacity, when read, then only the last capacity ones are kept', () => {
    const r = new RecentOutcomes(8);
    for (let seq = 1; seq <= 20; seq++) r.set(seq, { kind: 'applied', versionId: `v${seq}` });
    for (let seq = 1; seq <= 12; seq++) expect(r.get(seq)).toBeUndefined();
    for (let seq = 13; seq <= 20; seq++) expect(r.get(seq)).toEqual({ kind: 'applied', versionId: `v${seq}` });
    expect([...r].map(([seq]) => seq).sort((a, b) => a - b)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
  });

  it('given sequences past 2^32, when set and read, then they keep their own slots', () => {
    const r = new RecentOutcomes(4);
    const big = 2 ** 40 + 3;
    r.set(big, { kind: 'applied' });
    expect(r.get(big)).toEqual({ kind: 'applied' });
    expect(r.get(big - 4)).toBeUndefined();
  });
});
