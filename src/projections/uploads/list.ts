/**
 * ListMultipartUploads over the ordered `uploads` database (`<bucket> 0x00 <key> 0x00 <uploadId>`):
 * uploads come out by key (UTF-8 byte order), then by upload id, which sorts by initiation time.
 * Markers follow S3: without upload-id-marker, listing resumes after every upload of key-marker;
 * with it, after that upload of key-marker. A delimiter groups keys into common prefixes, each
 * emitted once, and the scan seeks past the whole group.
 */
import type { Database } from 'lmdb';
import { assert } from '../../lib/assert.ts';
import { limits } from '../../lib/limits.ts';
import { bucketPrefixBytes, keySuccessor, prefixSuccessor } from '../../model/keys.ts';
import type { UploadRecord } from '../../model/uploads.ts';

export interface UploadListQuery {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly maxUploads: number;
}

export interface UploadListPage {
  readonly uploads: UploadRecord[];
  readonly commonPrefixes: string[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextUploadIdMarker: string | undefined;
}

const sep = Buffer.from([0]);

export function listUploads(uploads: Database<UploadRecord, Buffer>, q: UploadListQuery): UploadListPage {
  assert(q.maxUploads >= 0 && q.maxUploads <= limits.listUploadsMax, 'maxUploads out of range');
  const bucketPrefix = bucketPrefixBytes(q.bucket);
  const scanPrefix = Buffer.concat([bucketPrefix, Buffer.from(q.prefix, 'utf8')]);
  const end = prefixSuccessor(bucketPrefix);
  let pos: Buffer = scanPrefix;
  if (q.keyMarker !== '') {
    const markerKey = Buffer.concat([bucketPrefix, Buffer.from(q.keyMarker, 'utf8'), sep]);
    const after = q.uploadIdMarker === '' ? prefixSuccessor(markerKey) : keySuccessor(Buffer.concat([markerKey, Buffer.from(q.uploadIdMarker, 'utf8')]));
    if (Buffer.compare(after, pos) > 0) pos = after;
  }
  const out: UploadRecord[] = [];
  const commonPrefixes: string[] = [];
  let isTruncated = false;
  let nextKeyMarker: string | undefined;
  let nextUploadIdMarker: string | undefined;
  const full = (): boolean => out.length + commonPrefixes.length >= q.maxUploads;

  outer: while (true) {
    for (const { key, value } of uploads.getRange({ start: pos, end })) {
      if (!startsWith(key, scanPrefix)) break outer;
      if (q.delimiter !== '') {
        const at = value.key.indexOf(q.delimiter, q.prefix.length);
        if (at >= 0) {
          const cp = value.key.slice(0, at + q.delimiter.length);
          // A group at or before the key marker was returned on an earlier page.
          if (q.keyMarker === '' || cp > q.keyMarker || !q.keyMarker.startsWith(cp)) {
            if (full()) {
              isTruncated = true;
              break outer;
            }
            commonPrefixes.push(cp);
            nextKeyMarker = cp;
            nextUploadIdMarker = undefined;
          }
          pos = prefixSuccessor(Buffer.concat([bucketPrefix, Buffer.from(cp, 'utf8')]));
          continue outer;
        }
      }
      if (full()) {
        isTruncated = true;
        break outer;
      }
      out.push(value);
      nextKeyMarker = value.key;
      nextUploadIdMarker = value.uploadId;
    }
    break;
  }
  return {
    uploads: out,
    commonPrefixes,
    isTruncated,
    nextKeyMarker: isTruncated ? nextKeyMarker : undefined,
    nextUploadIdMarker: isTruncated ? nextUploadIdMarker : undefined,
  };
}

function startsWith(b: Buffer, prefix: Buffer): boolean {
  return b.length >= prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}
