/**
 * Shard placement for this gateway: rendezvous hashing over the live storage nodes, with a
 * replication factor per storage class (src/storage/rendezvous.ts).
 *
 * - Live nodes come from a `NodeSource`: the embedded node alone (the default: one node, RF 1), a
 *   fixed list (STRATA_NODES), or the node registry in JetStream KV (discovery).
 * - `forWrite()` returns a replicating store: each shard goes to the first RF nodes of its ranking
 *   in parallel, and is acknowledged only when every one has it durably; a node that fails is
 *   replaced by the next node in the ranking, and the put result names every node that really
 *   holds a copy (recorded in the event's ShardRef.nodes).
 * - Reads try the nodes a ref names, healthy ones first, then the rest of the ranking (a repair
 *   may have put a copy there).
 * - A node that failed a request is "suspect" for a while: ranked after healthy ones.
 *
 * The embedded node is used directly (no NATS hop for bytes); any other node over NATS.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ShardPlacement, ShardStoreLike } from '../gateway/types.ts';
import { assert } from '../lib/assert.ts';
import type { Clock } from '../lib/clock.ts';
import { defaultReplication, rendezvousRank, replicationFactor } from '../storage/rendezvous.ts';
import { NodeUnavailableError } from '../storage/errors.ts';
import { NatsShardStore } from '../storage/shard-store.ts';

export interface NodeSource {
  /** Ids of the nodes that are up, as far as this gateway knows. */
  live(): readonly string[];
}

const suspectMs = 5_000;

type PutResult = Awaited<ReturnType<ShardStoreLike['putShard']>>;

export class ReplicatedPlacement implements ShardPlacement {
  private readonly stores = new Map<string, ShardStoreLike>();
  private readonly suspectUntil = new Map<string, number>();
  private readonly writer: ShardStoreLike;

  constructor(
    private readonly nc: NatsConnection,
    private readonly local: ShardStoreLike | undefined,
    private readonly source: NodeSource,
    readonly shardBytes: number,
    private readonly clock: Clock,
    private readonly replication: Readonly<Record<string, number>> = defaultReplication,
    private readonly storageClass = 'STANDARD',
  ) {
    if (local) this.stores.set(local.nodeId, local);
    this.writer = {
      nodeId: 'replicated',
      putShard: (shardId, data, opts) => this.putReplicated(shardId, data, opts),
      readShard: (shardId, offset, length) => this.readAny(shardId, offset, length),
    };
  }

  forWrite(): ShardStoreLike {
    return this.writer;
  }

  forNode(nodeId: string): ShardStoreLike | undefined {
    let s = this.stores.get(nodeId);
    if (s === undefined) {
      s = new NatsShardStore(this.nc, nodeId);
      this.stores.set(nodeId, s);
    }
    return s;
  }

  /**
   * The named nodes first; the ranking (a SHA-256 per live node) only when a read gets past them,
   * which a read of a healthy copy never does (it was 2% of a 1 MiB GET's event loop).
   */
  *readOrder(shardId: string, nodes: readonly string[]): Generator<ShardStoreLike> {
    for (const id of this.healthyFirst(nodes)) {
      const s = this.forNode(id);
      if (s !== undefined) yield s;
    }
    for (const id of this.ranking(shardId)) {
      if (nodes.includes(id)) continue;
      const s = this.forNode(id);
      if (s !== undefined) yield s;
    }
  }

  /** Live nodes ranked for a shard, healthy before suspect. */
  ranking(shardId: string): string[] {
    return this.healthyFirst(rendezvousRank(shardId, this.liveNodes()));
  }

  replicationFactor(): number {
    return replicationFactor(this.storageClass, this.liveNodes().length, this.replication);
  }

  private liveNodes(): readonly string[] {
    const live = this.source.live();
    return live.length > 0 || this.local === undefined ? live : [this.local.nodeId];
  }

  private healthyFirst(ids: readonly string[]): string[] {
    const now = this.clock.nowMs();
    const bad = (id: string): boolean => (this.suspectUntil.get(id) ?? 0) > now;
    return [...ids.filter((id) => !bad(id)), ...ids.filter(bad)];
  }

  private suspect(nodeId: string): void {
    this.suspectUntil.set(nodeId, this.clock.nowMs() + suspectMs);
  }

  private async putReplicated(shardId: string, data: Buffer[], opts: { sync: boolean }): Promise<PutResult> {
    const ranking = this.ranking(shardId);
    if (ranking.length === 0) throw new NodeUnavailableError('(no live storage node in the registry)');
    const rf = this.replicationFactor();
    let next = 0;
    const done: PutResult[] = [];
    let lastErr: unknown;
    // One lane per replica: a lane whose node fails moves on to the next node in the ranking.
    const lane = async (): Promise<void> => {
      while (next < ranking.length) {
        const nodeId = ranking[next++];
        assert(nodeId !== undefined);
        const store = this.forNode(nodeId);
        if (store === undefined) continue;
        try {
          done.push(await store.putShard(shardId, data, opts));
          return;
        } catch (err) {
          lastErr = err;
          this.suspect(nodeId);
        }
      }
    };
    await Promise.all(Array.from({ length: rf }, lane));
    // Fewer copies than RF only when the ranking ran out of live nodes; repair restores RF later.
    if (done.length === 0) throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
    const first = done[0];
    assert(first !== undefined);
    for (const r of done) assert(r.crc32 === first.crc32 && r.size === first.size, 'replicas disagree about a shard');
    return { shardId, nodeId: first.nodeId, size: first.size, crc32: first.crc32, nodes: done.map((r) => r.nodeId) };
  }

  private async readAny(shardId: string, offset: number, length: number): Promise<Buffer> {
    let lastErr: unknown;
    for (const store of this.readOrder(shardId, [])) {
      try {
        return await store.readShard(shardId, offset, length);
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr ?? new Error(`shard ${shardId}: no live node`);
  }
}

/** A fixed list of node ids (STRATA_NODES), all taken as live; failures only demote them. */
export function staticNodes(ids: readonly string[]): NodeSource {
  const list = [...ids];
  return { live: () => list };
}
