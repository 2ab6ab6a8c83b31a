import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordType, crc32Of } from '../../src/storage/segment-format.ts';
import { SegmentWriter, type DurableMark, type WrittenRecord } from '../../src/storage/segment-writer.ts';
import { hookFileSyncs } from '../support/file-syncs.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';

/**
 * Watches every fdatasync/fsync in the process: when each started, and which have finished, so
 * a test can check that a sync append resolved only after an fsync that started after its write.
 */
interface SyncLog {
  started: number;
  finishedStarts: number[];
}

let log: SyncLog;
let restore: (() => void) | undefined;

beforeEach(async () => {
  log = { started: 0, finishedStarts: [] };
  restore = await hookFileSyncs(async (_fh, sync) => {
    const startIndex = log.started++;
    await sync();
    log.finishedStarts.push(startIndex);
  });
});

const dirs: string[] = [];
afterEach(async () => {
  restore?.();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function header(payload: Buffer, n: number) {
  const shardId = Buffer.alloc(16);
  shardId.writeUInt32LE(n);
  return { type: RecordType.shard, shardId, payloadBytes: payload.length, payloadCrc32: crc32Of([payload]), writtenAtMs: n };
}

describe('SegmentWriter group commit', () => {
  for (const [segmentBytesMax, groupCommit] of [[1 << 30, true], [300_000, true], [300_000, false]] as const) {
    it(`resolves a sync append only after an fsync that started after its write (segments of ${segmentBytesMax} bytes, group commit ${groupCommit ? 'on' : 'off'})`, async () => {
      const rng = createRng(testSeed('segment-writer ordering'));
      const dir = await mkdtemp(join(tmpdir(), 'strata-writer-'));
      dirs.push(dir);
      const startsAtWrite = new Map<number, number>();
      const writtenSignals = new Map<number, () => void>();
      const marks: DurableMark[] = [];
      const durable: WrittenRecord[] = [];
      const syncAppends = new Set<number>();
      const syncRecordsPerMark: number[] = [];
      const writer = await SegmentWriter.open({
        dir,
        nodeId: 'w1',
        segmentBytesMax,
        groupCommitDelayMs: 0,
        groupCommit,
        resume: undefined,
        nextSegmentId: 1,
        hooks: {
          onWritten: (r) => {
            startsAtWrite.set(r.header.writtenAtMs, log.started);
            writtenSignals.get(r.header.writtenAtMs)?.();
          },
          onDurable: (mark, records) => {
            marks.push(mark);
            durable.push(...records);
            syncRecordsPerMark.push(records.filter((r) => syncAppends.has(r.header.writtenAtMs)).length);
          },
        },
      });
      const fsyncsBefore = writer.stats().fsyncs;
      // Appends arrive staggered: often only once the previous write is done, which is when its
      // fsync starts, so many land while an fsync is running.
      const done: Promise<void>[] = [];
      for (let i = 0; i < 200; i++) {
        const payload = randomBuffer(rng, 1 + rng.below(20_000));
        const sync = rng.below(4) !== 0;
        if (sync) syncAppends.add(i);
        const written = new Promise<void>((resolve) => writtenSignals.set(i, resolve));
        done.push(
          writer.append(`r${i}`, header(payload, i), [payload], { sync }).then(() => {
            if (!sync) return;
            const writeSeenStarts = startsAtWrite.get(i) ?? Infinity;
            expect(log.finishedStarts.some((s) => s >= writeSeenStarts), `append ${i}`).toBe(true);
          }),
        );
        if (rng.below(2) === 0) await written;
      }
      await Promise.all(done);
      const fsyncs = writer.stats().fsyncs - fsyncsBefore;
      console.log(`200 staggered appends (${syncAppends.size} sync) took ${fsyncs} fsyncs, ${writer.stats().segmentsCreated} segments`);
      if (groupCommit) {
        expect(fsyncs).toBeLessThan(150);
        expect(Math.max(...syncRecordsPerMark)).toBeGreaterThan(1);
      } else {
        // Every sync append had an fsync of its own: none made two of them durable.
        expect(Math.max(...syncRecordsPerMark)).toBe(1);
        expect(fsyncs).toBeGreaterThanOrEqual(syncAppends.size);
      }
      await writer.close();
      // Every record was reported durable exactly once, in write order, within its mark.
      expect(durable.map((r) => r.header.writtenAtMs)).toEqual([...Array(200).keys()]);
      expect(durable.map((r) => r.key)).toEqual([...Array(200).keys()].map((i) => `r${i}`));
      for (let i = 1; i < marks.length; i++) {
        const [a, b] = [marks[i - 1], marks[i]];
        if (!a || !b) continue;
        expect(b.segmentId > a.segmentId || (b.segmentId === a.segmentId && b.endOffset >= a.endOffset)).toBe(true);
      }
    });
  }
});

describe('SegmentWriter after a failed fsync', () => {
  it('fails the waiting append and every later one, and recovery keeps what was written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-writer-'));
    dirs.push(dir);
    const durable: WrittenRecord[] = [];
    const writer = await SegmentWriter.open({
      dir,
      nodeId: 'w1',
      segmentBytesMax: 1 << 20,
      groupCommitDelayMs: 0,
      groupCommit: true,
      resume: undefined,
      nextSegmentId: 1,
      hooks: { onWritten: () => {}, onDurable: (_m, records) => durable.push(...records) },
    });
    const ok = Buffer.from('durable');
    await writer.append("ok0", header(ok, 0), [ok], { sync: true });
    restore?.();
    restore = await hookFileSyncs(() => Promise.reject(Object.assign(new Error('EIO: simulated'), { code: 'EIO' })));
    const lost = Buffer.from('not durable');
    await expect(writer.append("lost1", header(lost, 1), [lost], { sync: true })).rejects.toThrow(/segment writer failed/);
    restore();
    // After a failed fsync nothing more is accepted (the kernel may have dropped dirty pages).
    await expect(writer.append("ok2", header(ok, 2), [ok], { sync: false })).rejects.toThrow(/reopen/);
    await expect(writer.sync()).rejects.toThrow(/reopen/);
    expect(durable.map((r) => r.header.writtenAtMs)).toEqual([0]);
    await writer.close();
  });
});
