/**
 * ReplicatedPlacement.readOrder: the nodes a shard's ref names come first (healthy before
 * suspect), then the other live nodes in the shard's rendezvous ranking; and the ranking (a
 * SHA-256 per live node) is computed only when a reader gets past the named nodes.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it, vi } from 'vitest';
import { ReplicatedPlacement } from '../../src/app/placement.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { rendezvousRank } from '../../src/storage/rendezvous.ts';

// Stores for remote nodes are made but never used here: no connection is needed.
const noConnection = {} as NatsConnection;
const live = ['n1', 'n2', 'n3', 'n4', 'n5'];
const shardId = '0123456789abcdef0123456789abcdef';

function placement(): ReplicatedPlacement {
  return new ReplicatedPlacement(noConnection, undefined, { live: () => live }, 1024 * 1024, systemClock);
}

describe('ReplicatedPlacement.readOrder', () => {
  it('yields the named nodes, then the rest of the ranking without them', () => {
    const order = [...placement().readOrder(shardId, ['n4', 'n2'])].map((s) => s.nodeId);
    expect(order).toEqual(['n4', 'n2', ...rendezvousRank(shardId, live).filter((id) => id !== 'n4' && id !== 'n2')]);
  });

  it('ranks the live nodes only once a reader asks past the named ones', () => {
    const p = placement();
    const ranking = vi.spyOn(p, 'ranking');
    const it = p.readOrder(shardId, ['n3'])[Symbol.iterator]();
    expect(it.next().value?.nodeId).toBe('n3');
    expect(ranking).not.toHaveBeenCalled();
    expect(it.next().value?.nodeId).toBe(rendezvousRank(shardId, live).find((id) => id !== 'n3'));
    expect(ranking).toHaveBeenCalledTimes(1);
  });
});
