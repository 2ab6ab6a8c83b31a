/**
 * The Range header of GetObject/HeadObject and x-amz-copy-source-range of UploadPartCopy. Pure.
 *
 * GetObject follows AWS: one range of `bytes=a-b`, `bytes=a-` or `bytes=-n` is served as 206 (an
 * end past the object is cut to its last byte); a range that starts at or past the end, a suffix
 * of zero bytes, and any range of an empty object are unsatisfiable (416 InvalidRange with
 * `Content-Range: bytes *\/size`); anything else (several ranges, another unit, `b < a`, junk) is
 * ignored and the whole object is served, as RFC 9110 §14.2 allows and S3 does.
 */
import { s3Error, type S3Error } from './errors.ts';

export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const singleByteRange = /^bytes=(\d*)-(\d*)$/i;

/** The bytes a GET with this Range header reads from an object of `size` bytes (end inclusive). */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const match = singleByteRange.exec(header.trim());
  if (match === null) return { kind: 'full' };
  const first = match[1] ?? '';
  const last = match[2] ?? '';
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffixBytes = Number(last);
    if (suffixBytes === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffixBytes), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last);
  if (end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

/** `Content-Range` of a 206 answer. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** The 416 AWS sends for an unsatisfiable range, with its extra fields and Content-Range header. */
export function invalidRangeError(header: string, size: number): S3Error {
  return s3Error(
    'InvalidRange',
    undefined,
    { RangeRequested: header, ActualObjectSize: String(size) },
    { 'Content-Range': `bytes */${size}` },
  );
}

export type CopySourceRangeResult =
  | { readonly ok: true; readonly start: number; readonly end: number }
  | { readonly ok: false; readonly error: S3Error };

const copySourceRange = /^bytes=(\d+)-(\d+)$/;

/**
 * x-amz-copy-source-range of UploadPartCopy, which unlike Range is strict: it must be
 * `bytes=first-last` and lie inside the source object, else InvalidArgument.
 */
export function parseCopySourceRange(header: string, sourceSize: number): CopySourceRangeResult {
  const match = copySourceRange.exec(header.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (match === null || end < start) {
    const message = 'The x-amz-copy-source-range value must be of the form bytes=first-last where ' +
      'first and last are the zero-based offsets of the first and last bytes to copy';
    return { ok: false, error: s3Error('InvalidArgument', message) };
  }
  if (end >= sourceSize) {
    const message = `Range specified is not valid for source object of size: ${sourceSize}`;
    return { ok: false, error: s3Error('InvalidArgument', message) };
  }
  return { ok: true, start, end };
}
