/**
 * Request pieces the multipart and copy handlers share: the If-None-Match / If-Match headers of a
 * write, the x-amz-copy-source header, part numbers, and checksums as XML elements. Pure.
 */
import type { ChecksumValue } from '../events/types.ts';
import type { WriteCondition } from '../gateway/conditional-write.ts';
import { limits } from '../lib/limits.ts';
import { normalizeEtag } from './conditional.ts';
import { s3Error } from './errors.ts';
import { headerValue, type RequestHeaders } from './route.ts';
import type { Checksums } from './xml/responses.ts';

/**
 * If-None-Match / If-Match of PutObject, CompleteMultipartUpload and CopyObject. S3 accepts only
 * `*` in If-None-Match on writes; anything else is 501 NotImplemented, as AWS answers.
 */
export function readWriteCondition(headers: RequestHeaders): WriteCondition | undefined {
  const ifNoneMatch = headerValue(headers, 'if-none-match')?.trim();
  const ifMatch = headerValue(headers, 'if-match')?.trim();
  if ((ifNoneMatch === undefined || ifNoneMatch === '') && (ifMatch === undefined || ifMatch === '')) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch !== '' && ifNoneMatch !== '*') {
    throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
  return {
    ...(ifNoneMatch === '*' ? { ifNoneMatch: '*' as const } : {}),
    ...(ifMatch !== undefined && ifMatch !== '' ? { ifMatch: ifMatch === '*' ? '*' : normalizeEtag(ifMatch) } : {}),
  };
}

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
}

/** x-amz-copy-source: `[/]bucket/key[?versionId=id]`, the key url-encoded. */
export function parseCopySource(header: string): CopySource {
  let raw = header.trim();
  let versionId: string | undefined;
  const q = raw.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(raw.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    raw = raw.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw s3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: header });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** partNumber query parameter: an integer in 1..10000, else InvalidArgument. */
export function readPartNumber(raw: string | null): number {
  const n = raw === null ? NaN : Number(raw);
  if (raw === null || !/^\d+$/.test(raw) || n < 1 || n > limits.multipartPartsMax) {
    throw s3Error('InvalidArgument', `Part number must be an integer between 1 and ${limits.multipartPartsMax}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: raw ?? '' });
  }
  return n;
}

/** A bounded non-negative integer query parameter (max-parts, max-uploads, part-number-marker). */
export function readIntParam(raw: string | null, name: string, dflt: number, max: number): number {
  if (raw === null || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw s3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(Number(raw), max);
}

/** Stored checksums as the XML elements (ChecksumCRC32, ...). */
export function checksumsXml(values: readonly ChecksumValue[]): Checksums {
  const out: Record<string, string> = {};
  for (const c of values) out[`Checksum${c.algorithm}`] = c.value;
  return out as Checksums;
}
