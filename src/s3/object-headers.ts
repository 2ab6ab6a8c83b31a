/**
 * Object headers in and out: which request headers are stored with an object (Content-Type,
 * x-amz-meta-*, ...), how checksums are declared, and the headers GET/HEAD answer with. Pure.
 */
import type { ObjectHeaders } from '../gateway/types.ts';
import { checksumAlgorithmFromHeaderName, checksumDigestBytes, checksumHeaderName, parseChecksumAlgorithm, type ChecksumAlgorithm } from '../lib/checksums.ts';
import { limits } from '../lib/limits.ts';
import type { ObjectRecord } from '../model/records.ts';
import { s3Error } from './errors.ts';
import { formatHttpDate } from './http-dates.ts';
import { headerValue, type RequestHeaders } from './route.ts';

const storageClasses = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE']);

export function readObjectHeaders(headers: RequestHeaders): ObjectHeaders {
  const userMetadata: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const v = typeof value === 'string' ? value : value.join(',');
    const n = name.slice('x-amz-meta-'.length);
    metaBytes += Buffer.byteLength(n) + Buffer.byteLength(v);
    userMetadata[n] = v;
  }
  if (metaBytes > limits.userMetadataBytesMax) throw s3Error('MetadataTooLarge', undefined, { Size: String(metaBytes), MaxSizeAllowed: String(limits.userMetadataBytesMax) });
  const storageClass = headerValue(headers, 'x-amz-storage-class') ?? 'STANDARD';
  if (!storageClasses.has(storageClass)) throw s3Error('InvalidArgument', 'The storage class you specified is not valid', { ArgumentName: 'x-amz-storage-class', ArgumentValue: storageClass });
  return {
    contentType: headerValue(headers, 'content-type') ?? '',
    contentEncoding: stripAwsChunked(headerValue(headers, 'content-encoding') ?? ''),
    contentDisposition: headerValue(headers, 'content-disposition') ?? '',
    contentLanguage: headerValue(headers, 'content-language') ?? '',
    cacheControl: headerValue(headers, 'cache-control') ?? '',
    expires: headerValue(headers, 'expires') ?? '',
    userMetadata,
    storageClass,
  };
}

/** `aws-chunked` describes the transfer, not the object: it is not stored (as S3 does). */
function stripAwsChunked(v: string): string {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
    .join(', ');
}

/** Content-MD5 as 16 bytes; InvalidDigest when it is not base64 of 16 bytes. */
export function readContentMd5(headers: RequestHeaders): Buffer | undefined {
  const v = headerValue(headers, 'content-md5');
  if (v === undefined) return undefined;
  const b = Buffer.from(v, 'base64');
  if (b.length !== 16 || b.toString('base64') !== v.trim()) throw s3Error('InvalidDigest');
  return b;
}

export type DeclaredChecksum =
  | { readonly algorithm: ChecksumAlgorithm; readonly source: 'header'; readonly value: string }
  | { readonly algorithm: ChecksumAlgorithm; readonly source: 'trailer'; readonly header: string };

/**
 * The flexible checksum a request declares: an x-amz-checksum-* header with its value, or one
 * named by x-amz-trailer (value arrives after the body). More than one → InvalidRequest.
 */
export function readDeclaredChecksum(headers: RequestHeaders): DeclaredChecksum | undefined {
  const found: DeclaredChecksum[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-mode' || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm') continue;
    const algorithm = checksumAlgorithmFromHeaderName(name);
    if (!algorithm) throw s3Error('InvalidRequest', `Unsupported checksum header ${name}.`);
    const v = typeof value === 'string' ? value : (value ?? []).join(',');
    if (!validChecksumValue(algorithm, v)) throw s3Error('InvalidRequest', `Value for ${name} header is invalid.`);
    found.push({ algorithm, source: 'header', value: v });
  }
  const trailer = headerValue(headers, 'x-amz-trailer');
  if (trailer !== undefined) {
    const algorithm = checksumAlgorithmFromHeaderName(trailer.trim().toLowerCase());
    if (!algorithm) throw s3Error('InvalidRequest', `Unsupported trailer ${trailer}.`);
    found.push({ algorithm, source: 'trailer', header: trailer.trim().toLowerCase() });
  }
  if (found.length > 1) throw s3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkAlg = headerValue(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdkAlg !== undefined && !parseChecksumAlgorithm(sdkAlg)) throw s3Error('InvalidRequest', `Checksum algorithm ${sdkAlg} is not supported.`);
  return found[0];
}

export function validChecksumValue(algorithm: ChecksumAlgorithm, v: string): boolean {
  const b = Buffer.from(v, 'base64');
  return b.length === checksumDigestBytes[algorithm] && b.toString('base64') === v.trim();
}

/** Headers of a GET/HEAD answer describing the object (not the range or the body). */
export function objectResponseHeaders(rec: ObjectRecord, checksumMode: boolean): Record<string, string> {
  const h: Record<string, string> = {
    ETag: `"${rec.etag}"`,
    'Last-Modified': formatHttpDate(rec.lastModifiedMs),
    'Accept-Ranges': 'bytes',
    'Content-Type': rec.contentType || 'binary/octet-stream',
  };
  if (rec.contentEncoding) h['Content-Encoding'] = rec.contentEncoding;
  if (rec.contentDisposition) h['Content-Disposition'] = rec.contentDisposition;
  if (rec.contentLanguage) h['Content-Language'] = rec.contentLanguage;
  if (rec.cacheControl) h['Cache-Control'] = rec.cacheControl;
  if (rec.expires) h['Expires'] = rec.expires;
  if (rec.storageClass && rec.storageClass !== 'STANDARD') h['x-amz-storage-class'] = rec.storageClass;
  for (const [k, v] of Object.entries(rec.userMetadata)) h[`x-amz-meta-${k}`] = v;
  if (checksumMode) {
    for (const c of rec.checksums) {
      const alg = parseChecksumAlgorithm(c.algorithm);
      if (!alg) continue;
      h[checksumHeaderName(alg)] = c.value;
      h['x-amz-checksum-type'] = c.type;
    }
  }
  return h;
}

/** response-* query parameters override answer headers of a GET (signed requests only). */
export const responseOverrides: ReadonlyArray<readonly [string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];
