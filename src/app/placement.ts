/**
 * Shard placement for this gateway. The embedded node is used directly (no NATS hop for bytes);
 * any other node is reached over NATS request/reply. Writes go to the configured nodes in turn;
 * placement across several nodes with replication is the storage-nodes issue's work.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ShardPlacement, ShardStoreLike } from '../gateway/types.ts';
import { assert } from '../lib/assert.ts';
import { NatsShardStore } from '../storage/shard-store.ts';

export class SimplePlacement implements ShardPlacement {
  private readonly stores = new Map<string, ShardStoreLike>();
  private readonly writers: ShardStoreLike[];
  private turn = 0;

  constructor(
    private readonly nc: NatsConnection,
    local: ShardStoreLike | undefined,
    remoteNodeIds: readonly string[],
    readonly shardBytes: number,
  ) {
    if (local) this.stores.set(local.nodeId, local);
    for (const id of remoteNodeIds) if (!this.stores.has(id)) this.stores.set(id, new NatsShardStore(nc, id));
    this.writers = local ? [local] : remoteNodeIds.map((id) => this.stores.get(id)).filter((s): s is ShardStoreLike => s !== undefined);
    assert(this.writers.length > 0, 'at least one storage node to write to');
  }

  forWrite(): ShardStoreLike {
    const s = this.writers[this.turn++ % this.writers.length];
    assert(s, 'writer');
    return s;
  }

  forNode(nodeId: string): ShardStoreLike | undefined {
    const known = this.stores.get(nodeId);
    if (known) return known;
    const remote = new NatsShardStore(this.nc, nodeId);
    this.stores.set(nodeId, remote);
    return remote;
  }
}
