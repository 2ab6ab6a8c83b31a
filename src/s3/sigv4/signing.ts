/**
 * SigV4 primitives shared by request verification and aws-chunked decoding: signing-key
 * derivation (cached), the three string-to-sign shapes S3 uses, and constant-time comparison.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { limits } from '../../lib/limits.ts';

export const sigv4Algorithm = 'AWS4-HMAC-SHA256';
export const emptySha256Hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What a streaming (aws-chunked) body needs to verify its chunk and trailer signatures. */
export interface SigningContext {
  /** kSigning = HMAC chain over date, region, service, "aws4_request". */
  readonly signingKey: Buffer;
  /** `yyyymmdd/region/s3/aws4_request` */
  readonly scope: string;
  /** `yyyymmddThhmmssZ` as used in the seed string-to-sign. */
  readonly amzDate: string;
  /** Lowercase hex signature of the request headers; chunk 1 chains from it. */
  readonly seedSignature: string;
}

export function hmacSha256(key: Buffer | string, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Derived keys are cached because every request of a client on a given day uses the same one, and
 * deriving costs four HMACs. The key includes the secret itself so a rotated secret never hits a
 * stale entry. Eviction is oldest-first (Map keeps insertion order).
 */
const signingKeyCache = new Map<string, Buffer>();

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  const cached = signingKeyCache.get(cacheKey);
  if (cached) return cached;
  const kDate = hmacSha256(`AWS4${secret}`, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  const kSigning = hmacSha256(kService, 'aws4_request');
  if (signingKeyCache.size >= limits.sigv4SigningKeyCacheEntriesMax) {
    const oldest = signingKeyCache.keys().next();
    if (!oldest.done) signingKeyCache.delete(oldest.value);
  }
  signingKeyCache.set(cacheKey, kSigning);
  return kSigning;
}

/**
 * The canonical request is hashed as the bytes the client saw. node:http gives header values one
 * char per wire byte (latin1), so a UTF-8 header value arrives as several chars that must be
 * hashed back as those bytes; only strings built outside node:http can hold chars above U+00FF.
 */
export function requestStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  const bytes = Buffer.from(canonicalRequest, /[^\x00-\xff]/.test(canonicalRequest) ? 'utf8' : 'latin1');
  return `${sigv4Algorithm}\n${amzDate}\n${scope}\n${sha256Hex(bytes)}`;
}

/** String to sign of one aws-chunked chunk; the empty-headers hash is fixed by the protocol. */
export function chunkStringToSign(ctx: SigningContext, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${ctx.amzDate}\n${ctx.scope}\n${previousSignature}\n${emptySha256Hex}\n${chunkSha256Hex}`;
}

/** String to sign of the trailing headers, chained from the final (zero-length) chunk's signature. */
export function trailerStringToSign(ctx: SigningContext, previousSignature: string, trailersSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${ctx.amzDate}\n${ctx.scope}\n${previousSignature}\n${trailersSha256Hex}`;
}

const hexSignature = /^[0-9a-fA-F]{64}$/;

export function isHexSignature(s: string): boolean {
  return hexSignature.test(s);
}

/** Constant-time comparison of a provided hex signature with the computed MAC. */
export function signatureMatches(providedHex: string, expected: Buffer): boolean {
  if (!hexSignature.test(providedHex)) return false;
  const provided = Buffer.from(providedHex, 'hex');
  return provided.length === expected.length && timingSafeEqual(provided, expected);
}
