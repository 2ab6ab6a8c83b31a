/**
 * Compaction's passes over the whole index yield to the event loop (limits.compactionScanYieldEvery),
 * so the liveness a pass reads can change between two of its entries. A victim holding a record
 * that became live again after the straggler check is kept for a later run: it is neither deleted
 * with that record in it nor a crash (it used to be an assertion, safe only while the passes
 * never yielded). Real node, real segment files; the liveness view is scripted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yieldingEvery } from '../../src/lib/event-loop.ts';
import type { LivenessView } from '../../src/storage/liveness.ts';
import { StorageNode } from '../../src/storage/node.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { countEventLoopTurns } from '../support/event-loop-turns.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-compaction-passes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('yieldingEvery', () => {
  it('hands over every item in order and lets other callbacks run every N items', async () => {
    const seen: number[] = [];
    const { turns: ticks } = await countEventLoopTurns(async () => {
      for await (const i of yieldingEvery(Array.from({ length: 10_000 }, (_, i) => i), 1000)) seen.push(i);
    });
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(ticks).toBeGreaterThanOrEqual(9);
  });
});

describe('compaction with liveness changing during its passes', () => {
  it('keeps a victim whose record became live again after the straggler check, and the record stays readable', async () => {
    const records = 400;
    const ids = Array.from({ length: records }, () => newShardId());
    const data = (i: number): Buffer => Buffer.alloc(1000, i % 251);
    // The first record is dead for the scan and the straggler check, live from the final check on.
    const revived = ids[200] ?? '';
    let revivedChecks = 0;
    const liveness: LivenessView = {
      isReclaimable: (id) => {
        if (id.toString('hex') !== revived) return ids.indexOf(id.toString('hex')) % 2 === 0;
        revivedChecks++;
        return revivedChecks <= 2;
      },
      refsOf: () => undefined,
      *referenced() {},
      caughtUp: async () => {},
    };
    const node = await StorageNode.open({ nodeId: 'n1', dataDir: join(dir, 'revive'), log: () => {}, liveness, segmentBytesMax: 64 * 1024 });
    try {
      for (let i = 0; i < records; i++) await node.putShard(ids[i] ?? '', [data(i)], { sync: false });
      await node.sync();
      const revivedSegment = node.locate(revived)?.segmentId;
      expect(revivedSegment).toBeDefined();
      const s = await node.compact({ deadRatioMin: 0.3 });
      // Compacted: the other half-dead segments; kept: the revived record's.
      expect(s.victims.length).toBeGreaterThan(0);
      expect(s.victims).not.toContain(revivedSegment);
      expect(s.segmentsKept).toContain(revivedSegment);
      expect(revivedChecks).toBe(3);
      // Nothing live was lost: every odd record (live all along) and the revived one read back.
      for (let i = 0; i < records; i++) {
        if (i % 2 === 1 || i === 200) expect((await node.readShard(ids[i] ?? '', 0, 1000)).equals(data(i))).toBe(true);
      }
      expect(node.locate(revived)?.segmentId).toBe(revivedSegment);
    } finally {
      await node.close();
    }
  });
});
