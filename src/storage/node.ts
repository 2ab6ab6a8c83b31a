/**
 * A storage node: shards appended to segment files, found through an LMDB index.
 *
 * Data dir layout:
 *   <dataDir>/segments/<segmentId, 20 digits>.seg   append-only segment files (segment-format.ts)
 *   <dataDir>/index/                                  LMDB environment (shard-index.ts)
 *
 * The index only ever records shards that an fsync made durable (see SegmentWriter's onDurable
 * hook), so after a crash it can lag the segments but never run ahead of them. Shards written but
 * not yet indexed are served from an in-memory map until their index transaction commits; that
 * map is bounded: an append that finds it at limits.indexPendingEntriesMax waits for a sync.
 *
 * One process per data dir: nothing stops a second process from opening the same dir, and two
 * writers would interleave records. The deployment (one node id per process) is what prevents it.
 */
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../lib/assert.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { limits } from '../lib/limits.ts';
import { runCompaction, type CompactionHost, type CompactionProgress, type CompactionSummary } from './compaction.ts';
import { readMarker, removeMarker } from './compaction-marker.ts';
import type { LivenessView } from './liveness.ts';
import { NodeClosedError, ShardCorruptError, ShardNotFoundError, ShardRangeError, ShardTooLargeError } from './errors.ts';
import { fsyncDirectory } from '../lib/fsync-directory.ts';
import { recover, type RecoveryReport } from './recovery.ts';
import { RecordType, crc32Of, isValidNodeId, parseSegmentFileName, segmentFileName } from './segment-format.ts';
import { SegmentReader, type ReadBufferLender } from './segment-reader.ts';
import { SegmentWriter, type DurableMark, type WrittenRecord } from './segment-writer.ts';
import { shardIdFromBytes, shardIdToBytes } from './shard-id.ts';
import { ShardIndex, type IndexEntry, type SegmentMeta } from './shard-index.ts';

export interface ShardLocation {
  readonly shardId: string;
  readonly nodeId: string;
  readonly segmentId: number;
  /** Offset of the record header in the segment. */
  readonly offset: number;
  /** Payload bytes. */
  readonly size: number;
  readonly crc32: number;
  readonly writtenAtMs: number;
}

export interface PutShardOptions {
  readonly sync: boolean;
  /**
   * crc32 of `data`, when the caller has just computed it over these very buffers (the NATS
   * service checks the sender's crc32 that way); saves a second pass over the bytes.
   */
  readonly crc32OfData?: number;
}

export type ReadShardResult =
  /** crc32 is the crc32 of `data`, when known without another pass (a whole-shard read). */
  | { readonly kind: 'ok'; readonly data: Buffer; readonly crc32: number | undefined }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'out-of-range'; readonly size: number };

export interface StorageNodeOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly segmentBytesMax?: number;
  readonly groupCommitDelayMs?: number;
  /** false: one fdatasync per sync append (segment-writer.ts); default true. */
  readonly groupCommit?: boolean;
  /** Longest a durable shard waits for its index commit (default limits.indexCommitDelayMs). */
  readonly indexCommitDelayMs?: number;
  readonly clock?: Clock;
  /** Which shards the log still references; without it only superseded records are reclaimed. */
  readonly liveness?: LivenessView;
  /** Where recovery reports what it repaired; stderr by default. */
  readonly log?: (line: string) => void;
  /** Lends reused buffers for large reads (segment-reader.ts). */
  readonly readBuffers?: ReadBufferLender;
  /** The boot id source of the index (shard-index.ts); tests stand in a machine restart. */
  readonly bootId?: () => string | undefined;
}

export interface StorageNodeStats {
  readonly nodeId: string;
  readonly indexedShards: number;
  /** Shards written but not yet committed to the index (served from memory meanwhile). */
  readonly pendingIndexEntries: number;
  readonly appends: number;
  readonly bytesAppended: number;
  readonly fsyncs: number;
  readonly segmentsCreated: number;
  readonly activeSegmentId: number;
  readonly activeSegmentBytes: number;
  readonly reads: number;
  readonly corruptReads: number;
  /** Segment read handles cached right now (at most limits.segmentReadFdsMax when idle). */
  readonly readHandlesOpen: number;
  readonly recovery: RecoveryReport;
  readonly compaction: CompactionStats;
  readonly scrub: ScrubStats;
  /** Copies forgotten because the node is no longer ranked to hold them (repair.ts). */
  readonly extraCopiesForgotten: number;
}

export interface ScrubStats {
  readonly passes: number;
  readonly records: number;
  readonly bytes: number;
  readonly corrupt: number;
  readonly repaired: number;
  readonly unrepaired: number;
}

interface IndexBacklog {
  readonly entries: [Buffer, IndexEntry][];
  readonly records: WrittenRecord[];
  readonly segments: Map<number, SegmentMeta>;
  /** A segment was sealed: its index entry (sealed) is committed without waiting. */
  sealed: boolean;
}

function indexBacklogDue(b: IndexBacklog): boolean {
  return b.sealed || b.entries.length >= limits.indexCommitEntriesMin;
}

export interface CompactionStats {
  readonly runs: number;
  readonly running: boolean;
  readonly bytesReclaimed: number;
  readonly bytesCopied: number;
  readonly segmentsDeleted: number;
  readonly lastDurationMs: number;
}

export interface CompactOptions {
  readonly deadRatioMin?: number;
  readonly runBytesMax?: number;
  readonly onProgress?: (p: CompactionProgress) => void;
}

export class StorageNode {
  private readonly pending = new Map<string, ShardLocation>();
  private readonly indexCommits = new Set<Promise<void>>();
  private indexBacklog: IndexBacklog | undefined;
  private indexDraining = false;
  private indexTimer: NodeJS.Timeout | undefined;
  private indexFailure: unknown;
  private closing: Promise<void> | undefined;
  private reads = 0;
  private corruptReads = 0;
  private readonly readsInFlight = new Set<Promise<unknown>>();
  private compacting: Promise<CompactionSummary> | undefined;
  private compactionStats: CompactionStats = { runs: 0, running: false, bytesReclaimed: 0, bytesCopied: 0, segmentsDeleted: 0, lastDurationMs: 0 };
  private liveness: LivenessView | undefined;
  private scrubStats: ScrubStats = { passes: 0, records: 0, bytes: 0, corrupt: 0, repaired: 0, unrepaired: 0 };
  private extraCopiesForgotten = 0;
  // Set right after construction: the writer's hooks need the node to exist first.
  private writer!: SegmentWriter;

  private constructor(
    readonly nodeId: string,
    private readonly index: ShardIndex,
    private readonly reader: SegmentReader,
    private readonly clock: Clock,
    readonly recovery: RecoveryReport,
    readonly dataDir: string,
    private readonly segmentsDir: string,
    private readonly indexCommitDelayMs: number,
  ) {}

  static async open(opts: StorageNodeOptions): Promise<StorageNode> {
    assert(isValidNodeId(opts.nodeId), `bad node id ${JSON.stringify(opts.nodeId)}`);
    const log = opts.log ?? ((line: string) => console.error(line));
    const segmentsDir = join(opts.dataDir, 'segments');
    const fresh = !(await exists(segmentsDir));
    await mkdir(segmentsDir, { recursive: true });
    if (fresh) await fsyncDirectory(opts.dataDir);
    const index = ShardIndex.open(join(opts.dataDir, 'index'), opts.nodeId, opts.bootId === undefined ? {} : { bootId: opts.bootId });
    if (index.discardedAfterMachineRestart) log(`node ${opts.nodeId}: the index was open when the machine went down; rebuilding it from the segments`);
    try {
      await finishCompaction(opts.dataDir, segmentsDir, index, log);
      const recovered = await recover({ segmentsDir, nodeId: opts.nodeId, index, log });
      const reader = new SegmentReader(segmentsDir, limits.segmentReadFdsMax, opts.readBuffers);
      const node = new StorageNode(opts.nodeId, index, reader, opts.clock ?? systemClock, recovered.report, opts.dataDir, segmentsDir, opts.indexCommitDelayMs ?? limits.indexCommitDelayMs);
      node.liveness = opts.liveness;
      const segmentBytesMax = opts.segmentBytesMax ?? limits.segmentBytesMax;
      const last = recovered.last;
      const resume =
        last !== undefined && !last.sealed && last.sizeBytes < segmentBytesMax
          ? { segmentId: last.segmentId, sizeBytes: last.sizeBytes, records: last.records }
          : undefined;
      node.writer = await SegmentWriter.open({
        dir: segmentsDir,
        nodeId: opts.nodeId,
        segmentBytesMax,
        groupCommitDelayMs: opts.groupCommitDelayMs ?? limits.groupCommitDelayMs,
        groupCommit: opts.groupCommit ?? true,
        resume,
        nextSegmentId: recovered.nextSegmentId,
        hooks: {
          onWritten: (record) => node.onWritten(record),
          onDurable: (mark, records) => node.onDurable(mark, records),
        },
      });
      return node;
    } catch (err) {
      await index.close();
      throw err;
    }
  }

  /**
   * Appends a shard. Resolves once its bytes are written and, with `sync`, durable. Writing an
   * id that exists appends a new record which supersedes the old one (a retried put is harmless).
   */
  async putShard(shardId: string, data: Buffer | readonly Buffer[], opts: PutShardOptions): Promise<ShardLocation> {
    this.checkWritable();
    const parts: readonly Buffer[] = Buffer.isBuffer(data) ? [data] : data;
    let size = 0;
    for (const part of parts) size += part.length;
    if (size > limits.shardBytesMax) throw new ShardTooLargeError(size, limits.shardBytesMax);
    const header = {
      type: RecordType.shard,
      shardId: shardIdToBytes(shardId),
      payloadBytes: size,
      payloadCrc32: opts.crc32OfData ?? crc32Of(parts),
      writtenAtMs: Math.floor(this.clock.nowMs()),
    };
    const record = await this.writer.append(shardId, header, parts, opts);
    // Sync appends too: with index commits batched, their entries wait in `pending` as well, and
    // an index that falls behind must slow writers down rather than let the map grow.
    if (this.pending.size >= limits.indexPendingEntriesMax) await this.sync();
    return this.locationOf(record);
  }

  /** Reads `length` bytes at `offset` of a shard, verified against its checksum. */
  async tryReadShard(shardId: string, offset: number, length: number): Promise<ReadShardResult> {
    assert(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0, 'bad range');
    if (this.closing !== undefined) throw new NodeClosedError(this.nodeId);
    const loc = this.locate(shardId);
    if (loc === undefined) return { kind: 'not-found' };
    if (offset + length > loc.size) return { kind: 'out-of-range', size: loc.size };
    this.reads++;
    // Tracked so that compaction deletes a segment only after reads that located a shard in it finish.
    const reading = this.reader.readPayload({
      segmentId: loc.segmentId,
      offset: loc.offset,
      shardId: shardIdToBytes(shardId),
      payloadBytes: loc.size,
      payloadCrc32: loc.crc32,
    });
    this.readsInFlight.add(reading);
    let result: Awaited<typeof reading>;
    try {
      result = await reading;
    } finally {
      this.readsInFlight.delete(reading);
    }
    if (result.kind === 'corrupt') {
      this.corruptReads++;
      return result;
    }
    if (offset === 0 && length === loc.size) return { kind: 'ok', data: result.payload, crc32: loc.crc32 };
    return { kind: 'ok', data: result.payload.subarray(offset, offset + length), crc32: undefined };
  }

  /** Like tryReadShard, with the outcomes other than ok thrown as typed errors. */
  async readShard(shardId: string, offset: number, length: number): Promise<Buffer> {
    const result = await this.tryReadShard(shardId, offset, length);
    switch (result.kind) {
      case 'ok':
        return result.data;
      case 'not-found':
        throw new ShardNotFoundError(shardId);
      case 'corrupt':
        throw new ShardCorruptError(shardId, result.reason);
      case 'out-of-range':
        throw new ShardRangeError(shardId, offset, length, result.size);
    }
  }

  /** Where a shard lives, if this node has it. */
  locate(shardId: string): ShardLocation | undefined {
    const pending = this.pending.get(shardId);
    if (pending !== undefined) return pending;
    const entry = this.index.get(shardIdToBytes(shardId));
    return entry === undefined ? undefined : this.toLocation(shardId, entry);
  }

  /** Every shard on the node, in shard id order, as of the call (for GC and scrubbing). */
  async *listShards(): AsyncGenerator<ShardLocation> {
    await this.sync();
    for (const [id, entry] of this.index.entries()) yield this.toLocation(shardIdFromBytes(id), entry);
  }

  /** Resolves when every shard written so far is durable and in the index. */
  async sync(): Promise<void> {
    this.checkWritable();
    await this.writer.sync();
    await this.flushIndex();
    if (this.indexFailure !== undefined) throw new Error('index commit failed', { cause: this.indexFailure });
  }

  stats(): StorageNodeStats {
    const w = this.writer.stats();
    return {
      nodeId: this.nodeId,
      indexedShards: this.index.count(),
      pendingIndexEntries: this.pending.size,
      appends: w.appends,
      bytesAppended: w.bytesAppended,
      fsyncs: w.fsyncs,
      segmentsCreated: w.segmentsCreated,
      activeSegmentId: w.activeSegmentId,
      activeSegmentBytes: w.activeSegmentBytes,
      reads: this.reads,
      corruptReads: this.corruptReads,
      readHandlesOpen: this.reader.openHandles(),
      recovery: this.recovery,
      compaction: { ...this.compactionStats, running: this.compacting !== undefined },
      scrub: this.scrubStats,
      extraCopiesForgotten: this.extraCopiesForgotten,
    };
  }

  /** Adds a scrub pass's counts to the node's metrics. */
  noteScrub(r: Omit<ScrubStats, 'passes'>): void {
    const c = this.scrubStats;
    this.scrubStats = {
      passes: c.passes + 1,
      records: c.records + r.records,
      bytes: c.bytes + r.bytes,
      corrupt: c.corrupt + r.corrupt,
      repaired: c.repaired + r.repaired,
      unrepaired: c.unrepaired + r.unrepaired,
    };
  }

  /**
   * Forgets this node's copy of a shard (another node set holds it now): its index entry goes, so
   * its bytes count as dead and compaction reclaims them. Only if the entry is still `loc`.
   */
  async forgetShard(shardId: string, loc: ShardLocation): Promise<boolean> {
    this.checkWritable();
    if (this.pending.has(shardId)) return false;
    const removed = await this.index.removeEntry(shardIdToBytes(shardId), loc.segmentId, loc.offset);
    if (removed) this.extraCopiesForgotten++;
    return removed;
  }

  /** Sets (or replaces) the liveness view compaction and repair consult. */
  attachLiveness(liveness: LivenessView | undefined): void {
    this.liveness = liveness;
  }

  /**
   * Compacts sealed segments whose dead share reaches the threshold (compaction.ts). One run at a
   * time: a call while one runs waits for it and returns its summary. With liveness attached, the
   * log is fenced first so every committed reference is known.
   */
  compact(opts: CompactOptions = {}): Promise<CompactionSummary> {
    this.checkWritable();
    this.compacting ??= this.runCompaction(opts).finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private async runCompaction(opts: CompactOptions): Promise<CompactionSummary> {
    await this.liveness?.caughtUp();
    await this.sync();
    const liveness = this.liveness;
    const host: CompactionHost = {
      dataDir: this.dataDir,
      activeSegmentId: () => this.writer.stats().activeSegmentId,
      segmentFileBytes: async () => {
        const sizes = new Map<number, number>();
        for (const name of await readdir(this.segmentsDir)) {
          const id = parseSegmentFileName(name);
          if (id !== undefined) sizes.set(id, (await stat(join(this.segmentsDir, name))).size);
        }
        return sizes;
      },
      indexEntries: () => this.index.entries(),
      isLive: (id, entry, nowMs) => {
        // Superseded records are not in the index at all; the index's entry is the live record.
        if (liveness === undefined) return true;
        return !liveness.isReclaimable(id, entry.writtenAtMs, nowMs);
      },
      copyRecord: async (id, entry) => {
        const read = await this.reader.readPayload({ segmentId: entry.segmentId, offset: entry.offset, shardId: id, payloadBytes: entry.payloadBytes, payloadCrc32: entry.payloadCrc32 });
        if (read.kind === 'corrupt') {
          this.corruptReads++;
          return 'corrupt';
        }
        const header = { type: RecordType.shard, shardId: id, payloadBytes: entry.payloadBytes, payloadCrc32: entry.payloadCrc32, writtenAtMs: entry.writtenAtMs };
        await this.writer.append(shardIdFromBytes(header.shardId), header, [read.payload], { sync: false });
        if (this.pending.size >= limits.indexPendingEntriesMax) await this.sync();
        return 'copied';
      },
      sync: () => this.sync(),
      drainReads: async () => {
        await Promise.allSettled([...this.readsInFlight]);
      },
      dropSegments: (ids) => dropSegments(this.segmentsDir, this.index, ids, (id) => this.reader.forget(id)),
    };
    const summary = await runCompaction(host, {
      deadRatioMin: opts.deadRatioMin ?? limits.compactionDeadRatioMin,
      runBytesMax: opts.runBytesMax ?? limits.compactionRunBytesMax,
      nowMs: this.clock.nowMs(),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const c = this.compactionStats;
    this.compactionStats = {
      runs: c.runs + 1,
      running: false,
      bytesReclaimed: c.bytesReclaimed + summary.bytesReclaimed,
      bytesCopied: c.bytesCopied + summary.bytesCopied,
      segmentsDeleted: c.segmentsDeleted + summary.victims.length,
      lastDurationMs: summary.durationMs,
    };
    return summary;
  }

  /** Makes everything durable and indexed, then releases files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    try {
      await this.compacting?.catch(() => {});
      await this.writer.close();
      await this.flushIndex();
    } finally {
      clearTimeout(this.indexTimer);
      await this.reader.close();
      await this.index.flushed();
      await this.index.close();
    }
    if (this.indexFailure !== undefined) throw new Error('index commit failed', { cause: this.indexFailure });
  }

  private checkWritable(): void {
    if (this.closing !== undefined) throw new NodeClosedError(this.nodeId);
    if (this.indexFailure !== undefined) throw new Error('index commit failed; reopen the node', { cause: this.indexFailure });
  }

  private onWritten(record: WrittenRecord): void {
    this.pending.set(record.key, this.locationOf(record));
  }

  /**
   * Queues records an fsync just made durable for the index, with the segment's new indexedUpTo.
   * Index commits are batched well beyond the group commit: a commit starts once
   * limits.indexCommitEntriesMin entries wait, a segment was sealed, a sync asks for it, or the
   * oldest waiting entry is limits.indexCommitDelayMs old. Until then the entries are served from
   * `pending`. A commit per group commit (64 random shard ids, 64 dirty LMDB pages) cost as much
   * CPU as the append itself and slowed the segment's fdatasync; after a crash, recovery indexes
   * the segments past their committed indexedUpTo, so a later commit loses nothing.
   */
  private onDurable(mark: DurableMark, records: readonly WrittenRecord[]): void {
    const b: IndexBacklog = (this.indexBacklog ??= { entries: [], records: [], segments: new Map(), sealed: false });
    for (const r of records) {
      assert(r.segmentId === mark.segmentId && r.offset < mark.endOffset, 'durable record outside its mark');
      b.records.push(r);
      if (r.header.type === RecordType.shard) b.entries.push([r.header.shardId, toEntry(r)]);
    }
    const prev = b.segments.get(mark.segmentId);
    b.segments.set(mark.segmentId, { indexedUpTo: Math.max(prev?.indexedUpTo ?? 0, mark.endOffset), sealed: (prev?.sealed ?? false) || mark.sealed });
    if (mark.sealed) b.sealed = true;
    if (indexBacklogDue(b)) this.startIndexDrain();
    else this.armIndexTimer();
  }

  /** Commits a backlog that is not due yet once its oldest entry is indexCommitDelayMs old. */
  private armIndexTimer(): void {
    this.indexTimer ??= setTimeout(() => {
      this.indexTimer = undefined;
      this.startIndexDrain();
    }, this.indexCommitDelayMs);
  }

  /** Commits the backlog now (one commit runs at a time; it goes on while more is due). */
  private startIndexDrain(): void {
    if (this.indexDraining || this.indexBacklog === undefined) return;
    clearTimeout(this.indexTimer);
    this.indexTimer = undefined;
    this.indexDraining = true;
    const run = this.drainIndex();
    this.indexCommits.add(run);
    void run.finally(() => this.indexCommits.delete(run));
  }

  /** Resolves when every record made durable so far is in the index. */
  private async flushIndex(): Promise<void> {
    for (;;) {
      await Promise.all(this.indexCommits);
      if (this.indexBacklog === undefined || this.indexFailure !== undefined) return;
      this.startIndexDrain();
    }
  }

  private async drainIndex(): Promise<void> {
    try {
      let first = true;
      while (this.indexBacklog !== undefined && (first || indexBacklogDue(this.indexBacklog))) {
        first = false;
        const b = this.indexBacklog;
        this.indexBacklog = undefined;
        await this.index.commit({ entries: b.entries, segments: [...b.segments] });
        for (const r of b.records) {
          const p = this.pending.get(r.key);
          // A newer write of the same id stays pending until its own commit.
          if (p !== undefined && p.segmentId === r.segmentId && p.offset === r.offset) this.pending.delete(r.key);
        }
      }
    } catch (err) {
      this.indexFailure ??= err;
    } finally {
      // Synchronously after the loop: the next onDurable starts a new drain or arms the timer.
      this.indexDraining = false;
      if (this.indexBacklog !== undefined && this.indexFailure === undefined && this.closing === undefined) this.armIndexTimer();
    }
  }

  private locationOf(record: WrittenRecord): ShardLocation {
    return this.toLocation(record.key, toEntry(record));
  }

  private toLocation(shardId: string, e: IndexEntry): ShardLocation {
    return {
      shardId,
      nodeId: this.nodeId,
      segmentId: e.segmentId,
      offset: e.offset,
      size: e.payloadBytes,
      crc32: e.payloadCrc32,
      writtenAtMs: e.writtenAtMs,
    };
  }
}

function toEntry(r: WrittenRecord): IndexEntry {
  return {
    segmentId: r.segmentId,
    offset: r.offset,
    payloadBytes: r.header.payloadBytes,
    payloadCrc32: r.header.payloadCrc32,
    writtenAtMs: r.header.writtenAtMs,
  };
}

/** Deletes segment files compaction emptied, then forgets them in the index. Idempotent. */
async function dropSegments(segmentsDir: string, index: ShardIndex, ids: readonly number[], forget: (id: number) => void): Promise<void> {
  for (const id of ids) {
    forget(id);
    try {
      await unlink(join(segmentsDir, segmentFileName(id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await fsyncDirectory(segmentsDir);
  await index.forgetSegments(ids);
}

/** Rolls back or finishes a compaction a crash interrupted (compaction.ts explains which). */
async function finishCompaction(dataDir: string, segmentsDir: string, index: ShardIndex, log: (line: string) => void): Promise<void> {
  const marker = await readMarker(dataDir);
  if (marker === undefined) return;
  if (marker.phase === 'deleting') {
    await dropSegments(segmentsDir, index, marker.victims, () => {});
    log(`storage: finished an interrupted compaction: deleted segments ${marker.victims.join(', ')}`);
  } else {
    log(`storage: rolled back an interrupted compaction of segments ${marker.victims.join(', ')}`);
  }
  await removeMarker(dataDir);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
