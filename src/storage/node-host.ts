/**
 * Everything a storage node process runs around its StorageNode: shard liveness following the
 * log (liveness.ts), the NATS service, periodic compaction, and (when given) the registry
 * heartbeat and the scrubber. `stop()` stops them in reverse order; each background loop is owned
 * here and awaited on stop.
 */
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock, type Clock } from '../lib/clock.ts';
import { limits } from '../lib/limits.ts';
import { EventLog } from '../log/publisher.ts';
import type { StreamFileSync } from '../log/stream-file-sync.ts';
import { NodeDirectory, startHeartbeat, type Heartbeat } from './registry.ts';
import { replicaPass, scrubPass, type RepairContext } from './repair.ts';
import { ShardLiveness } from './liveness.ts';
import { StorageNode } from './node.ts';
import type { ReadBufferLender } from './segment-reader.ts';
import { startNodeService, type NodeService } from './node-service.ts';

export interface NodeTuning {
  readonly segmentBytesMax?: number;
  readonly groupCommitDelayMs?: number;
  /** false: one fdatasync per sync append, for measuring or diagnosing (default true). */
  readonly groupCommit?: boolean;
  readonly shardGraceMs?: number;
  /** 0 turns periodic compaction off. */
  readonly compactIntervalMs?: number;
  readonly compactDeadRatioMin?: number;
  /** Scrub read rate; 0 turns the background scrubber off. */
  readonly scrubBytesPerSec?: number;
  readonly scrubPassIntervalMs?: number;
  /** Re-replication check period; 0 turns it off (on demand only). */
  readonly repairIntervalMs?: number;
}

export interface HostNodeOptions extends NodeTuning {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly log: (line: string) => void;
  readonly clock?: Clock;
  /** Announce the node in the registry with heartbeats (default true). */
  readonly announce?: boolean;
  /** Lends reused buffers for large reads (segment-reader.ts). */
  readonly readBuffers?: ReadBufferLender;
  /**
   * Makes the node's own events (shard repaired, corrupted) durable before their publish returns,
   * as the gateway's are: the embedded one-replica log's file sync (log/stream-file-sync.ts).
   */
  readonly eventFileSync?: StreamFileSync;
}

export interface HostedNode {
  readonly node: StorageNode;
  readonly liveness: ShardLiveness;
  readonly service: NodeService;
  readonly repair: RepairContext;
  stop(): Promise<void>;
}

export async function hostNode(nc: NatsConnection, o: HostNodeOptions): Promise<HostedNode> {
  const liveness = ShardLiveness.open(join(o.dataDir, 'liveness'), o.shardGraceMs === undefined ? {} : { graceMs: o.shardGraceMs });
  let node: StorageNode;
  try {
    node = await StorageNode.open({
      nodeId: o.nodeId,
      dataDir: o.dataDir,
      liveness,
      log: o.log,
      ...(o.segmentBytesMax === undefined ? {} : { segmentBytesMax: o.segmentBytesMax }),
      ...(o.groupCommitDelayMs === undefined ? {} : { groupCommitDelayMs: o.groupCommitDelayMs }),
      ...(o.groupCommit === undefined ? {} : { groupCommit: o.groupCommit }),
      ...(o.readBuffers === undefined ? {} : { readBuffers: o.readBuffers }),
    });
  } catch (err) {
    await liveness.close();
    throw err;
  }
  if (o.groupCommit === false) o.log(`storage ${o.nodeId}: group commit is off (STRATA_GROUP_COMMIT=off): one fdatasync per acknowledged append`);
  await liveness.follow(nc, o.nodeId);
  const clock = o.clock ?? systemClock;
  const directory = await NodeDirectory.open(nc, clock);
  const repair: RepairContext = {
    nc,
    node,
    liveness,
    events: await EventLog.open(nc, o.eventFileSync === undefined ? {} : { fileSync: o.eventFileSync }),
    liveNodes: () => {
      const live = directory.live();
      return live.includes(o.nodeId) ? live : [...live, o.nodeId].sort();
    },
    clock,
    log: o.log,
  };
  const service = await startNodeService(nc, node, {
    repair: async (req) => {
      await directory.refresh();
      await liveness.caughtUp();
      return replicaPass(repair, req.lostNodeId === undefined ? {} : { lostNodeId: req.lostNodeId });
    },
  });
  let heartbeat: Heartbeat | undefined;
  if (o.announce ?? true) {
    heartbeat = await startHeartbeat(nc, { nodeId: o.nodeId, dataDir: o.dataDir, clock, shards: () => node.stats().indexedShards, log: o.log });
  }
  const loops: Loop[] = [];
  const repairMs = o.repairIntervalMs ?? limits.repairIntervalMs;
  if (repairMs > 0) {
    let lastLive = '';
    loops.push(
      loop(Math.min(repairMs, limits.nodeHeartbeatMs), async (tick) => {
        // Every repairMs, and at once when the set of live nodes changes (a node lost or back).
        const live = repair.liveNodes().join(',');
        if (live === lastLive && tick % Math.max(1, Math.round(repairMs / Math.min(repairMs, limits.nodeHeartbeatMs))) !== 0) return;
        lastLive = live;
        const r = await replicaPass(repair);
        if (r.pulled + r.failed + r.extraDropped > 0) o.log(`storage ${o.nodeId}: re-replication: ${JSON.stringify(r)}`);
      }, o.log),
    );
  }
  const scrubRate = o.scrubBytesPerSec ?? limits.scrubBytesPerSec;
  if (scrubRate > 0) {
    loops.push(
      loop(o.scrubPassIntervalMs ?? limits.scrubPassIntervalMs, async (_tick, stopped) => {
        await scrubPass(repair, scrubRate, stopped);
      }, o.log),
    );
  }

  const intervalMs = o.compactIntervalMs ?? limits.compactionIntervalMs;
  let timer: NodeJS.Timeout | undefined;
  let run: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (): void => {
    if (stopped || intervalMs <= 0) return;
    timer = setTimeout(() => {
      run = node
        .compact(o.compactDeadRatioMin === undefined ? {} : { deadRatioMin: o.compactDeadRatioMin })
        .then(
          (s) => {
            if (s.victims.length > 0) o.log(`storage ${o.nodeId}: compacted ${s.victims.length} segments, reclaimed ${s.bytesReclaimed} bytes, copied ${s.bytesCopied}`);
          },
          // A failed compaction leaves its marker for the next open; the node keeps serving,
          // and the error is reported, not swallowed: the next run tries again.
          (err: unknown) => o.log(`storage ${o.nodeId}: compaction failed: ${String(err)}`),
        )
        .finally(schedule);
    }, intervalMs);
  };
  schedule();

  return {
    node,
    liveness,
    service,
    repair,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const l of loops) await l.stop();
      await heartbeat?.stop();
      await directory.stop();
      await run;
      repair.events.close();
      await service.stop();
      await liveness.close();
      await node.close();
    },
  };
}

interface Loop {
  stop(): Promise<void>;
}

/**
 * Runs `body` every `periodMs` (after the previous run finished) until stopped. A failed run is
 * reported and the next one tries again: these are repair loops, and giving up would leave
 * shards under-replicated.
 */
function loop(periodMs: number, body: (tick: number, stopped: () => boolean) => Promise<void>, log: (line: string) => void): Loop {
  let stopped = false;
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const next = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = body(++tick, () => stopped)
        .catch((err: unknown) => log(`storage: background task failed: ${String(err)}`))
        .finally(next);
    }, periodMs);
  };
  next();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
