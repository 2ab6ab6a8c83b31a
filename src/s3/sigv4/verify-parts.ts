/**
 * Parsers for the pieces of a SigV4 request: credential scope, timestamps, SignedHeaders and the
 * x-amz-content-sha256 payload declaration. Shared by header and presigned verification.
 */
import type { S3ErrorCode } from '../errors.ts';

export interface Failure {
  ok: false;
  code: S3ErrorCode;
  message?: string;
  extra?: Record<string, string>;
}

/** How the request body is protected, from x-amz-content-sha256 (or the presign rules). */
export type PayloadMode =
  | { kind: 'unsigned' }
  /** The signature covers this hash; the body must be checked against it while streaming. */
  | { kind: 'sha256'; hex: string }
  /** aws-chunked with per-chunk signatures; `trailer`: signed trailing headers follow. */
  | { kind: 'streaming-signed'; trailer: boolean }
  /** aws-chunked without chunk signatures, with trailing headers (usually a checksum). */
  | { kind: 'streaming-unsigned-trailer' };

export function parsePayloadHash(value: string): PayloadMode | Failure {
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    case 'STREAMING-AWS4-HMAC-SHA256-EVENTS':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      return { ok: false, code: 'NotImplemented', message: `x-amz-content-sha256 ${value} is not supported.` };
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  return {
    ok: false,
    code: 'InvalidArgument',
    message:
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.',
    extra: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  };
}

/** `yyyymmddThhmmssZ` → epoch ms, or undefined if malformed or not a real date. */
export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls over out-of-range fields (month 13, hour 25); a real date round-trips.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  if (back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s) return undefined;
  return ms;
}

export interface Credential {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
}

/** `AKID/yyyymmdd/region/s3/aws4_request`. Problems are phrased as AWS phrases them. */
export function parseCredential(text: string): Credential | { problem: string } {
  const parts = text.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    return { problem: 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".' };
  }
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) return { problem: `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".` };
  if (service !== 's3') return { problem: `incorrect service "${service}". This endpoint belongs to "s3".` };
  if (terminal !== 'aws4_request') return { problem: `incorrect terminal "${terminal}". This endpoint uses "aws4_request".` };
  return { accessKeyId, date, region };
}

/** SignedHeaders: lowercase names separated by ';', which must include host. */
export function requireSignedHeaders(text: string): { names: string[] } | { problem: string } {
  const names = text.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase() || /[\s:]/.test(n))) {
    return { problem: 'the SignedHeaders are malformed.' };
  }
  if (!names.includes('host')) return { problem: 'the host header must be signed.' };
  return { names };
}
