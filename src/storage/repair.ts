/**
 * Keeping every shard at its replication factor, from the node's side. Each node pulls: it never
 * pushes a copy to another node, it makes sure it holds what it should hold.
 *
 * - Scrub (`scrubPass`): read and verify every record this node indexes (header and payload
 *   checksums, the index's crc32), at most `bytesPerSec`; a bad or unreadable record is logged,
 *   counted, published as `ShardCorrupted`, and replaced by a verified copy fetched from another
 *   node (a new record supersedes the bad one), published as `ShardRepaired`.
 * - Re-replication (`replicaPass`): for every shard the log references, the live nodes ranked by
 *   rendezvous hashing say which RF nodes should hold it; if this node is one of them and lacks
 *   it, it fetches a copy (ShardRepaired). So when a node is lost, the next node in each of its
 *   shards' rankings pulls a copy and the factor is restored.
 * - Extra copies: a node holding a referenced shard it is no longer ranked for, once every
 *   ranked node confirms a verified copy, forgets its own (its bytes become dead and compaction
 *   reclaims them). A node that comes back after its shards were re-replicated so ends up with no
 *   duplicates kept forever.
 *
 * Events go to `strata.ev._sys.n.<nodeId>` (in the stream, so they are history and auditable).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { crc32 } from '../lib/checksums.ts';
import type { EventBody, StrataEvent } from '../events/types.ts';
import { newEventId } from '../lib/ids.ts';
import { yieldingEvery } from '../lib/event-loop.ts';
import { limits } from '../lib/limits.ts';
import type { Clock } from '../lib/clock.ts';
import type { EventLog } from '../log/publisher.ts';
import type { LivenessView } from './liveness.ts';
import type { StorageNode } from './node.ts';
import { defaultReplication, rendezvousRank, replicationFactor } from './rendezvous.ts';
import { shardIdFromBytes } from './shard-id.ts';
import { NatsShardStore } from './shard-store.ts';

export function systemSubject(nodeId: string): string {
  return `strata.ev._sys.n.${nodeId}`;
}

export interface RepairContext {
  readonly nc: NatsConnection;
  readonly node: StorageNode;
  readonly liveness: LivenessView;
  readonly events: EventLog;
  /** Live node ids (the registry), this node included. */
  readonly liveNodes: () => readonly string[];
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export interface ScrubReport {
  readonly records: number;
  readonly bytes: number;
  readonly corrupt: number;
  readonly repaired: number;
  readonly unrepaired: number;
}

export interface ReplicaReport {
  readonly checked: number;
  readonly pulled: number;
  readonly failed: number;
  readonly extraDropped: number;
}

async function publish(ctx: RepairContext, body: EventBody): Promise<void> {
  const now = ctx.clock.nowMs();
  const ev: StrataEvent = {
    eventId: newEventId(now),
    timeMs: now,
    bucket: '',
    key: '',
    versionId: '',
    actor: `node:${ctx.node.nodeId}`,
    requestId: '',
    sourceAddress: '',
    body,
  };
  await ctx.events.publish(systemSubject(ctx.node.nodeId), ev);
}

/** Other nodes that may hold a copy: those the log named, then the live ranking. */
function sources(ctx: RepairContext, shardId: string, idBytes: Buffer): string[] {
  const named = ctx.liveness.refsOf(idBytes)?.nodes ?? [];
  const ranked = rendezvousRank(shardId, ctx.liveNodes());
  return [...new Set([...named, ...ranked])].filter((n) => n !== ctx.node.nodeId);
}

/** Fetches a verified copy of a shard from another node; undefined if none has a good one. */
async function fetchCopy(ctx: RepairContext, shardId: string, size: number, crc: number | undefined, from: readonly string[]): Promise<{ data: Buffer; nodeId: string } | undefined> {
  for (const nodeId of from) {
    try {
      const data = await new NatsShardStore(ctx.nc, nodeId, { timeoutMs: 10_000 }).readShard(shardId, 0, size);
      if (crc === undefined || crc32(data) === crc) return { data, nodeId };
    } catch {
      // This node has no good copy (down, missing, corrupt): try the next one.
    }
  }
  return undefined;
}

async function repairFrom(ctx: RepairContext, shardId: string, idBytes: Buffer, size: number, crc: number): Promise<boolean> {
  const copy = await fetchCopy(ctx, shardId, size, crc, sources(ctx, shardId, idBytes));
  if (copy === undefined) return false;
  await ctx.node.putShard(shardId, [copy.data], { sync: true });
  await publish(ctx, { type: 'ShardRepaired', shardId, nodeId: ctx.node.nodeId, sourceNodeId: copy.nodeId });
  ctx.log(`storage ${ctx.node.nodeId}: repaired shard ${shardId} from ${copy.nodeId}`);
  return true;
}

/** One pass over every record of this node, verifying it; `bytesPerSec` bounds the read rate. */
export async function scrubPass(ctx: RepairContext, bytesPerSec: number, stopped: () => boolean = () => false): Promise<ScrubReport> {
  let records = 0;
  let bytes = 0;
  let corrupt = 0;
  let repaired = 0;
  let unrepaired = 0;
  const t0 = ctx.clock.nowMs();
  for await (const loc of ctx.node.listShards()) {
    if (stopped()) break;
    const result = await ctx.node.tryReadShard(loc.shardId, 0, loc.size);
    records++;
    bytes += loc.size;
    if (result.kind === 'corrupt') {
      corrupt++;
      ctx.log(`storage ${ctx.node.nodeId}: scrub: shard ${loc.shardId} is corrupt (${result.reason})`);
      await publish(ctx, { type: 'ShardCorrupted', shardId: loc.shardId, nodeId: ctx.node.nodeId, detail: result.reason });
      if (await repairFrom(ctx, loc.shardId, Buffer.from(loc.shardId, 'hex'), loc.size, loc.crc32)) repaired++;
      else unrepaired++;
    }
    // Rate limit: sleep until the bytes read so far fit the budget.
    const dueMs = t0 + (bytes / bytesPerSec) * 1000;
    const waitMs = dueMs - ctx.clock.nowMs();
    if (waitMs > 1) await new Promise((r) => setTimeout(r, Math.min(waitMs, 1000)));
  }
  ctx.node.noteScrub({ records, bytes, corrupt, repaired, unrepaired });
  return { records, bytes, corrupt, repaired, unrepaired };
}

/**
 * Pulls the referenced shards this node is ranked for and lacks; with `lostNodeId`, only those
 * the log placed on that node. Then forgets copies of shards it is no longer ranked for.
 */
export async function replicaPass(ctx: RepairContext, opts: { lostNodeId?: string; dropExtra?: boolean } = {}): Promise<ReplicaReport> {
  const live = ctx.liveNodes();
  const self = ctx.node.nodeId;
  let checked = 0;
  let pulled = 0;
  let failed = 0;
  let extraDropped = 0;
  // A pass over every referenced shard must not hold the event loop: most checks never await.
  for await (const [idBytes, refs] of yieldingEvery(ctx.liveness.referenced(), limits.repairPassYieldEvery)) {
    if (opts.lostNodeId !== undefined && !refs.nodes.includes(opts.lostNodeId)) continue;
    checked++;
    const shardId = shardIdFromBytes(idBytes);
    const rf = replicationFactor('STANDARD', live.length, defaultReplication);
    const ranked = rendezvousRank(shardId, live).slice(0, rf);
    const have = ctx.node.locate(shardId);
    if (ranked.includes(self)) {
      if (have !== undefined) continue;
      const copy = await fetchCopy(ctx, shardId, refs.bytes, refs.crc32, sources(ctx, shardId, idBytes));
      if (copy === undefined) {
        failed++;
        continue;
      }
      await ctx.node.putShard(shardId, [copy.data], { sync: true });
      await publish(ctx, { type: 'ShardRepaired', shardId, nodeId: self, sourceNodeId: copy.nodeId });
      pulled++;
    } else if (have !== undefined && (opts.dropExtra ?? true) && ranked.length >= rf) {
      // Forget our copy only once every ranked node has a verified one.
      let all = true;
      for (const nodeId of ranked) {
        const got = await fetchCopy(ctx, shardId, have.size, have.crc32, [nodeId]);
        if (got === undefined) {
          all = false;
          break;
        }
      }
      if (all && (await ctx.node.forgetShard(shardId, have))) extraDropped++;
    }
  }
  return { checked, pulled, failed, extraDropped };
}

