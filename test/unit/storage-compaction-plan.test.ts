import { describe, expect, it } from 'vitest';
import { planCompaction } from '../../src/storage/compaction.ts';

const MiB = 1024 * 1024;

describe('planCompaction', () => {
  it('given sealed segments, when some are mostly dead, then picks those, most dead first, never the active one', () => {
    const usage = [
      { segmentId: 1, fileBytes: 10 * MiB, liveBytes: 1 * MiB },
      { segmentId: 2, fileBytes: 10 * MiB, liveBytes: 9 * MiB },
      { segmentId: 3, fileBytes: 10 * MiB, liveBytes: 0 },
      { segmentId: 4, fileBytes: 10 * MiB, liveBytes: 0 },
    ];
    expect(planCompaction(usage, 4, { deadRatioMin: 0.5, runBytesMax: 100 * MiB })).toEqual([1, 3]);
  });

  it('given a byte budget, then stops before exceeding it but always takes one', () => {
    const usage = [1, 2, 3].map((segmentId) => ({ segmentId, fileBytes: 10 * MiB, liveBytes: 0 }));
    expect(planCompaction(usage, 9, { deadRatioMin: 0.5, runBytesMax: 15 * MiB })).toEqual([1]);
    expect(planCompaction(usage, 9, { deadRatioMin: 0.5, runBytesMax: 1 })).toEqual([1]);
  });

  it('given nothing dead enough, then plans nothing', () => {
    expect(planCompaction([{ segmentId: 1, fileBytes: 10 * MiB, liveBytes: 8 * MiB }], 2, { deadRatioMin: 0.5, runBytesMax: 1e12 })).toEqual([]);
  });
});
