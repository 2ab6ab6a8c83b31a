/**
 * Key encoding of the object read model (pure). LMDB orders keys by their bytes, which is the
 * order S3 lists keys in (UTF-8 byte order):
 *
 *   objects:  <bucket UTF-8> 0x00 <key UTF-8>
 *
 * Bucket names cannot contain 0x00, so one bucket's keys form one contiguous range.
 */
import { assert } from '../lib/assert.ts';

const sep = Buffer.from([0]);

export function bucketPrefixBytes(bucket: string): Buffer {
  return Buffer.concat([Buffer.from(bucket, 'utf8'), sep]);
}

export function objectKeyBytes(bucket: string, key: string): Buffer {
  return objectKeyWithTail(bucket, key, 0);
}

/**
 * The last `<bucket> 0x00 <key>` encoded: applying one event builds three or four keys of the
 * same object (version, version id, listing entry, the lookups before them), and a listing builds
 * several of the same prefix. A hit copies bytes instead of UTF-8 encoding both strings again.
 */
let memoBucket = '';
let memoKey = '';
let memoBytes: Buffer = Buffer.alloc(0);

/**
 * `<bucket> 0x00 <key>` followed by `tailBytes` bytes for the caller to fill, in one allocation.
 */
function objectKeyWithTail(bucket: string, key: string, tailBytes: number): Buffer {
  if (bucket !== memoBucket || key !== memoKey || memoBytes.length === 0) {
    const bucketBytes = Buffer.byteLength(bucket, 'utf8');
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const prefix = Buffer.allocUnsafe(bucketBytes + 1 + keyBytes);
    prefix.write(bucket, 0, 'utf8');
    prefix[bucketBytes] = 0;
    prefix.write(key, bucketBytes + 1, 'utf8');
    memoBucket = bucket;
    memoKey = key;
    memoBytes = prefix;
  }
  const out = Buffer.allocUnsafe(memoBytes.length + tailBytes);
  memoBytes.copy(out, 0);
  return out;
}

/** The object key held in an encoded LMDB key of `bucket`. */
export function keyFromObjectKeyBytes(bucket: string, bytes: Buffer): string {
  const prefixLen = Buffer.byteLength(bucket, 'utf8') + 1;
  return bytes.subarray(prefixLen).toString('utf8');
}

/**
 * The smallest byte string greater than every string that starts with `prefix`: used to seek
 * past a whole common-prefix group (or a whole bucket) in one step instead of visiting its keys.
 */
export function prefixSuccessor(prefix: Buffer): Buffer {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i] = (out[i] ?? 0) + 1;
      return out.subarray(0, i + 1);
    }
  }
  assert(false, 'prefix of only 0xff bytes has no successor');
}

/** The smallest byte string greater than `key` (key + 0x00): "start after key". */
export function keySuccessor(key: Buffer): Buffer {
  return Buffer.concat([key, sep]);
}

/**
 * Versions: `<bucket> 0x00 <key> 0x00 <2^64-1-seq as 8 bytes big-endian>`: one key's versions
 * are contiguous and newest first; keys stay in S3 order because 0x00 sorts below every byte a
 * key can continue with (keys containing U+0000 are refused at the edge).
 */
export function versionKeyBytes(bucket: string, key: string, seq: number): Buffer {
  assert(Number.isSafeInteger(seq) && seq >= 0, 'sequence');
  const out = objectKeyWithTail(bucket, key, 9);
  const at = out.length - 9;
  out[at] = 0;
  // 2^64-1-seq, big-endian, as two 32-bit halves (each half of 2^64-1 is all ones, so no borrow).
  out.writeUInt32BE(0xffff_ffff - Math.floor(seq / 2 ** 32), at + 1);
  out.writeUInt32BE(0xffff_ffff - (seq % 2 ** 32), at + 5);
  return out;
}

/** The range of one key's versions (newest first). */
export function versionRangeOfKey(bucket: string, key: string): { start: Buffer; end: Buffer } {
  const start = Buffer.concat([objectKeyBytes(bucket, key), sep]);
  return { start, end: prefixSuccessor(start) };
}

/** Key and sequence held in an encoded version key of `bucket`. */
export function parseVersionKeyBytes(bucket: string, bytes: Buffer): { key: string; seq: number } {
  const prefixLen = Buffer.byteLength(bucket, 'utf8') + 1;
  assert(bytes.length >= prefixLen + 9, 'version key too short');
  const key = bytes.subarray(prefixLen, bytes.length - 9).toString('utf8');
  const seq = Number(0xffff_ffff_ffff_ffffn - bytes.readBigUInt64BE(bytes.length - 8));
  return { key, seq };
}

/** Version id index: `<bucket> 0x00 <key> 0x00 <version id>` → sequence. */
export function versionIdKeyBytes(bucket: string, key: string, versionId: string): Buffer {
  const idBytes = Buffer.byteLength(versionId, 'utf8');
  const out = objectKeyWithTail(bucket, key, 1 + idBytes);
  out[out.length - idBytes - 1] = 0;
  out.write(versionId, out.length - idBytes, 'utf8');
  return out;
}

/** Multipart uploads: `<bucket> 0x00 <key> 0x00 <upload id>` (by key, then by upload id). */
export function uploadKeyBytes(bucket: string, key: string, uploadId: string): Buffer {
  return Buffer.concat([objectKeyBytes(bucket, key), sep, Buffer.from(uploadId, 'utf8')]);
}

/** Parts of an upload: `<upload id> 0x00 <part number as u32 big-endian>` (ascending). */
export function partKeyBytes(uploadId: string, partNumber: number): Buffer {
  assert(Number.isInteger(partNumber) && partNumber >= 0 && partNumber <= 0xffffffff, 'part number');
  const n = Buffer.alloc(4);
  n.writeUInt32BE(partNumber);
  return Buffer.concat([Buffer.from(uploadId, 'utf8'), sep, n]);
}
