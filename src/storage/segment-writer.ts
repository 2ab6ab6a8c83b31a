/**
 * Appends records to the active segment and makes them durable with group commit.
 *
 * Writes are serialised: records queued while a write is in progress are written together by the
 * next one, as one positional `writev` of [header, ...payload, header, ...payload, ...] (at most
 * limits.segmentWriteBatchRecordsMax records and limits.segmentWriteBatchBytesMax bytes; the
 * payload buffers go to the kernel as they are, never copied), at the offset just past the
 * previous record. Coalescing matters for small records: 64 concurrent 4 KiB appends cost one
 * system call, not 64. Serialising matters for crash safety, not just simplicity: an fsync then
 * covers every record written before it, so "the durable prefix" is always a prefix, and a
 * crash can only tear the tail. With parallel writes, a later record could be fsynced and
 * acknowledged while an earlier one is still half written, and recovery (which cuts the tail at
 * the first bad record) would throw the acknowledged one away.
 *
 * Group commit: at most one fdatasync is in flight. A sync append waits for an fdatasync that
 * *started* after its write completed; appends that complete while one is running wait for the
 * next one, which then covers all of them. A sync append never resolves before its fsync.
 *
 * Pipelining: an fdatasync starts as soon as a write batch has completed and someone waits for it,
 * even when more records are queued behind it; write batches are capped (32 records, 8 MiB), so
 * under a burst the next batch is written while the previous one's fdatasync runs, and the
 * appenders it releases prepare their next records meanwhile. Holding the fsync until every queued
 * write had completed (the earlier rule) covered more records per fsync but left the disk idle
 * while the CPU prepared a whole burst and the CPU idle while the disk synced it: 4 KiB appends at
 * c=64 went from ~1.5 ms of CPU then ~0.8 ms of fsync per 64 records to both at once, and 1 MiB
 * appends at c=16 from 60–74% to 76–170% of dd-style bandwidth (`npm run bench -- --only storage`).
 *
 * A segment is sealed when the next record would push it past `segmentBytesMax`: a seal record
 * holding the segment's own index is appended (segment-format.ts; it lets a lost index be rebuilt
 * without reading payloads), the file is fsynced (full fsync, so its size is durable too) and
 * closed, and a new segment is created. A new segment's
 * directory entry is fsynced before any record in it can be acknowledged.
 *
 * Any write or fsync error poisons the writer: after a failed fsync the kernel may have dropped
 * dirty pages, so nothing written can be trusted until recovery has re-read the files.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import { NodeOverloadedError } from './errors.ts';
import { fsyncDirectory } from '../lib/fsync-directory.ts';
import { writeFully } from './file-io.ts';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  SEAL_ENTRIES_MAX,
  SEAL_ENTRY_BYTES,
  SEAL_FIXED_BYTES,
  SEGMENT_HEADER_BYTES,
  SHARD_ID_BYTES,
  encodeRecordHeader,
  SealBuilder,
  encodeSegmentHeader,
  segmentFileName,
  type RecordHeader,
  type SealEntry,
} from './segment-format.ts';
import { crc32 } from '../lib/checksums.ts';

export interface WrittenRecord {
  /** The caller's name for the record (a shard's id in hex), carried rather than re-derived. */
  readonly key: string;
  readonly segmentId: number;
  /** Offset of the record header in the segment; the payload starts RECORD_HEADER_BYTES later. */
  readonly offset: number;
  readonly header: RecordHeader;
}

/** Everything in `segmentId` below `endOffset` (and every earlier segment) is on disk. */
export interface DurableMark {
  readonly segmentId: number;
  readonly endOffset: number;
  readonly sealed: boolean;
}

export interface SegmentWriterHooks {
  /** Called synchronously when a record's write completes, before its append resolves. */
  onWritten(record: WrittenRecord): void;
  /** Called after each successful fsync with the records it made durable, in write order. */
  onDurable(mark: DurableMark, records: readonly WrittenRecord[]): void;
}

export interface SegmentWriterOptions {
  readonly dir: string;
  readonly nodeId: string;
  readonly segmentBytesMax: number;
  readonly groupCommitDelayMs: number;
  /**
   * false: one fdatasync per sync record. The writer then writes one record at a time and a sync
   * record's fdatasync completes before the next record is written, so no fsync covers two
   * records. For measuring what grouping buys (the bench) and for disks where it must be ruled
   * out while diagnosing; never faster.
   */
  readonly groupCommit: boolean;
  /** Continue appending to this segment (recovery left it ending on a record boundary). */
  readonly resume:
    | {
        readonly segmentId: number;
        readonly sizeBytes: number;
        /** Shard records already in the segment, for its seal record; undefined: seal without one. */
        readonly records: readonly SealEntry[] | undefined;
      }
    | undefined;
  /** Id of the segment to create when not resuming. */
  readonly nextSegmentId: number;
  readonly hooks: SegmentWriterHooks;
}

export interface SegmentWriterStats {
  readonly appends: number;
  readonly bytesAppended: number;
  readonly fsyncs: number;
  readonly segmentsCreated: number;
  readonly activeSegmentId: number;
  readonly activeSegmentBytes: number;
}

interface ActiveSegment {
  readonly id: number;
  readonly fh: FileHandle;
  /** Next write offset; every byte below it has been written. */
  size: number;
}

interface QueuedRecord {
  readonly key: string;
  readonly header: RecordHeader;
  readonly encoded: Buffer;
  readonly payload: readonly Buffer[];
  readonly sync: boolean;
  /** Settles the append: once written, or for a sync append once an fsync covers it. */
  readonly resolve: (record: WrittenRecord) => void;
  readonly reject: (err: unknown) => void;
}

interface SyncWaiter {
  readonly seq: number;
  /** What `resolve` is called with: the record of a sync append, nothing for sync(). */
  readonly record: WrittenRecord | undefined;
  readonly resolve: (record: WrittenRecord | undefined) => void;
  readonly reject: (err: unknown) => void;
}

export class SegmentWriter {
  private chain: Promise<unknown> = Promise.resolve();
  /** Records waiting for the next batched write (see drainRecords). */
  private recordQueue: QueuedRecord[] = [];
  private drainScheduled = false;
  /** Appends accepted and not yet resolved (bounded by limits.segmentAppendsQueuedMax). */
  private queued = 0;
  /** Count of completed writes; a write's sequence number is the value after it completed. */
  private writtenSeq = 0;
  private durableSeq = 0;
  private undurable: WrittenRecord[] = [];
  private waiters: SyncWaiter[] = [];
  /** The highest sequence a waiter asked for (nobody needs an fsync once it is durable). */
  private waiterSeqMax = 0;
  private syncInFlight: Promise<void> | undefined;
  private rolling = false;
  private failure: unknown;
  private closed = false;
  private appends = 0;
  private bytesAppended = 0;
  private fsyncs = 0;
  private segmentsCreated = 0;
  /** Shard records of the active segment, encoded for its seal record as they are written (undefined: unknown). */
  private seal: SealBuilder | undefined = new SealBuilder();

  private constructor(
    private readonly opts: SegmentWriterOptions,
    private active: ActiveSegment,
  ) {}

  static async open(opts: SegmentWriterOptions): Promise<SegmentWriter> {
    assert(opts.segmentBytesMax > SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES, 'segmentBytesMax too small');
    if (opts.resume !== undefined) {
      const fh = await open(join(opts.dir, segmentFileName(opts.resume.segmentId)), 'r+');
      const { size } = await fh.stat();
      assert(size === opts.resume.sizeBytes, `segment ${opts.resume.segmentId} is ${size} bytes, expected ${opts.resume.sizeBytes}`);
      const writer = new SegmentWriter(opts, { id: opts.resume.segmentId, fh, size });
      const records = opts.resume.records;
      writer.seal = records === undefined || records.length > SEAL_ENTRIES_MAX ? undefined : SealBuilder.from(records, 1024);
      return writer;
    }
    const writer = new SegmentWriter(opts, await createSegment(opts, opts.nextSegmentId));
    writer.segmentsCreated++;
    writer.fsyncs += 2;
    return writer;
  }

  /**
   * Appends one record. Resolves once the bytes are written and, with `sync`, once an fdatasync
   * that started after the write has completed.
   */
  append(key: string, header: RecordHeader, payload: readonly Buffer[], opts: { sync: boolean }): Promise<WrittenRecord> {
    let encoded: Buffer;
    try {
      this.checkOpen();
      let payloadBytes = 0;
      for (const part of payload) payloadBytes += part.length;
      assert(payloadBytes === header.payloadBytes, 'payload length does not match header');
      if (this.queued >= limits.segmentAppendsQueuedMax) throw new NodeOverloadedError(this.opts.nodeId);
      encoded = encodeRecordHeader(header);
    } catch (err) {
      return Promise.reject(err);
    }
    this.queued++;
    // One promise per append, settled by the drain (written) or by settleWaiters (durable): the
    // hops of an async function awaiting a write promise and then a durability promise were a
    // visible share of a 4 KiB append's CPU.
    const settled = new Promise<WrittenRecord>((resolve, reject) => {
      this.recordQueue.push({ key, header, encoded, payload, sync: opts.sync, resolve, reject });
    });
    if (!this.drainScheduled) {
      // One chain task writes whatever records are queued when it runs.
      this.drainScheduled = true;
      // Not through enqueue(): after a failure the queued records must still be rejected.
      this.chain = this.chain.then(() => this.drainRecords()).catch(() => {});
    }
    return settled;
  }

  /** A queued record's write failed (or never ran): its append fails. */
  private rejectQueued(q: QueuedRecord, err: unknown): void {
    this.queued--;
    q.reject(err);
  }

  /** A queued record is written: a plain append resolves, a sync one waits for its fsync. */
  private written(q: QueuedRecord, record: WrittenRecord, seq: number): void {
    this.queued--;
    if (!q.sync || seq <= this.durableSeq) {
      q.resolve(record);
      return;
    }
    // The append's own resolve, not a closure around it (tsx names every closure it sees created
    // as an object property, a defineProperty per append).
    this.waiters.push({ seq, record, resolve: q.resolve as (r: WrittenRecord | undefined) => void, reject: q.reject });
    this.waiterSeqMax = Math.max(this.waiterSeqMax, seq);
  }

  /** Resolves when everything written so far is durable. */
  async sync(): Promise<void> {
    this.checkOpen();
    // Wait for queued writes too, so "sync" covers every append issued before it.
    await this.enqueue(async () => {});
    await this.waitDurable(this.writtenSeq);
  }

  /** Waits for queued writes, makes them durable, and closes the active segment (not sealed). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.failure === undefined) await this.sync();
    } finally {
      this.closed = true;
      await this.chain.catch(() => {});
      await this.syncInFlight?.catch(() => {});
      await this.active.fh.close();
    }
  }

  stats(): SegmentWriterStats {
    return {
      appends: this.appends,
      bytesAppended: this.bytesAppended,
      fsyncs: this.fsyncs,
      segmentsCreated: this.segmentsCreated,
      activeSegmentId: this.active.id,
      activeSegmentBytes: this.active.size,
    };
  }

  private checkOpen(): void {
    assert(!this.closed, 'segment writer is closed');
    if (this.failure !== undefined) throw new Error('segment writer failed; reopen the node', { cause: this.failure });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.failure !== undefined) throw new Error('segment writer failed', { cause: this.failure });
      return task();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Bytes of the seal record if `more` shard records are added to the active segment. */
  private sealReserve(more: number): number {
    if (this.seal === undefined || this.seal.entries + more > SEAL_ENTRIES_MAX) return 0;
    return RECORD_HEADER_BYTES + SEAL_FIXED_BYTES + SEAL_ENTRY_BYTES * (this.seal.entries + more);
  }

  /** Writes queued records in batches until the queue is empty (runs inside the write chain). */
  private async drainRecords(): Promise<void> {
    this.drainScheduled = false;
    if (this.failure !== undefined) {
      const err = new Error('segment writer failed', { cause: this.failure });
      for (const q of this.recordQueue) this.rejectQueued(q, err);
      this.recordQueue = [];
      return;
    }
    while (this.recordQueue.length > 0) {
      const batch = this.takeBatch();
      try {
        const results = await this.writeBatch(batch);
        for (let i = 0; i < batch.length; i++) {
          const q = batch[i];
          const r = results[i];
          assert(q !== undefined && r !== undefined);
          this.written(q, r.record, r.seq);
        }
      } catch (err) {
        for (const q of batch) this.rejectQueued(q, err);
        for (const q of this.recordQueue) this.rejectQueued(q, err);
        this.recordQueue = [];
        throw err;
      } finally {
        // The batch's sync appends now wait for an fsync: start one if none is running.
        this.kick();
      }
      // Without grouping, the next record is not written before this one's fsync has completed
      // (a failure is recorded by fail(); the next writeBatch then rejects the rest).
      if (!this.opts.groupCommit && batch.some((q) => q.sync)) await this.waitDurable(this.writtenSeq).catch(() => {});
    }
  }

  /** The longest prefix of the queue that fits the batch limits (at least one record). */
  private takeBatch(): QueuedRecord[] {
    let n = 0;
    let bytes = 0;
    for (const q of this.recordQueue) {
      const recordBytes = RECORD_HEADER_BYTES + q.header.payloadBytes;
      if (n > 0 && (!this.opts.groupCommit || n >= limits.segmentWriteBatchRecordsMax || bytes + recordBytes > limits.segmentWriteBatchBytesMax)) break;
      n++;
      bytes += recordBytes;
    }
    return this.recordQueue.splice(0, n);
  }

  /**
   * Writes a batch: the records that fit the active segment go out in one writev; when the next
   * record does not fit, the segment is rolled first. Returns each record with its sequence number.
   */
  private async writeBatch(batch: readonly QueuedRecord[]): Promise<{ record: WrittenRecord; seq: number }[]> {
    if (this.failure !== undefined) throw new Error('segment writer failed', { cause: this.failure });
    const out: { record: WrittenRecord; seq: number }[] = [];
    let i = 0;
    while (i < batch.length) {
      const first = batch[i];
      assert(first !== undefined);
      const firstBytes = RECORD_HEADER_BYTES + first.header.payloadBytes;
      // Room is kept for the seal record, so a sealed segment stays within segmentBytesMax (a
      // record larger than that still gets a segment of its own).
      if (this.active.size > SEGMENT_HEADER_BYTES && this.active.size + firstBytes + this.sealReserve(1) > this.opts.segmentBytesMax) await this.roll();
      const segment = this.active;
      const buffers: Buffer[] = [];
      const placed: { q: QueuedRecord; offset: number }[] = [];
      let end = segment.size;
      for (; i < batch.length; i++) {
        const q = batch[i];
        assert(q !== undefined);
        const recordBytes = RECORD_HEADER_BYTES + q.header.payloadBytes;
        if (placed.length > 0 && end + recordBytes + this.sealReserve(placed.length + 1) > this.opts.segmentBytesMax) break;
        placed.push({ q, offset: end });
        buffers.push(q.encoded, ...q.payload);
        end += recordBytes;
      }
      try {
        await writeFully(segment.fh, buffers, segment.size);
      } catch (err) {
        this.fail(err);
        throw err;
      }
      segment.size = end;
      for (const { q, offset } of placed) {
        this.writtenSeq++;
        this.appends++;
        this.bytesAppended += RECORD_HEADER_BYTES + q.header.payloadBytes;
        const record: WrittenRecord = { key: q.key, segmentId: segment.id, offset, header: q.header };
        if (this.seal !== undefined && q.header.type === RecordType.shard) {
          const h = q.header;
          this.seal.add(h.shardId, offset, h.payloadBytes, h.payloadCrc32, h.writtenAtMs);
          if (this.seal.overflowed) this.seal = undefined;
        }
        this.undurable.push(record);
        this.opts.hooks.onWritten(record);
        out.push({ record, seq: this.writtenSeq });
      }
    }
    return out;
  }

  private waitDurable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(new Error('segment writer failed', { cause: this.failure }));
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, record: undefined, resolve: () => resolve(), reject });
      this.waiterSeqMax = Math.max(this.waiterSeqMax, seq);
      this.kick();
    });
  }

  /** Starts an fdatasync if waiters need one and none is running (or a roll is doing the work). */
  private kick(): void {
    if (this.syncInFlight !== undefined || this.rolling || this.failure !== undefined) return;
    if (this.waiterSeqMax <= this.durableSeq) return;
    this.syncInFlight = this.datasyncActive().then(
      () => {
        this.syncInFlight = undefined;
        this.settleWaiters();
        this.kick();
      },
      (err: unknown) => {
        this.syncInFlight = undefined;
        this.fail(err);
      },
    );
  }

  private async datasyncActive(): Promise<void> {
    if (this.opts.groupCommitDelayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.opts.groupCommitDelayMs));
      if (this.rolling) return; // the roll's fsync will cover these waiters
    }
    // Capture what this fsync covers before issuing it: writes completing meanwhile wait for the next.
    const segment = this.active;
    const seq = this.writtenSeq;
    const endOffset = segment.size;
    await segment.fh.datasync();
    this.fsyncs++;
    this.markDurable(seq, { segmentId: segment.id, endOffset, sealed: false });
  }

  private markDurable(seq: number, mark: DurableMark): void {
    // A seal is always reported (the index records it) even when a datasync already covered it.
    if (seq <= this.durableSeq && !mark.sealed) return;
    this.durableSeq = Math.max(this.durableSeq, seq);
    let n = 0;
    while (n < this.undurable.length) {
      const rec = this.undurable[n];
      assert(rec !== undefined);
      if (rec.segmentId > mark.segmentId || (rec.segmentId === mark.segmentId && rec.offset >= mark.endOffset)) break;
      n++;
    }
    const records = this.undurable.splice(0, n);
    this.opts.hooks.onDurable(mark, records);
  }

  private settleWaiters(): void {
    const still: SyncWaiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.durableSeq) w.resolve(w.record);
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Runs inside the write chain, so no write is in progress. */
  private async roll(): Promise<void> {
    this.rolling = true;
    try {
      await this.syncInFlight;
      if (this.failure !== undefined) throw new Error('segment writer failed', { cause: this.failure });
      const old = this.active;
      const payload = this.seal?.finish();
      if (payload !== undefined) {
        const header = encodeRecordHeader({
          type: RecordType.seal,
          shardId: Buffer.alloc(SHARD_ID_BYTES),
          payloadBytes: payload.length,
          payloadCrc32: crc32(payload),
          writtenAtMs: 0,
        });
        await writeFully(old.fh, [header, payload], old.size);
        old.size += header.length + payload.length;
      }
      await old.fh.sync();
      this.fsyncs++;
      this.markDurable(this.writtenSeq, { segmentId: old.id, endOffset: old.size, sealed: true });
      await old.fh.close();
      this.active = await createSegment(this.opts, old.id + 1);
      this.seal = new SealBuilder();
      this.segmentsCreated++;
      this.fsyncs += 2;
    } catch (err) {
      this.fail(err);
      throw err;
    } finally {
      this.rolling = false;
    }
    this.settleWaiters();
    this.kick();
  }

  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('segment writer failed', { cause: this.failure }));
  }
}

/** Creates a segment file with its header, durable (file data and directory entry) on return. */
async function createSegment(opts: SegmentWriterOptions, segmentId: number): Promise<ActiveSegment> {
  const fh = await open(join(opts.dir, segmentFileName(segmentId)), 'wx');
  try {
    await writeFully(fh, [encodeSegmentHeader({ segmentId, nodeId: opts.nodeId })], 0);
    await fh.datasync();
    await fsyncDirectory(opts.dir);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return { id: segmentId, fh, size: SEGMENT_HEADER_BYTES };
}
