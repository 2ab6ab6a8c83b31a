/**
 * The re-replication pass on a real storage node (real segment files and index), with a fixed
 * view of which shards the log references. A pass over every referenced shard used to run
 * without yielding whenever nothing needed pulling (1.5 s for 100,000 shards, every minute, on
 * the event loop the embedded gateway shares); it now yields every limits.repairPassYieldEvery
 * shards. The NATS connection and the log are absent: a pass with nothing to pull or publish
 * must not touch them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/lib/limits.ts';
import type { LivenessView, ShardRefs } from '../../src/storage/liveness.ts';
import { StorageNode } from '../../src/storage/node.ts';
import { replicaPass, type RepairContext } from '../../src/storage/repair.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { countEventLoopTurns } from '../support/event-loop-turns.ts';

const held = 3000;
let dir: string;
let node: StorageNode;
const ids: string[] = [];
/** Referenced by the log but on no node: nothing to pull it from. */
const lost = newShardId();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-replica-pass-'));
  node = await StorageNode.open({ nodeId: 'n1', dataDir: dir, log: () => {} });
  const data = Buffer.from('sixteen bytes ok');
  for (let i = 0; i < held; i++) ids.push(newShardId());
  // In batches: the node refuses more queued appends than its limit (overloaded).
  for (let i = 0; i < held; i += 250) await Promise.all(ids.slice(i, i + 250).map((id) => node.putShard(id, [data], { sync: false })));
  await node.sync();
}, 60_000);

afterAll(async () => {
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

function context(): RepairContext {
  const refs: ShardRefs = { v: 1, refs: 1, releasedAtMs: 0, nodes: ['n1'], bytes: 16, crc32: 0 };
  const liveness: LivenessView = {
    isReclaimable: () => false,
    refsOf: () => refs,
    *referenced() {
      for (const id of [...ids, lost]) yield [Buffer.from(id, 'hex'), refs] as const;
    },
    caughtUp: async () => {},
  };
  const absent = (what: string): never =>
    new Proxy({}, {
      get: () => {
        throw new Error(`the pass used ${what}`);
      },
    }) as never;
  return { nc: absent('the NATS connection'), events: absent('the event log'), node, liveness, liveNodes: () => ['n1'], clock: { nowMs: () => Date.now() }, log: () => {} };
}

describe('replicaPass', () => {
  it('checks every referenced shard, yields to the event loop while doing it, and counts what it cannot pull', async () => {
    const { result: report, turns: ticks } = await countEventLoopTurns(() => replicaPass(context()));
    expect(report).toEqual({ checked: held + 1, pulled: 0, failed: 1, extraDropped: 0 });
    // One yield per limits.repairPassYieldEvery shards: other work ran all along the pass.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor((held + 1) / limits.repairPassYieldEvery) - 1);
  });
});
