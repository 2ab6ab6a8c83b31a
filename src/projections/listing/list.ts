/**
 * ListObjects over the ordered `objects` database. Keys come out in S3 order (UTF-8 bytes).
 * With a delimiter, each common prefix is emitted once and the scan then seeks straight past the
 * whole group (prefixSuccessor), so a prefix holding a million keys costs one seek, not a million
 * steps. All comparisons are on bytes, never on JS strings (UTF-16 order differs from UTF-8).
 */
import type { Database } from 'lmdb';
import { assert } from '../../lib/assert.ts';
import { limits } from '../../lib/limits.ts';
import { bucketPrefixBytes, keyFromObjectKeyBytes, keySuccessor, prefixSuccessor } from '../../model/keys.ts';
import type { ListingEntry } from '../../model/records.ts';

export interface ListQuery {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string;
  /** Exclusive: only keys (and common prefixes) after this one are listed. */
  readonly after: string;
  readonly maxKeys: number;
}

export interface ListEntry {
  readonly key: string;
  readonly record: ListingEntry;
}

export interface ListPage {
  readonly contents: ListEntry[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts (exclusive). */
  readonly last: string | undefined;
}

export function listObjects(objects: Database<ListingEntry, Buffer>, q: ListQuery): ListPage {
  assert(q.maxKeys >= 0 && q.maxKeys <= limits.listKeysMax, 'maxKeys out of range');
  const bucketPrefix = bucketPrefixBytes(q.bucket);
  const bucketPrefixLen = bucketPrefix.length;
  const scanPrefix = Buffer.concat([bucketPrefix, Buffer.from(q.prefix, 'utf8')]);
  const end = prefixSuccessor(bucketPrefix);
  const afterBytes = q.after === '' ? undefined : Buffer.concat([bucketPrefix, Buffer.from(q.after, 'utf8')]);
  let pos = afterBytes && Buffer.compare(afterBytes, scanPrefix) >= 0 ? keySuccessor(afterBytes) : scanPrefix;
  const delim = Buffer.from(q.delimiter, 'utf8');
  const contents: ListEntry[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  let isTruncated = false;

  outer: while (true) {
    // One range read per contiguous run of keys; a common prefix restarts the range after its group.
    // With a delimiter most keys found end in a group: their values are never decoded (a
    // content key's value is read by key), and each seek reads one key, not a page of values.
    const range: Iterable<Buffer | { key: Buffer; value: ListingEntry }> = delim.length > 0 ? objects.getKeys({ start: pos, end }) : objects.getRange({ start: pos, end });
    for (const item of range) {
      const key = Buffer.isBuffer(item) ? item : item.key;
      if (!startsWith(key, scanPrefix)) break outer;
      if (delim.length > 0) {
        const at = key.indexOf(delim, scanPrefix.length);
        if (at >= 0) {
          const group = key.subarray(0, at + delim.length);
          const next = prefixSuccessor(group);
          // A group at or before the marker was returned on an earlier page.
          if (!afterBytes || Buffer.compare(group, afterBytes) > 0) {
            if (contents.length + commonPrefixes.length >= q.maxKeys) {
              isTruncated = true;
              break outer;
            }
            const cp = keyFromObjectKeyBytes(q.bucket, group);
            commonPrefixes.push(cp);
            last = cp;
          }
          pos = next;
          continue outer;
        }
      }
      if (contents.length + commonPrefixes.length >= q.maxKeys) {
        isTruncated = true;
        break outer;
      }
      const k = key.toString('utf8', bucketPrefixLen, key.length);
      const value = Buffer.isBuffer(item) ? objects.get(key) : item.value;
      assert(value !== undefined, 'a listed key has its entry');
      contents.push({ key: k, record: value });
      last = k;
    }
    break;
  }
  return { contents, commonPrefixes, isTruncated, last };
}

function startsWith(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
