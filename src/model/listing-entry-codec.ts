/**
 * Value encoding of the `objects` database (one ListingEntry per listed key), pure. A listing page
 * decodes a thousand of these, and a projector writes one per put, so it is a fixed binary layout
 * read field by field rather than msgpack (which kept each record's field names in the value and
 * cost more than the rest of the page scan). Integers little-endian:
 *
 *   offset  size  field
 *        0     1  formatVersion     u8, 2 (format 1 was msgpack; a model holding it is rebuilt)
 *        1     1  algorithmCount    u8, number of checksum algorithm names at the end
 *        2     2  reserved          zero
 *        4     8  seq               u64, stream sequence of the version
 *       12     8  size              u64, object bytes
 *       20     8  lastModifiedMs    u64
 *       28     …  strings, each u8 length + UTF-8 bytes, in this order: versionId, etag,
 *                 storageClass, checksumType, then `algorithmCount` checksum algorithm names
 *
 * docs/FORMATS.md ("Gateway read model") holds the same table.
 */
import { assert } from '../lib/assert.ts';
import type { ListingEntry } from './records.ts';

export const listingEntryFormat = 2;
const fixedBytes = 28;
const stringBytesMax = 255;
const twoTo32 = 2 ** 32;

export function encodeListingEntry(e: ListingEntry): Buffer {
  const strings = [e.versionId, e.etag, e.storageClass, e.checksumType, ...e.checksumAlgorithms];
  assert(e.checksumAlgorithms.length <= 255, 'too many checksum algorithms');
  let total = fixedBytes;
  for (const s of strings) {
    const n = Buffer.byteLength(s, 'utf8');
    assert(n <= stringBytesMax, 'listing entry string too long');
    total += 1 + n;
  }
  const out = Buffer.allocUnsafe(total);
  out[0] = listingEntryFormat;
  out[1] = e.checksumAlgorithms.length;
  out[2] = 0;
  out[3] = 0;
  writeU64(out, 4, e.seq);
  writeU64(out, 12, e.size);
  writeU64(out, 20, e.lastModifiedMs);
  let at = fixedBytes;
  for (const s of strings) {
    const n = out.write(s, at + 1, 'utf8');
    out[at] = n;
    at += 1 + n;
  }
  assert(at === total, 'listing entry length');
  return out;
}

/**
 * Decodes `bytes[0, bytes.length)`. LMDB hands over a reused buffer whose `length` is the value's
 * size; everything is copied out, nothing keeps a reference to it.
 */
export function decodeListingEntry(bytes: Uint8Array): ListingEntry {
  const end = bytes.length;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, end);
  assert(end >= fixedBytes && b[0] === listingEntryFormat, 'listing entry: unknown format');
  const count = b[1] ?? 0;
  // Each string: a length byte, then its bytes. No closure here: this runs a thousand times a page.
  let at = fixedBytes;
  const versionId = readString(b, at, end);
  at += 1 + (b[at] ?? 0);
  const etag = readString(b, at, end);
  at += 1 + (b[at] ?? 0);
  const storageClass = readString(b, at, end);
  at += 1 + (b[at] ?? 0);
  const checksumType = readString(b, at, end);
  at += 1 + (b[at] ?? 0);
  const checksumAlgorithms: string[] = [];
  for (let i = 0; i < count; i++) {
    checksumAlgorithms.push(readString(b, at, end));
    at += 1 + (b[at] ?? 0);
  }
  assert(at === end, 'listing entry: trailing bytes');
  return {
    v: listingEntryFormat,
    versionId,
    seq: readU64(b, 4),
    size: readU64(b, 12),
    etag,
    lastModifiedMs: readU64(b, 20),
    storageClass,
    checksumAlgorithms,
    checksumType,
  };
}

/** The encoder LMDB calls for the `objects` database. */
export const listingEntryEncoder = {
  encode: encodeListingEntry,
  decode: decodeListingEntry,
};

function readString(b: Buffer, at: number, end: number): string {
  const stop = at + 1 + (b[at] ?? 0);
  assert(stop <= end, 'listing entry: truncated');
  // Empty strings (no checksum type) are common and need no decoding.
  return stop === at + 1 ? '' : b.toString('utf8', at + 1, stop);
}

function writeU64(b: Buffer, at: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, 'listing entry integer');
  b.writeUInt32LE(n % twoTo32, at);
  b.writeUInt32LE(Math.floor(n / twoTo32), at + 4);
}

function readU64(b: Buffer, at: number): number {
  const n = b.readUInt32LE(at + 4) * twoTo32 + b.readUInt32LE(at);
  assert(Number.isSafeInteger(n), 'listing entry integer');
  return n;
}
