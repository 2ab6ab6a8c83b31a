/**
 * Everything a storage node process runs around its StorageNode: shard liveness following the
 * log (liveness.ts), the NATS service, periodic compaction, and (when given) the registry
 * heartbeat and the scrubber. `stop()` stops them in reverse order; each background loop is owned
 * here and awaited on stop.
 */
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { limits } from '../lib/limits.ts';
import { ShardLiveness } from './liveness.ts';
import { StorageNode } from './node.ts';
import { startNodeService, type NodeService, type NodeServiceOptions } from './node-service.ts';

export interface NodeTuning {
  readonly segmentBytesMax?: number;
  readonly groupCommitDelayMs?: number;
  readonly shardGraceMs?: number;
  /** 0 turns periodic compaction off. */
  readonly compactIntervalMs?: number;
  readonly compactDeadRatioMin?: number;
}

export interface HostNodeOptions extends NodeTuning {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly log: (line: string) => void;
  readonly repair?: NodeServiceOptions['repair'];
}

export interface HostedNode {
  readonly node: StorageNode;
  readonly liveness: ShardLiveness;
  readonly service: NodeService;
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
    });
  } catch (err) {
    await liveness.close();
    throw err;
  }
  await liveness.follow(nc, o.nodeId);
  const service = await startNodeService(nc, node, o.repair === undefined ? {} : { repair: o.repair });

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
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await run;
      await service.stop();
      await liveness.close();
      await node.close();
    },
  };
}
