/**
 * Ceiling (b): what the data dir's filesystem does with fsync'd writes, measured on probe files
 * in the bench's temp dir (the same filesystem as Strata's data dir):
 *   - sequential: N MiB in 1 MiB writes, then one fdatasync (as `dd bs=1M conv=fdatasync`);
 *   - 1 MiB append + fdatasync per op: what a c=1 PUT of 1 MiB pays if each object is synced;
 *   - 4 KiB append + fdatasync per op: the small-write sync rate (commit latency floor).
 * Async fs calls on the libuv pool, as the storage node makes them.
 */
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { percentile } from '../lib/load.ts';
import { patternBuffer } from '../lib/pattern.ts';
import type { BenchContext, Figure, Section, SectionResult } from '../types.ts';

const mib = 1024 * 1024;

/** statfs f_type magic numbers of filesystems a data dir may sit on. */
const fsNames: Record<number, string> = {
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6969: 'nfs',
  0x65735546: 'fuse',
};

export async function filesystemName(dir: string): Promise<string> {
  const s = await statfs(dir);
  return fsNames[s.type] ?? `0x${s.type.toString(16)}`;
}

async function sequentialSync(file: string, totalBytes: number): Promise<number> {
  const buf = patternBuffer(mib, 11);
  const start = performance.now();
  const fh = await open(file, 'w');
  try {
    for (let off = 0; off < totalBytes; off += mib) await fh.write(buf, 0, mib, off);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return totalBytes / mib / ((performance.now() - start) / 1000);
}

/** Appends `sizeBytes` then fdatasyncs, repeatedly for `durationMs`; latencies in ms. */
async function syncPerWrite(file: string, sizeBytes: number, durationMs: number): Promise<{ opsPerSec: number; latenciesMs: Float64Array }> {
  const buf = patternBuffer(sizeBytes, 13);
  const lat: number[] = [];
  const fh = await open(file, 'w');
  let offset = 0;
  const start = performance.now();
  try {
    while (performance.now() - start < durationMs) {
      const t0 = performance.now();
      await fh.write(buf, 0, sizeBytes, offset);
      await fh.datasync();
      offset += sizeBytes;
      lat.push(performance.now() - t0);
    }
  } finally {
    await fh.close();
  }
  const seconds = (performance.now() - start) / 1000;
  return { opsPerSec: lat.length / seconds, latenciesMs: Float64Array.from(lat).sort() };
}

const title = "Ceiling: fsync'd writes on the data dir's filesystem";

export const diskSection: Section = {
  name: 'disk',
  title,
  ceilings: [],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const fs = await filesystemName(ctx.workDir);
    const seqFile = join(ctx.workDir, 'disk-probe-seq');
    const bigFile = join(ctx.workDir, 'disk-probe-1mib');
    const smallFile = join(ctx.workDir, 'disk-probe-4kib');
    const notes = [`probe files in ${ctx.workDir} (${fs})`];
    if (fs === 'tmpfs') notes.push('tmpfs: fsync is free here, so these are not disk figures');
    try {
      const seqMiBps = await sequentialSync(seqFile, ctx.options.diskSeqBytes);
      await rm(seqFile, { force: true });
      ctx.progress(`disk: sequential ${(ctx.options.diskSeqBytes / mib).toFixed(0)} MiB + fdatasync: ${seqMiBps.toFixed(0)} MiB/s`);
      const big = await syncPerWrite(bigFile, mib, ctx.options.diskSmallSyncMs / 2);
      await rm(bigFile, { force: true });
      ctx.progress(`disk: 1 MiB write + fdatasync: ${big.opsPerSec.toFixed(0)} ops/s`);
      const small = await syncPerWrite(smallFile, 4096, ctx.options.diskSmallSyncMs);
      ctx.progress(`disk: 4 KiB write + fdatasync: ${small.opsPerSec.toFixed(0)} ops/s`);
      const figures: Figure[] = [
        {
          id: 'disk.seq_fdatasync_mibps',
          label: `sequential ${(ctx.options.diskSeqBytes / mib).toFixed(0)} MiB in 1 MiB writes, then fdatasync`,
          value: seqMiBps,
          unit: 'MiB/s',
        },
        { id: 'disk.sync_1mib_opsps', label: '1 MiB append + fdatasync per op (c=1)', value: big.opsPerSec, unit: 'ops/s' },
        { id: 'disk.sync_1mib_p50_ms', label: '  its p50 latency', value: percentile(big.latenciesMs, 0.5), unit: 'ms' },
        { id: 'disk.sync_4kib_opsps', label: '4 KiB append + fdatasync per op (c=1)', value: small.opsPerSec, unit: 'ops/s' },
        { id: 'disk.sync_4kib_p50_ms', label: '  its p50 latency', value: percentile(small.latenciesMs, 0.5), unit: 'ms' },
        { id: 'disk.sync_4kib_p99_ms', label: '  its p99 latency', value: percentile(small.latenciesMs, 0.99), unit: 'ms' },
      ];
      return { name: 'disk', title, cells: [], figures, notes };
    } finally {
      await Promise.all([seqFile, bigFile, smallFile].map((f) => rm(f, { force: true })));
    }
  },
};
