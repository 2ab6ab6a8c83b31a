/**
 * ListObjectVersions over the `versions` database (`<bucket> 0 <key> 0 <inverted seq>`): keys in
 * S3 order, each key's versions newest first, delete markers included. Common prefixes skip their
 * whole group in one seek, as in list.ts.
 */
import type { Database } from 'lmdb';
import { assert } from '../../lib/assert.ts';
import { limits } from '../../lib/limits.ts';
import { bucketPrefixBytes, keyFromObjectKeyBytes, keySuccessor, objectKeyBytes, parseVersionKeyBytes, prefixSuccessor, versionKeyBytes, versionRangeOfKey } from '../../model/keys.ts';
import type { VersionRecord } from '../../model/records.ts';

export interface ListVersionsQuery {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string;
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly maxKeys: number;
  /** Sequence of (keyMarker, versionIdMarker), looked up by the caller; undefined when unknown. */
  readonly markerSeq: number | undefined;
}

export interface VersionEntry {
  readonly key: string;
  readonly record: VersionRecord;
  readonly isLatest: boolean;
}

export interface ListVersionsPage {
  readonly entries: VersionEntry[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
}

export function listObjectVersions(versions: Database<VersionRecord, Buffer>, q: ListVersionsQuery): ListVersionsPage {
  assert(q.maxKeys >= 0 && q.maxKeys <= limits.listKeysMax, 'maxKeys out of range');
  const bucketPrefix = bucketPrefixBytes(q.bucket);
  const scanPrefix = Buffer.concat([bucketPrefix, Buffer.from(q.prefix, 'utf8')]);
  const end = prefixSuccessor(bucketPrefix);
  let pos: Buffer = scanPrefix;
  // Where the previous page stopped: inside a key's versions, or after a whole key. A
  // version-id-marker whose version is gone (deleted since that page, as a client emptying the
  // bucket page by page does) has no position left: the key's remaining versions are listed from
  // its newest, which may repeat some of the previous page but never skips one.
  let midKey: string | undefined;
  if (q.keyMarker !== '') {
    const range = versionRangeOfKey(q.bucket, q.keyMarker);
    let after: Buffer;
    if (q.versionIdMarker === '') after = range.end;
    else if (q.markerSeq === undefined) after = range.start;
    else {
      after = keySuccessor(versionKeyBytes(q.bucket, q.keyMarker, q.markerSeq));
      midKey = q.keyMarker;
    }
    if (Buffer.compare(after, pos) > 0) pos = after;
  }
  const markerBytes = q.keyMarker === '' ? undefined : objectKeyBytes(q.bucket, q.keyMarker);
  const delim = Buffer.from(q.delimiter, 'utf8');
  const entries: VersionEntry[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let nextKeyMarker: string | undefined;
  let nextVersionIdMarker: string | undefined;
  let currentKey: string | undefined = midKey;
  const full = (): boolean => entries.length + commonPrefixes.length >= q.maxKeys;

  outer: while (true) {
    for (const { key: raw, value } of versions.getRange({ start: pos, end })) {
      if (!startsWith(raw, scanPrefix)) break outer;
      // The key part ends 9 bytes before the end (0x00 + 8-byte inverted sequence).
      const keyEnd = raw.length - 9;
      if (delim.length > 0) {
        const at = raw.subarray(0, keyEnd).indexOf(delim, scanPrefix.length);
        if (at >= 0) {
          const group = raw.subarray(0, at + delim.length);
          if (!markerBytes || Buffer.compare(group, markerBytes) > 0) {
            if (full()) {
              isTruncated = true;
              break outer;
            }
            const cp = keyFromObjectKeyBytes(q.bucket, group);
            commonPrefixes.push(cp);
            nextKeyMarker = cp;
            nextVersionIdMarker = undefined;
          }
          pos = prefixSuccessor(group);
          continue outer;
        }
      }
      if (full()) {
        isTruncated = true;
        break outer;
      }
      const { key } = parseVersionKeyBytes(q.bucket, raw);
      const isLatest = key !== currentKey;
      currentKey = key;
      entries.push({ key, record: value, isLatest });
      nextKeyMarker = key;
      nextVersionIdMarker = value.versionId;
    }
    break;
  }
  return isTruncated
    ? { entries, commonPrefixes, isTruncated, nextKeyMarker, nextVersionIdMarker }
    : { entries, commonPrefixes, isTruncated, nextKeyMarker: undefined, nextVersionIdMarker: undefined };
}

function startsWith(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
