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
  return Buffer.concat([Buffer.from(bucket, 'utf8'), sep, Buffer.from(key, 'utf8')]);
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
