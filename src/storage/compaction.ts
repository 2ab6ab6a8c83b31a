/**
 * Compaction: gives back the space of dead records. A record is dead when a later record of the
 * same shard id superseded it, when its payload is damaged, or when liveness says nothing
 * references its shard any more (liveness.ts).
 *
 * A run, crash-safe through a decision file (`compaction.marker`, compaction-marker.ts), in the
 * way SeaweedFS writes its compaction decision down before acting on it:
 *
 *   1. plan (pure, `planCompaction`): sealed segments whose dead share reaches the threshold,
 *      most dead first, up to limits.compactionRunBytesMax of victim files;
 *   2. marker `copying` with the victims;
 *   3. copy every live record of the victims through the node's ordinary append path (into the
 *      active segment; writtenAtMs kept), then sync: the copies are durable, and the index entries
 *      switch to them in the same LMDB transactions that index any durable record
 *      (a later record of a shard id supersedes an earlier one, in the index as in recovery);
 *   4. check no live entry still points into a victim (copy again if one does), then check once
 *      more and keep, for a later run, any victim a record became live in meanwhile (the passes
 *      over the index yield to the event loop, so liveness can change while they run);
 *   5. marker `deleting` with the victims: the decision to delete is now durable;
 *   6. wait for reads that looked a location up before the switch, then drop the victims (unlink,
 *      fsync the directory, remove their index entries and segment meta);
 *   7. remove the marker.
 *
 * A node that opens with a marker rolls back a `copying` run (removes the marker: the copies are
 * ordinary records, the victims are untouched and compacted again later) and finishes a
 * `deleting` run (drops the victims, which is idempotent). A live shard is never lost: a victim
 * is only deleted after its live records are durable elsewhere, and no segment is leaked: a
 * victim is either deleted by the run, by its resumption, or stays an ordinary sealed segment.
 * Named crash points (crash-points.ts) let fault tests kill the process between the steps.
 */
import { performance } from 'node:perf_hooks';
import { yieldingEvery } from '../lib/event-loop.ts';
import { limits } from '../lib/limits.ts';
import { removeMarker, writeMarker } from './compaction-marker.ts';
import { crashPoint } from './crash-points.ts';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './segment-format.ts';
import type { IndexEntry } from './shard-index.ts';

export interface SegmentUsage {
  readonly segmentId: number;
  readonly fileBytes: number;
  /** Bytes of live records (header + payload) in the segment. */
  readonly liveBytes: number;
}

export interface PlanOptions {
  readonly deadRatioMin: number;
  readonly runBytesMax: number;
}

export function deadBytesOf(u: SegmentUsage): number {
  return Math.max(0, u.fileBytes - SEGMENT_HEADER_BYTES - u.liveBytes);
}

/** Pure: the sealed segments to compact, most dead first. `activeSegmentId` is never a victim. */
export function planCompaction(usage: readonly SegmentUsage[], activeSegmentId: number, opts: PlanOptions): number[] {
  const candidates = usage
    .filter((u) => u.segmentId < activeSegmentId)
    .map((u) => ({ u, dead: deadBytesOf(u), ratio: deadBytesOf(u) / Math.max(1, u.fileBytes - SEGMENT_HEADER_BYTES) }))
    .filter((c) => c.dead > 0 && c.ratio >= opts.deadRatioMin)
    .sort((a, b) => b.ratio - a.ratio || a.u.segmentId - b.u.segmentId);
  const victims: number[] = [];
  let bytes = 0;
  for (const c of candidates) {
    if (victims.length > 0 && bytes + c.u.fileBytes > opts.runBytesMax) break;
    victims.push(c.u.segmentId);
    bytes += c.u.fileBytes;
  }
  return victims.sort((a, b) => a - b);
}

/** What compaction needs from the node (StorageNode implements it). */
export interface CompactionHost {
  readonly dataDir: string;
  activeSegmentId(): number;
  /** Size of every segment file. */
  segmentFileBytes(): Promise<Map<number, number>>;
  indexEntries(): Iterable<readonly [shardId: Buffer, entry: IndexEntry]>;
  isLive(shardId: Buffer, entry: IndexEntry, nowMs: number): boolean;
  /** Appends a copy of the record (verified on read); `corrupt` when its bytes fail their checksum. */
  copyRecord(shardId: Buffer, entry: IndexEntry): Promise<'copied' | 'corrupt'>;
  /** Everything appended so far is durable and indexed. */
  sync(): Promise<void>;
  /** Resolves when reads that started before the call have finished. */
  drainReads(): Promise<void>;
  dropSegments(segmentIds: readonly number[]): Promise<void>;
}

export interface CompactionProgress {
  readonly phase: 'planning' | 'copying' | 'deleting' | 'done';
  readonly victims: number;
  readonly bytesToCopy: number;
  readonly bytesCopied: number;
}

export interface CompactionSummary {
  readonly victims: readonly number[];
  /**
   * Victims kept: a live record in them failed its checksum (the scrubber repairs it), or a
   * record in them became live again during the run (the next run copies it).
   */
  readonly segmentsKept: readonly number[];
  readonly bytesReclaimed: number;
  /** Bytes rewritten (write amplification = bytesCopied / bytesReclaimed). */
  readonly bytesCopied: number;
  readonly recordsCopied: number;
  readonly durationMs: number;
}

export interface CompactionOptions extends PlanOptions {
  readonly nowMs: number;
  readonly onProgress?: (p: CompactionProgress) => void;
}

type Victim = { readonly segmentId: number; readonly fileBytes: number; readonly live: [Buffer, IndexEntry][] };

function recordBytes(e: IndexEntry): number {
  return RECORD_HEADER_BYTES + e.payloadBytes;
}

/** The index entries, yielding to the event loop as it goes (a scan is a few µs per entry). */
function entries(host: CompactionHost): AsyncGenerator<readonly [Buffer, IndexEntry]> {
  return yieldingEvery(host.indexEntries(), limits.compactionScanYieldEvery);
}

async function scan(host: CompactionHost, sizes: Map<number, number>, nowMs: number): Promise<{ usage: SegmentUsage[]; liveBySegment: Map<number, [Buffer, IndexEntry][]> }> {
  const live = new Map<number, number>();
  const liveBySegment = new Map<number, [Buffer, IndexEntry][]>();
  for await (const [id, entry] of entries(host)) {
    if (!host.isLive(id, entry, nowMs)) continue;
    live.set(entry.segmentId, (live.get(entry.segmentId) ?? 0) + recordBytes(entry));
    let list = liveBySegment.get(entry.segmentId);
    if (list === undefined) liveBySegment.set(entry.segmentId, (list = []));
    list.push([id, entry]);
  }
  const usage = [...sizes].map(([segmentId, fileBytes]) => ({ segmentId, fileBytes, liveBytes: live.get(segmentId) ?? 0 }));
  return { usage, liveBySegment };
}

export async function runCompaction(host: CompactionHost, opts: CompactionOptions): Promise<CompactionSummary> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => {});
  progress({ phase: 'planning', victims: 0, bytesToCopy: 0, bytesCopied: 0 });
  const sizes = await host.segmentFileBytes();
  const { usage, liveBySegment } = await scan(host, sizes, opts.nowMs);
  const victimIds = planCompaction(usage, host.activeSegmentId(), opts);
  const summary = (v: readonly number[], kept: readonly number[], reclaimed: number, copied: number, records: number): CompactionSummary => ({
    victims: v,
    segmentsKept: kept,
    bytesReclaimed: reclaimed,
    bytesCopied: copied,
    recordsCopied: records,
    durationMs: performance.now() - t0,
  });
  if (victimIds.length === 0) {
    progress({ phase: 'done', victims: 0, bytesToCopy: 0, bytesCopied: 0 });
    return summary([], [], 0, 0, 0);
  }
  const victims: Victim[] = victimIds.map((segmentId) => ({
    segmentId,
    fileBytes: sizes.get(segmentId) ?? 0,
    live: (liveBySegment.get(segmentId) ?? []).sort((a, b) => a[1].offset - b[1].offset),
  }));
  const bytesToCopy = victims.reduce((n, v) => n + v.live.reduce((m, [, e]) => m + recordBytes(e), 0), 0);
  await writeMarker(host.dataDir, { v: 1, phase: 'copying', victims: victimIds, startedAtMs: opts.nowMs });

  let bytesCopied = 0;
  let recordsCopied = 0;
  const kept = new Set<number>();
  const copy = async (v: Victim, list: readonly (readonly [Buffer, IndexEntry])[]): Promise<void> => {
    for (const [id, entry] of list) {
      if ((await host.copyRecord(id, entry)) === 'corrupt') {
        kept.add(v.segmentId);
        continue;
      }
      bytesCopied += recordBytes(entry);
      recordsCopied++;
      progress({ phase: 'copying', victims: victims.length, bytesToCopy, bytesCopied });
      if (recordsCopied === 1) crashPoint('compact-mid-copy');
    }
  };
  for (const v of victims) await copy(v, v.live);
  await host.sync();
  crashPoint('compact-after-copy');

  // Victims are sealed, so nothing new lands in them; but check before deleting that no live
  // entry still points into one (a shard referenced again meanwhile), and copy it if one does.
  const dropping = victims.filter((v) => !kept.has(v.segmentId));
  const dropIds = new Set(dropping.map((v) => v.segmentId));
  const stragglers: [Buffer, IndexEntry][] = [];
  for await (const [id, entry] of entries(host)) {
    if (dropIds.has(entry.segmentId) && host.isLive(id, entry, opts.nowMs)) stragglers.push([id, entry]);
  }
  if (stragglers.length > 0) {
    for (const v of dropping) await copy(v, stragglers.filter(([, e]) => e.segmentId === v.segmentId));
    await host.sync();
  }
  // A victim that still holds a live entry now (referenced again while this scan yielded) is
  // kept for a later run, never deleted.
  const stillLive = new Set<number>();
  const candidates = new Set(dropping.filter((v) => !kept.has(v.segmentId)).map((v) => v.segmentId));
  for await (const [id, entry] of entries(host)) {
    if (candidates.has(entry.segmentId) && host.isLive(id, entry, opts.nowMs)) stillLive.add(entry.segmentId);
  }
  for (const segmentId of stillLive) kept.add(segmentId);
  const finalDrop = [...candidates].filter((segmentId) => !stillLive.has(segmentId));

  await writeMarker(host.dataDir, { v: 1, phase: 'deleting', victims: finalDrop, startedAtMs: opts.nowMs });
  crashPoint('compact-after-switch');
  progress({ phase: 'deleting', victims: victims.length, bytesToCopy, bytesCopied });
  await host.drainReads();
  await host.dropSegments(finalDrop);
  crashPoint('compact-after-delete');
  await removeMarker(host.dataDir);
  const freed = victims.filter((v) => finalDrop.includes(v.segmentId)).reduce((n, v) => n + v.fileBytes, 0);
  progress({ phase: 'done', victims: victims.length, bytesToCopy, bytesCopied });
  return summary(finalDrop, [...kept], Math.max(0, freed - bytesCopied), bytesCopied, recordsCopied);
}
