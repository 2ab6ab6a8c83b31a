/** A seeded set of shards, about half of them dead, and a liveness view that says which. */
import type { LivenessView } from '../../src/storage/liveness.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { createRng, randomBuffer } from './prng.ts';

export const segmentBytesForCompactTest = 2 * 1024 * 1024;

export interface DatasetShard {
  readonly id: string;
  readonly data: Buffer;
  readonly live: boolean;
}

export function compactDataset(seed: number, count = 80): DatasetShard[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const id = newShardId((n) => randomBuffer(rng, n));
    const data = randomBuffer(rng, 16 * 1024 + rng.below(200 * 1024));
    return { id, data, live: rng.below(2) === 0 };
  });
}

export function datasetLiveness(data: readonly DatasetShard[]): LivenessView {
  const dead = new Set(data.filter((s) => !s.live).map((s) => s.id));
  return {
    isReclaimable: (id) => dead.has(id.toString('hex')),
    refsOf: () => undefined,
    referenced: function* () {},
    caughtUp: async () => {},
  };
}
