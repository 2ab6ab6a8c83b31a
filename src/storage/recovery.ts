/**
 * Brings the index up to date with the segments when a node opens. The segments are the truth;
 * the index is trusted only up to each segment's `indexedUpTo` (which never passes an fsync).
 *
 * For each segment in id order: skip it if it is indexed to its end, else scan records from
 * `indexedUpTo` and insert their index entries (a later record for the same shard id wins, as in
 * the live node). What a bad record means depends on where it is:
 *
 * - In the last segment (the only one ever appended to), a torn record, a record whose header is
 *   unreadable, or a checksum-failing record that ends the file is the tail of a write cut short by
 *   a crash: the file is truncated there and fsynced, and the bytes cut are logged. Nothing past
 *   an unreadable header can be trusted or even found (there is no resync marker), and no fsync
 *   can have covered it: an fsync covers every earlier byte, and those earlier bytes are bad.
 * - A record whose header is intact but whose payload fails its checksum, followed by more data,
 *   is damage in place (bit rot, a stray write): it is counted and skipped by its length.
 * - In a sealed segment (fsynced in full when sealed), a torn record or unreadable header is
 *   damage too: it is reported and the rest of that segment is not indexed, but nothing is cut.
 *
 * A segment that ends with a valid seal record (segment-format.ts) was sealed and fsynced in full:
 * its entries come from the seal, one read instead of a scan of every payload (payload checksums
 * are the scrubber's job), and it is never appended to again, even if it is the last one.
 *
 * If the index directory is missing every segment is read again, which rebuilds it.
 */
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { limits } from '../lib/limits.ts';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  SEAL_ENTRIES_MAX,
  SEGMENT_HEADER_BYTES,
  decodeRecord,
  decodeRecordHeader,
  decodeSealPayload,
  decodeSegmentHeader,
  parseSegmentFileName,
  sealPayloadBytesFromTail,
  segmentFileName,
  type RecordHeader,
  type SealEntry,
} from './segment-format.ts';
import { fsyncDirectory } from '../lib/fsync-directory.ts';
import { readFully } from './file-io.ts';
import type { IndexEntry, ShardIndex } from './shard-index.ts';

export interface RecoveryReport {
  readonly segments: number;
  /** Segments already indexed to their end. */
  readonly segmentsSkipped: number;
  readonly recordsIndexed: number;
  /** Segments indexed from their seal record instead of a scan. */
  readonly segmentsFromSeal: number;
  /** Records with an intact header and a bad payload, skipped. */
  readonly corruptRecords: number;
  readonly truncatedBytes: number;
  /** Human-readable notes about everything that was not clean. */
  readonly problems: readonly string[];
}

export interface RecoveredState {
  /** The segment to keep appending to, ending on a record boundary. */
  readonly last:
    | {
        readonly segmentId: number;
        readonly sizeBytes: number;
        /** The segment ends with a seal record: never append to it. */
        readonly sealed: boolean;
        /** Its shard records, for the writer's seal record (undefined when unknown). */
        readonly records: readonly SealEntry[] | undefined;
      }
    | undefined;
  readonly nextSegmentId: number;
  readonly report: RecoveryReport;
}

export interface RecoveryOptions {
  readonly segmentsDir: string;
  readonly nodeId: string;
  readonly index: ShardIndex;
  readonly log: (line: string) => void;
}

interface Counters {
  segmentsSkipped: number;
  recordsIndexed: number;
  segmentsFromSeal: number;
  corruptRecords: number;
  truncatedBytes: number;
  problems: string[];
}

export async function recover(opts: RecoveryOptions): Promise<RecoveredState> {
  const ids = (await readdir(opts.segmentsDir))
    .map(parseSegmentFileName)
    .filter((id): id is number => id !== undefined)
    .sort((a, b) => a - b);
  const c: Counters = { segmentsSkipped: 0, recordsIndexed: 0, segmentsFromSeal: 0, corruptRecords: 0, truncatedBytes: 0, problems: [] };
  let last: RecoveredState['last'];
  let maxId = 0;
  for (const [i, segmentId] of ids.entries()) {
    maxId = segmentId;
    const isLast = i === ids.length - 1;
    const r = await recoverSegment(opts, segmentId, isLast, c);
    if (isLast && r !== undefined) last = { segmentId, sizeBytes: r.size, sealed: r.sealed, records: r.records };
  }
  const present = new Set(ids);
  // Deleted by compaction after their live records were copied (their entries point at the copies).
  const missing = [...opts.index.segments()].map(([segmentId]) => segmentId).filter((segmentId) => !present.has(segmentId));
  if (missing.length > 0) {
    const dropped = await opts.index.forgetSegments(missing);
    c.problems.push(`index refers to segments ${missing.join(', ')}, which are missing; forgot them and ${dropped} entries into them`);
  }
  for (const p of c.problems) opts.log(`storage ${opts.nodeId}: recovery: ${p}`);
  const report: RecoveryReport = { segments: ids.length, ...c };
  return { last, nextSegmentId: maxId + 1, report };
}

type Recovered = { readonly size: number; readonly sealed: boolean; readonly records: readonly SealEntry[] | undefined };

/** Returns the segment's size after recovery, or undefined if the file was removed. */
async function recoverSegment(opts: RecoveryOptions, segmentId: number, isLast: boolean, c: Counters): Promise<Recovered | undefined> {
  const path = join(opts.segmentsDir, segmentFileName(segmentId));
  const fh = await open(path, isLast ? 'r+' : 'r');
  let closed = false;
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const got = await readFully(fh, head, 0);
    const header = decodeSegmentHeader(head.subarray(0, got));
    if (header.kind !== 'ok') {
      if (isLast && size <= SEGMENT_HEADER_BYTES) {
        // A crash while the segment was being created: it cannot hold a record yet.
        closed = true;
        await fh.close();
        await unlink(path);
        await fsyncDirectory(opts.segmentsDir);
        c.problems.push(`removed segment ${segmentId} with an incomplete header (${size} bytes)`);
        return undefined;
      }
      throw new Error(`segment ${path}: ${header.kind === 'torn' ? 'header cut short' : header.reason}`);
    }
    if (header.header.segmentId !== segmentId || header.header.nodeId !== opts.nodeId) {
      throw new Error(`segment ${path} belongs to node ${header.header.nodeId} segment ${header.header.segmentId}`);
    }

    const meta = opts.index.segmentMeta(segmentId);
    const seal = await readSeal(fh, size);
    if (seal !== undefined) {
      const start = meta !== undefined && meta.indexedUpTo <= size ? meta.indexedUpTo : SEGMENT_HEADER_BYTES;
      if (start === size && meta?.sealed === true) {
        c.segmentsSkipped++;
        return { size, sealed: true, records: undefined };
      }
      const entries: Entries = seal
        .filter((e) => e.offset >= start)
        .map((e) => [e.shardId, { segmentId, offset: e.offset, payloadBytes: e.payloadBytes, payloadCrc32: e.payloadCrc32, writtenAtMs: e.writtenAtMs }]);
      for (let i = 0; i < entries.length; i += limits.recoveryIndexBatchMax) {
        const last = i + limits.recoveryIndexBatchMax >= entries.length;
        await opts.index.commit({ entries: entries.slice(i, i + limits.recoveryIndexBatchMax), segments: last ? [[segmentId, { indexedUpTo: size, sealed: true }]] : [] });
      }
      if (entries.length === 0) await opts.index.commit({ entries: [], segments: [[segmentId, { indexedUpTo: size, sealed: true }]] });
      c.recordsIndexed += entries.length;
      c.segmentsFromSeal++;
      return { size, sealed: true, records: undefined };
    }
    let start = meta?.indexedUpTo ?? SEGMENT_HEADER_BYTES;
    if (start > size) {
      // The index knows bytes the file no longer has: forget this segment's entries and rescan.
      const removed = await opts.index.removeEntriesFrom(segmentId, 0);
      c.problems.push(`segment ${segmentId} is ${size} bytes but was indexed up to ${start}; dropped ${removed} entries and rescanned`);
      start = SEGMENT_HEADER_BYTES;
    }
    let end: number;
    if (start === size) {
      c.segmentsSkipped++;
      if (meta?.sealed !== !isLast) await opts.index.commit({ entries: [], segments: [[segmentId, { indexedUpTo: size, sealed: !isLast }]] });
      end = size;
    } else {
      end = await scan(opts, fh, segmentId, start, size, isLast, c);
    }
    return { size: end, sealed: false, records: isLast ? await shardRecords(fh, end) : undefined };
  } finally {
    if (!closed) await fh.close();
  }
}

type Entries = [Buffer, IndexEntry][];

async function scan(
  opts: RecoveryOptions,
  fh: FileHandle,
  segmentId: number,
  start: number,
  size: number,
  isLast: boolean,
  c: Counters,
): Promise<number> {
  const reader = new WindowReader(fh, size);
  let entries: Entries = [];
  let pos = start;
  const flush = async (): Promise<void> => {
    await opts.index.commit({ entries, segments: [[segmentId, { indexedUpTo: pos, sealed: !isLast }]] });
    entries = [];
  };
  let cutAt: number | undefined;
  while (pos < size) {
    const step = await readStep(reader, pos, size);
    if (step.kind === 'lost') {
      if (isLast) cutAt = pos;
      else c.problems.push(`segment ${segmentId} offset ${pos}: ${step.reason}; rest of the segment not indexed`);
      break;
    }
    const { recordBytes } = step;
    if (step.kind === 'bad') {
      if (isLast && pos + recordBytes === size) {
        cutAt = pos;
        break;
      }
      c.corruptRecords++;
      c.problems.push(`segment ${segmentId} offset ${pos}: corrupt record (${step.reason}), skipped ${recordBytes} bytes`);
    } else if (step.header.type === RecordType.shard) {
      const h = step.header;
      entries.push([h.shardId, { segmentId, offset: pos, payloadBytes: h.payloadBytes, payloadCrc32: h.payloadCrc32, writtenAtMs: h.writtenAtMs }]);
      c.recordsIndexed++;
    } else if (step.header.type !== RecordType.seal) {
      // A seal record is the segment's own index: nothing to index when scanning anyway.
      c.problems.push(`segment ${segmentId} offset ${pos}: record type ${step.header.type} not supported yet, skipped`);
    }
    pos += recordBytes;
    if (entries.length >= limits.recoveryIndexBatchMax) await flush();
  }
  if (cutAt !== undefined) {
    await fh.truncate(cutAt);
    await fh.sync();
    c.truncatedBytes += size - cutAt;
    opts.log(`storage ${opts.nodeId}: recovery: truncated ${size - cutAt} bytes of torn tail from segment ${segmentId} at offset ${cutAt}`);
    pos = cutAt;
  }
  await flush();
  return pos;
}

type Step =
  | { readonly kind: 'ok'; readonly header: RecordHeader; readonly recordBytes: number }
  /** The header is intact (so the record can be stepped over) but the record is not usable. */
  | { readonly kind: 'bad'; readonly reason: string; readonly recordBytes: number }
  /** Torn, or a header we cannot trust for the record's length: the next record cannot be found. */
  | { readonly kind: 'lost'; readonly reason: string };

async function readStep(reader: WindowReader, pos: number, size: number): Promise<Step> {
  const bytesToEof = size - pos;
  const head = decodeRecordHeader(await reader.read(pos, Math.min(RECORD_HEADER_BYTES, bytesToEof)), bytesToEof);
  if (head.kind === 'torn') return { kind: 'lost', reason: `torn record (${head.reason})` };
  if (head.kind === 'corrupt') {
    // A header with a valid checksum but values we refuse (say, a huge length) is not read further.
    if (head.recordBytes === undefined) return { kind: 'lost', reason: `unreadable record header (${head.reason})` };
    return { kind: 'bad', reason: head.reason, recordBytes: head.recordBytes };
  }
  const recordBytes = RECORD_HEADER_BYTES + head.header.payloadBytes;
  const record = decodeRecord(await reader.read(pos, recordBytes));
  if (record.kind === 'ok') return { kind: 'ok', header: record.header, recordBytes };
  return { kind: 'bad', reason: record.reason, recordBytes };
}

/**
 * Reads through a read-ahead window so scanning many small records does not cost two syscalls
 * each. The window is at least one whole record (limits.shardBytesMax plus its header).
 */
class WindowReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private readonly windowBytes = Math.max(limits.recoveryReadBytes, RECORD_HEADER_BYTES + limits.shardBytesMax);

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  async read(pos: number, bytes: number): Promise<Buffer> {
    const end = pos + bytes;
    if (pos < this.windowStart || end > this.windowStart + this.window.length) {
      const want = Math.min(Math.max(bytes, this.windowBytes), this.size - pos);
      const buf = Buffer.allocUnsafe(want);
      const got = await readFully(this.fh, buf, pos);
      this.window = buf.subarray(0, got);
      this.windowStart = pos;
    }
    const from = pos - this.windowStart;
    return this.window.subarray(from, Math.min(from + bytes, this.window.length));
  }
}

/** The entries of the seal record ending the file, if it ends with a valid one. */
async function readSeal(fh: FileHandle, size: number): Promise<SealEntry[] | undefined> {
  if (size < SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 16) return undefined;
  const tail = Buffer.alloc(8);
  if ((await readFully(fh, tail, size - 8)) !== 8) return undefined;
  const n = sealPayloadBytesFromTail(tail);
  if (n === undefined) return undefined;
  const at = size - RECORD_HEADER_BYTES - n;
  if (at < SEGMENT_HEADER_BYTES) return undefined;
  const bytes = Buffer.alloc(RECORD_HEADER_BYTES + n);
  if ((await readFully(fh, bytes, at)) !== bytes.length) return undefined;
  const record = decodeRecord(bytes);
  if (record.kind !== 'ok' || record.header.type !== RecordType.seal) return undefined;
  return decodeSealPayload(record.payload);
}

/**
 * The shard records of the segment the writer resumes, for its seal record: a walk over record
 * headers only (payloads are not read). Undefined if a header cannot be trusted (no seal then).
 */
async function shardRecords(fh: FileHandle, size: number): Promise<SealEntry[] | undefined> {
  const out: SealEntry[] = [];
  const head = Buffer.alloc(RECORD_HEADER_BYTES);
  let pos = SEGMENT_HEADER_BYTES;
  while (pos < size) {
    if ((await readFully(fh, head, pos)) !== RECORD_HEADER_BYTES) return undefined;
    const h = decodeRecordHeader(head, size - pos);
    if (h.kind === 'torn') return undefined;
    if (h.kind === 'corrupt') {
      if (h.recordBytes === undefined) return undefined;
      pos += h.recordBytes;
      continue;
    }
    const { header } = h;
    if (header.type === RecordType.shard) {
      out.push({ shardId: header.shardId, offset: pos, payloadBytes: header.payloadBytes, payloadCrc32: header.payloadCrc32, writtenAtMs: header.writtenAtMs });
    }
    pos += RECORD_HEADER_BYTES + header.payloadBytes;
  }
  return out.length <= SEAL_ENTRIES_MAX ? out : undefined;
}
