/**
 * Segment file format (pure: no I/O). A segment is an append-only file of checksummed records.
 *
 * Segment header, 64 bytes, at offset 0 of every segment file (integers little-endian):
 *
 *   off  size  field
 *     0     8  magic "STRSEG01" (ASCII)
 *     8     2  formatVersion u16 = 2 (1: no seal records; both are read)
 *    10     2  headerBytes u16 = 64
 *    12     4  reserved, zero
 *    16     8  segmentId u64
 *    24     1  nodeIdBytes u8 (1..32)
 *    25     3  reserved, zero
 *    28    32  nodeId, ASCII, zero padded
 *    60     4  headerCrc32 u32, crc32 of bytes 0..59
 *
 * Record, 48-byte header followed by the payload, records packed back to back from offset 64:
 *
 *   off  size  field
 *     0     4  magic "SREC" (ASCII)
 *     4     1  recordType u8 (1 = shard data; 2 reserved for tombstones; 3 = seal, below)
 *     5     1  flags u8, zero
 *     6     2  reserved, zero
 *     8     4  payloadBytes u32 (<= limits.shardBytesMax)
 *    12     4  payloadCrc32 u32, crc32 of the payload
 *    16     8  writtenAtMs u64, wall clock of the writer (lets an index rebuilt from segments
 *              equal the live one)
 *    24    16  shardId
 *    40     4  reserved, zero
 *    44     4  headerCrc32 u32, crc32 of bytes 0..43
 *    48     n  payload
 *
 * The header has its own checksum so a reader can trust payloadBytes (and skip a record whose
 * payload is damaged) without reading the payload.
 *
 * Seal record (type 3, format 2): the last record of a sealed segment, written just before the
 * segment is fsynced and closed. Its payload is the segment's own index, so an index lost with
 * the node's LMDB is rebuilt from one read per segment instead of a scan of every payload:
 *
 *   off     size  field
 *     0        4  entryCount u32
 *     4        4  reserved, zero
 *     8   40 × n  entries, in offset order: shardId (16), offset u64, payloadBytes u32,
 *                 payloadCrc32 u32, writtenAtMs u64
 *   end-8      4  payloadBytes u32 (this payload's length, again)
 *   end-4      4  ASCII "SEAL"
 *
 * The last 8 bytes of the file thus locate the seal record from the end (its header starts
 * RECORD_HEADER_BYTES + payloadBytes before the end of the file). A segment with more records
 * than fit in one payload (limits.shardBytesMax) is sealed without one and scanned instead.
 * docs/FORMATS.md holds the same tables.
 */
import { crc32 } from '../lib/checksums.ts';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';

export const SEGMENT_MAGIC = 'STRSEG01';
export const SEGMENT_FORMAT_VERSION = 2;
/** Format versions this code reads: 1 (before seal records) and 2. */
const SEGMENT_FORMAT_VERSIONS_READ: ReadonlySet<number> = new Set([1, 2]);
export const SEGMENT_HEADER_BYTES = 64;
export const NODE_ID_BYTES_MAX = 32;
export const RECORD_MAGIC = 'SREC';
export const RECORD_HEADER_BYTES = 48;
export const SHARD_ID_BYTES = 16;

export const RecordType = { shard: 1, tombstone: 2, seal: 3 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** Node ids travel in NATS subjects and segment headers: short, no dots or wildcards. */
const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export function isValidNodeId(nodeId: string): boolean {
  return NODE_ID_PATTERN.test(nodeId);
}

export interface SegmentHeader {
  readonly segmentId: number;
  readonly nodeId: string;
}

export interface RecordHeader {
  readonly type: RecordType;
  readonly shardId: Buffer;
  readonly payloadBytes: number;
  readonly payloadCrc32: number;
  readonly writtenAtMs: number;
}

export type SegmentHeaderResult =
  | { readonly kind: 'ok'; readonly header: SegmentHeader }
  | { readonly kind: 'torn' }
  | { readonly kind: 'corrupt'; readonly reason: string };

export type RecordHeaderResult =
  | { readonly kind: 'ok'; readonly header: RecordHeader }
  | { readonly kind: 'torn'; readonly reason: string }
  /** recordBytes is set when the header itself is intact, so the record can be skipped. */
  | { readonly kind: 'corrupt'; readonly reason: string; readonly recordBytes?: number };

export type RecordResult =
  | { readonly kind: 'ok'; readonly header: RecordHeader; readonly payload: Buffer }
  | { readonly kind: 'torn'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string; readonly recordBytes?: number };

/** crc32 over several buffers as if they were one, without concatenating them. */
export function crc32Of(parts: readonly Uint8Array[]): number {
  let value = 0;
  for (const part of parts) value = crc32(part, value);
  return value;
}

/** A safe integer as u64 little-endian, without a BigInt. */
export function writeU64LE(buf: Buffer, n: number, offset: number): void {
  buf.writeUInt32LE(n % 0x1_0000_0000, offset);
  buf.writeUInt32LE(Math.floor(n / 0x1_0000_0000), offset + 4);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  assert(Number.isSafeInteger(header.segmentId) && header.segmentId >= 1, 'bad segment id');
  assert(isValidNodeId(header.nodeId), `bad node id ${header.nodeId}`);
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  buf.write(SEGMENT_MAGIC, 0, 'ascii');
  buf.writeUInt16LE(SEGMENT_FORMAT_VERSION, 8);
  buf.writeUInt16LE(SEGMENT_HEADER_BYTES, 10);
  buf.writeBigUInt64LE(BigInt(header.segmentId), 16);
  buf.writeUInt8(header.nodeId.length, 24);
  buf.write(header.nodeId, 28, 'ascii');
  buf.writeUInt32LE(crc32(buf.subarray(0, 60)), 60);
  const check = decodeSegmentHeader(buf);
  assert(check.kind === 'ok' && check.header.segmentId === header.segmentId, 'segment header roundtrip');
  return buf;
}

export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeaderResult {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { kind: 'torn' };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (buf.toString('ascii', 0, 8) !== SEGMENT_MAGIC) return { kind: 'corrupt', reason: 'bad segment magic' };
  if (buf.readUInt32LE(60) !== crc32(buf.subarray(0, 60))) {
    return { kind: 'corrupt', reason: 'bad segment header crc' };
  }
  const version = buf.readUInt16LE(8);
  if (!SEGMENT_FORMAT_VERSIONS_READ.has(version)) return { kind: 'corrupt', reason: `unknown segment format ${version}` };
  if (buf.readUInt16LE(10) !== SEGMENT_HEADER_BYTES) return { kind: 'corrupt', reason: 'bad segment header size' };
  const segmentId = buf.readBigUInt64LE(16);
  if (segmentId < 1n || segmentId > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { kind: 'corrupt', reason: 'segment id out of range' };
  }
  const nodeIdBytes = buf.readUInt8(24);
  const nodeId = buf.toString('ascii', 28, 28 + Math.min(nodeIdBytes, NODE_ID_BYTES_MAX));
  if (!isValidNodeId(nodeId) || nodeId.length !== nodeIdBytes) return { kind: 'corrupt', reason: 'bad node id' };
  return { kind: 'ok', header: { segmentId: Number(segmentId), nodeId } };
}

export function encodeRecordHeader(header: RecordHeader): Buffer {
  assert(header.type === RecordType.shard || header.type === RecordType.tombstone || header.type === RecordType.seal, 'bad record type');
  assert(header.shardId.length === SHARD_ID_BYTES, 'shard id must be 16 bytes');
  assert(isU32(header.payloadBytes) && header.payloadBytes <= limits.shardBytesMax, 'payload too large');
  assert(isU32(header.payloadCrc32), 'crc32 must be u32');
  assert(Number.isSafeInteger(header.writtenAtMs) && header.writtenAtMs >= 0, 'bad writtenAtMs');
  // A zeroed slice of Node's shared pool (Buffer.alloc gives each header an ArrayBuffer of its own).
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES).fill(0);
  buf.write(RECORD_MAGIC, 0, 'ascii');
  buf.writeUInt8(header.type, 4);
  buf.writeUInt32LE(header.payloadBytes, 8);
  buf.writeUInt32LE(header.payloadCrc32, 12);
  writeU64LE(buf, header.writtenAtMs, 16);
  header.shardId.copy(buf, 24);
  buf.writeUInt32LE(crc32(buf.subarray(0, 44)), 44);
  // (Round trips are checked by the unit tests, not per record: this runs once per append.)
  return buf;
}

/**
 * Decodes the record header at the start of `bytes`. `bytesToEof` is how many bytes the file has
 * from the record's start to its end, so a record cut short by a crash is reported as torn.
 * Bad data never throws.
 */
export function decodeRecordHeader(bytes: Uint8Array, bytesToEof: number): RecordHeaderResult {
  if (bytes.length < RECORD_HEADER_BYTES || bytesToEof < RECORD_HEADER_BYTES) {
    return { kind: 'torn', reason: 'partial record header' };
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, RECORD_HEADER_BYTES);
  if (buf.toString('ascii', 0, 4) !== RECORD_MAGIC) return { kind: 'corrupt', reason: 'bad record magic' };
  if (buf.readUInt32LE(44) !== crc32(buf.subarray(0, 44))) return { kind: 'corrupt', reason: 'bad record header crc' };
  const payloadBytes = buf.readUInt32LE(8);
  const recordBytes = RECORD_HEADER_BYTES + payloadBytes;
  if (recordBytes > bytesToEof) return { kind: 'torn', reason: 'record extends past end of file' };
  const type = buf.readUInt8(4);
  if (type !== RecordType.shard && type !== RecordType.tombstone && type !== RecordType.seal) {
    return { kind: 'corrupt', reason: `unknown record type ${type}`, recordBytes };
  }
  if (buf.readUInt8(5) !== 0 || buf.readUInt16LE(6) !== 0 || buf.readUInt32LE(40) !== 0) {
    return { kind: 'corrupt', reason: 'unknown record flags', recordBytes };
  }
  if (payloadBytes > limits.shardBytesMax) return { kind: 'corrupt', reason: 'payload too large', recordBytes };
  const writtenAtMs = buf.readBigUInt64LE(16);
  if (writtenAtMs > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { kind: 'corrupt', reason: 'writtenAtMs out of range', recordBytes };
  }
  return {
    kind: 'ok',
    header: {
      type,
      shardId: Buffer.from(buf.subarray(24, 40)),
      payloadBytes,
      payloadCrc32: buf.readUInt32LE(12),
      writtenAtMs: Number(writtenAtMs),
    },
  };
}

/** Decodes a whole record (header and payload) at the start of `bytes`, which ends at end of file. */
export function decodeRecord(bytes: Uint8Array): RecordResult {
  const head = decodeRecordHeader(bytes, bytes.length);
  if (head.kind !== 'ok') return head;
  const start = bytes.byteOffset + RECORD_HEADER_BYTES;
  const payload = Buffer.from(bytes.buffer, start, head.header.payloadBytes);
  if (crc32(payload) !== head.header.payloadCrc32) {
    return { kind: 'corrupt', reason: 'bad payload crc', recordBytes: RECORD_HEADER_BYTES + head.header.payloadBytes };
  }
  return { kind: 'ok', header: head.header, payload };
}

/** Segment files are named by their id, zero padded so that names sort like ids. */
export function segmentFileName(segmentId: number): string {
  assert(Number.isSafeInteger(segmentId) && segmentId >= 1, 'bad segment id');
  return `${String(segmentId).padStart(20, '0')}.seg`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.seg$/.exec(name);
  if (match === null || match[1] === undefined) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) && id >= 1 ? id : undefined;
}

export interface SealEntry {
  readonly shardId: Buffer;
  readonly offset: number;
  readonly payloadBytes: number;
  readonly payloadCrc32: number;
  readonly writtenAtMs: number;
}

export const SEAL_ENTRY_BYTES = 40;
export const SEAL_FIXED_BYTES = 16;
const SEAL_MAGIC = 'SEAL';

/** Most entries one seal record can hold. */
export const SEAL_ENTRIES_MAX = Math.floor((limits.shardBytesMax - SEAL_FIXED_BYTES) / SEAL_ENTRY_BYTES);

/**
 * A seal payload built record by record as the segment is written, so that sealing a segment
 * costs no encoding: encoding 69,212 entries at the roll took 63 ms of event loop (BigInt
 * conversions), a stall for every write and read of the node. Undefined from `finish` once more
 * than SEAL_ENTRIES_MAX entries were added (the segment is then sealed without its index).
 */
export class SealBuilder {
  private buf: Buffer;
  private count = 0;

  constructor(expectedEntries = 1024) {
    this.buf = Buffer.allocUnsafe(SEAL_FIXED_BYTES + Math.min(Math.max(expectedEntries, 16), SEAL_ENTRIES_MAX) * SEAL_ENTRY_BYTES);
  }

  /** A builder holding `entries` already, with room for `spareEntries` more before it grows. */
  static from(entries: readonly SealEntry[], spareEntries = 0): SealBuilder {
    const b = new SealBuilder(entries.length + spareEntries);
    for (const e of entries) b.add(e.shardId, e.offset, e.payloadBytes, e.payloadCrc32, e.writtenAtMs);
    return b;
  }

  get entries(): number {
    return this.count;
  }

  get overflowed(): boolean {
    return this.count > SEAL_ENTRIES_MAX;
  }

  add(shardId: Buffer, offset: number, payloadBytes: number, payloadCrc32: number, writtenAtMs: number): void {
    assert(shardId.length === SHARD_ID_BYTES, 'shard id must be 16 bytes');
    this.count++;
    if (this.count > SEAL_ENTRIES_MAX) return;
    const at = 8 + (this.count - 1) * SEAL_ENTRY_BYTES;
    if (at + SEAL_ENTRY_BYTES + 8 > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.buf.length * 2, SEAL_FIXED_BYTES + SEAL_ENTRIES_MAX * SEAL_ENTRY_BYTES));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    shardId.copy(this.buf, at);
    writeU64LE(this.buf, offset, at + 16);
    this.buf.writeUInt32LE(payloadBytes, at + 24);
    this.buf.writeUInt32LE(payloadCrc32, at + 28);
    writeU64LE(this.buf, writtenAtMs, at + 32);
  }

  /** The payload (a view of the builder's buffer: add nothing after), or undefined when overflowed. */
  finish(): Buffer | undefined {
    if (this.overflowed) return undefined;
    const bytes = SEAL_FIXED_BYTES + this.count * SEAL_ENTRY_BYTES;
    this.buf.writeUInt32LE(this.count, 0);
    this.buf.writeUInt32LE(0, 4);
    this.buf.writeUInt32LE(bytes, bytes - 8);
    this.buf.write(SEAL_MAGIC, bytes - 4, 'ascii');
    return this.buf.subarray(0, bytes);
  }
}

/** The seal payload's length from the last 8 bytes of a segment, if they end a seal record. */
export function sealPayloadBytesFromTail(tail: Uint8Array): number | undefined {
  if (tail.length !== 8) return undefined;
  const b = Buffer.from(tail.buffer, tail.byteOffset, 8);
  if (b.toString('ascii', 4, 8) !== SEAL_MAGIC) return undefined;
  const n = b.readUInt32LE(0);
  return n >= SEAL_FIXED_BYTES && (n - SEAL_FIXED_BYTES) % SEAL_ENTRY_BYTES === 0 && n <= limits.shardBytesMax ? n : undefined;
}

/** Entries of a seal payload whose record checksum was already verified; undefined if malformed. */
export function decodeSealPayload(payload: Uint8Array): SealEntry[] | undefined {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < SEAL_FIXED_BYTES) return undefined;
  const n = b.readUInt32LE(0);
  if (b.length !== SEAL_FIXED_BYTES + n * SEAL_ENTRY_BYTES || b.readUInt32LE(b.length - 8) !== b.length) return undefined;
  if (b.toString('ascii', b.length - 4) !== SEAL_MAGIC) return undefined;
  const out: SealEntry[] = [];
  for (let i = 0, at = 8; i < n; i++, at += SEAL_ENTRY_BYTES) {
    const offset = b.readBigUInt64LE(at + 16);
    const writtenAtMs = b.readBigUInt64LE(at + 32);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER) || writtenAtMs > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    out.push({
      shardId: Buffer.from(b.subarray(at, at + 16)),
      offset: Number(offset),
      payloadBytes: b.readUInt32LE(at + 24),
      payloadCrc32: b.readUInt32LE(at + 28),
      writtenAtMs: Number(writtenAtMs),
    });
  }
  return out;
}
