import { describe, expect, it } from 'vitest';
import { defaultReplication, rendezvousRank, replicationFactor } from '../../src/storage/rendezvous.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';

const nodes = (n: number): string[] => Array.from({ length: n }, (_, i) => `node${i + 1}`);

describe('rendezvous placement', () => {
  const rng = createRng(testSeed('rendezvous'));
  const shards = Array.from({ length: 6000 }, () => newShardId((n) => randomBuffer(rng, n)));

  it('given the same nodes in any order, then ranks a shard the same way', () => {
    for (const s of shards.slice(0, 50)) expect(rendezvousRank(s, ['c', 'a', 'b'])).toEqual(rendezvousRank(s, ['b', 'c', 'a']));
  });

  it('given a node added to n, then about 1/(n+1) of first choices move, all of them to the new node', () => {
    const before = nodes(5);
    const after = nodes(6);
    let moved = 0;
    for (const s of shards) {
      const a = rendezvousRank(s, before)[0];
      const b = rendezvousRank(s, after)[0];
      if (a !== b) {
        moved++;
        expect(b).toBe('node6');
      }
    }
    const share = moved / shards.length;
    expect(share).toBeGreaterThan(1 / 6 - 0.03);
    expect(share).toBeLessThan(1 / 6 + 0.03);
  });

  it('given a node removed, then only the shards it held change their replica set, by one node', () => {
    const all = nodes(6);
    const without = all.filter((n) => n !== 'node3');
    for (const s of shards.slice(0, 1000)) {
      const a = rendezvousRank(s, all).slice(0, 3);
      const b = rendezvousRank(s, without).slice(0, 3);
      if (!a.includes('node3')) expect(b).toEqual(a);
      else expect(b.filter((n) => !a.includes(n)).length).toBe(1);
    }
  });

  it('given few live nodes, then the replication factor never exceeds them', () => {
    expect(replicationFactor('STANDARD', 1, defaultReplication)).toBe(1);
    expect(replicationFactor('STANDARD', 2, defaultReplication)).toBe(2);
    expect(replicationFactor('STANDARD', 5, defaultReplication)).toBe(3);
    expect(replicationFactor('REDUCED_REDUNDANCY', 5, defaultReplication)).toBe(2);
    expect(replicationFactor('UNKNOWN', 5, defaultReplication)).toBe(3);
  });
});
