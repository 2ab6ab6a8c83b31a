/**
 * Shard liveness from the log. A storage node follows the event stream with its own durable
 * consumer and applies it to its own copy of the pure model (`ReadModelStore` under
 * `<dataDir>/liveness`); the model's write hook tells it, inside the same LMDB transaction, which
 * record each write replaces or removes, and so which shards gain or lose a reference. The
 * reference counts commit with the model and the consumer checkpoint: a crash never counts an
 * event twice or not at all.
 *
 * Database `shard-refs` (in the model's environment), key = shardId (16 bytes), value (msgpack):
 *   { v: 1, refs: number, releasedAtMs: number, nodes: string[], bytes: number, crc32: number }
 * `refs` counts records (object versions, parts, ...) whose `shards` hold the id, so copies that
 * share shards keep them alive; `releasedAtMs` is the time of the event that dropped refs to 0
 * (0 while never released); `nodes` is the union of the nodes the referencing events named;
 * `bytes` and `crc32` are the shard's length and checksum as the events recorded them (repair
 * fetches and verifies copies with them).
 * Any record carrying a `shards` array is counted, whatever its kind, so records added later
 * (uploads, parts, versions) need nothing here.
 *
 * A shard is reclaimable when nothing references it and it was written or released more than a
 * grace period ago: an orphan (written, never committed) and a released shard are treated alike,
 * and the grace covers an event still in flight (a PUT between its shard writes and its commit, a
 * copy decided on a record that is being overwritten). Callers fence first (`caughtUp`).
 */
import type { Database } from 'lmdb';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LoggedEvent, ShardRef } from '../events/types.ts';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import { LogFollower } from '../log/follower.ts';
import type { ModelOp } from '../model/evolve.ts';
import { ReadModelStore } from '../model/store.ts';
import { shardIdToBytes } from './shard-id.ts';

export interface ShardRefs {
  readonly v: 1;
  readonly refs: number;
  readonly releasedAtMs: number;
  readonly nodes: readonly string[];
  readonly bytes: number;
  readonly crc32: number;
}

/** What compaction and repair ask about liveness. */
export interface LivenessView {
  /** Whether the bytes of a shard written at `writtenAtMs` may be dropped at `nowMs`. */
  isReclaimable(shardId: Buffer, writtenAtMs: number, nowMs: number): boolean;
  refsOf(shardId: Buffer): ShardRefs | undefined;
  /** Every referenced shard with the nodes its events named (for re-replication). */
  referenced(): Generator<readonly [shardId: Buffer, refs: ShardRefs]>;
  /** Resolves once everything in the log when called has been applied. */
  caughtUp(): Promise<void>;
}

function shardsOf(x: unknown): readonly ShardRef[] {
  if (x === null || typeof x !== 'object' || !('shards' in x)) return [];
  const shards = (x as { shards: unknown }).shards;
  return Array.isArray(shards) ? (shards as ShardRef[]) : [];
}

function shardsOfOp(op: ModelOp): readonly ShardRef[] {
  return 'record' in op ? shardsOf(op.record) : [];
}

export class ShardLiveness implements LivenessView {
  private follower: LogFollower | undefined;

  private constructor(
    private readonly store: ReadModelStore,
    private readonly refs: Database<ShardRefs, Buffer>,
    private readonly graceMs: number,
  ) {}

  static open(path: string, opts: { graceMs?: number } = {}): ShardLiveness {
    const store = ReadModelStore.open(path);
    const refs = store.extraDb<ShardRefs, Buffer>('shard-refs', 'binary');
    // The counts derive from the model: a model that starts over (new, or dropped because its
    // version changed) is replayed from the first event, and so are the counts.
    if (store.checkpoint() === 0) refs.clearSync();
    return new ShardLiveness(store, refs, opts.graceMs ?? limits.shardGraceMs);
  }

  checkpoint(): number {
    return this.store.checkpoint();
  }

  /** Applies events and the checkpoint in one transaction, counting references in the hook. */
  async apply(events: readonly LoggedEvent[], lastSeq: number): Promise<void> {
    await this.store.apply(events, lastSeq, (op, previous, ev) => {
      if (!this.holdsShards(op)) return;
      // A put adds its record and replaces `previous`; a delete removes `previous` (which some
      // delete ops also carry as their own `record`: counted once).
      const removing = op.kind.startsWith('del-');
      if (!removing) for (const s of shardsOfOp(op)) this.adjust(s, +1, ev.timeMs);
      const gone = previous ?? (removing && 'record' in op ? op.record : undefined);
      for (const s of shardsOf(gone)) this.adjust(s, -1, ev.timeMs);
    });
  }

  /**
   * Whether an op's records own their shards: versions and upload parts do; `put-object` and
   * `del-object` only maintain the derived latest-version index, which repeats a version's shards
   * (counting both would count a version twice).
   */
  private holdsShards(op: ModelOp): boolean {
    return op.kind !== 'put-bucket' && op.kind !== 'del-bucket' && op.kind !== 'put-object' && op.kind !== 'del-object';
  }

  private adjust(shard: ShardRef, delta: 1 | -1, timeMs: number): void {
    const key = shardIdToBytes(shard.shardId);
    const cur = this.refs.get(key);
    const refs = (cur?.refs ?? 0) + delta;
    assert(refs >= 0, `shard ${shard.shardId} released more often than referenced`);
    const nodes = delta > 0 ? shard.nodes : [];
    const merged = cur === undefined ? [...nodes] : [...new Set([...cur.nodes, ...nodes])];
    const releasedAtMs = refs === 0 ? Math.max(timeMs, cur?.releasedAtMs ?? 0) : (cur?.releasedAtMs ?? 0);
    this.refs.putSync(key, { v: 1, refs, releasedAtMs, nodes: merged, bytes: shard.length, crc32: shard.crc32 });
  }

  isReclaimable(shardId: Buffer, writtenAtMs: number, nowMs: number): boolean {
    const cur = this.refs.get(shardId);
    if (cur !== undefined && cur.refs > 0) return false;
    const since = Math.max(writtenAtMs, cur?.releasedAtMs ?? 0);
    return nowMs - since >= this.graceMs;
  }

  refsOf(shardId: Buffer): ShardRefs | undefined {
    return this.refs.get(shardId);
  }

  *referenced(): Generator<readonly [shardId: Buffer, refs: ShardRefs]> {
    for (const { key, value } of this.refs.getRange({})) {
      if (value.refs > 0) yield [Buffer.from(key), value] as const;
    }
  }

  /** Follows the log with the durable consumer `liveness-<nodeId>`. */
  async follow(nc: NatsConnection, nodeId: string): Promise<void> {
    assert(this.follower === undefined, 'already following');
    this.follower = new LogFollower(nc, this, `liveness-${nodeId}`, limits.livenessBatchMax, limits.livenessApplyLingerMs);
    await this.follower.start();
  }

  async caughtUp(): Promise<void> {
    assert(this.follower !== undefined, 'liveness is not following the log');
    await this.follower.caughtUp(limits.projectionWaitMs);
  }

  async close(): Promise<void> {
    await this.follower?.stop();
    this.follower = undefined;
    await this.store.close();
  }
}
