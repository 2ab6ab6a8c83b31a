/**
 * SigV4 verification of an S3 request, by Authorization header or by presigned query string.
 *
 * Pure: the request as received, a secret lookup and the current time go in; a discriminated
 * result comes out. Reading the body is the caller's job, guided by `payload`:
 *   - `sha256`: pipe the body through `createSha256Verifier(hex)` (body-verifier.ts);
 *   - `streaming-signed` / `streaming-unsigned-trailer`: decode it with
 *     `createAwsChunkedDecoder(awsChunkedOptions(headers, result))` (chunked.ts);
 *   - `unsigned`: nothing to check here (x-amz-checksum-* headers still apply).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { limits } from '../../lib/limits.ts';
import type { S3ErrorCode } from '../errors.ts';
import { canonicalHeaderValue, canonicalQueryString, canonicalRequest, canonicalUri, parseQuery } from './canonical.ts';
import type { QueryParam } from './canonical.ts';
import {
  deriveSigningKey,
  hmacSha256,
  isHexSignature,
  requestStringToSign,
  signatureMatches,
  sigv4Algorithm,
} from './signing.ts';
import type { SigningContext } from './signing.ts';
import { parseAmzDate, parseCredential, parsePayloadHash, requireSignedHeaders } from './verify-parts.ts';
import type { Failure, PayloadMode } from './verify-parts.ts';

export type { Failure, PayloadMode } from './verify-parts.ts';
export type { SigningContext } from './signing.ts';

export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as received: `req.url` of node:http. */
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * `req.headersDistinct` of node:http, when available. Node joins repeated headers with ", "
   * while SigV4 joins them with ","; with this the canonical form is exact.
   */
  readonly headersDistinct?: NodeJS.Dict<string[]>;
}

export type AuthResult =
  | {
      ok: true;
      accessKeyId: string;
      /** Region from the credential scope. We serve one region and accept any name here. */
      region: string;
      presigned: boolean;
      payload: PayloadMode;
      signing: SigningContext;
    }
  | Failure;

export type SecretLookup = (accessKeyId: string) => string | undefined;

const presignParams = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
] as const;
type PresignParam = (typeof presignParams)[number];

export function verifyRequest(req: SignedRequest, lookupSecret: SecretLookup, nowMs: number): AuthResult {
  const { rawPath, rawQuery } = splitRawUrl(req.rawUrl);
  const query = parseQuery(rawQuery);
  const authorization = headerText(req.headers, 'authorization');
  const presigned = query.some((p) => p.name === 'X-Amz-Algorithm');
  if (authorization !== undefined && presigned) {
    return fail(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  if (authorization !== undefined) return verifyHeaderAuth(req, authorization, rawPath, query, lookupSecret, nowMs);
  if (presigned) return verifyPresigned(req, rawPath, query, lookupSecret, nowMs);
  if (query.some((p) => p.name === 'AWSAccessKeyId') && query.some((p) => p.name === 'Signature')) {
    return sigV2Unsupported();
  }
  // Anonymous access is not offered: there are no public buckets or policies.
  return fail('AccessDenied');
}

function verifyHeaderAuth(
  req: SignedRequest,
  authorization: string,
  rawPath: string,
  query: readonly QueryParam[],
  lookupSecret: SecretLookup,
  nowMs: number,
): AuthResult {
  if (/^AWS\s/.test(authorization)) return sigV2Unsupported();
  if (authorization.startsWith('AWS4-ECDSA-P256-SHA256')) {
    return fail('NotImplemented', 'SigV4a (AWS4-ECDSA-P256-SHA256) is not supported.');
  }
  if (!authorization.startsWith(`${sigv4Algorithm} `)) return fail('InvalidArgument', 'Unsupported Authorization Type');
  const fields = parseAuthorizationFields(authorization.slice(sigv4Algorithm.length + 1));
  if ('code' in fields) return fields;
  const malformed = (detail: string): Failure =>
    fail('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);

  const credential = parseCredential(fields.Credential);
  if ('problem' in credential) return malformed(credential.problem);
  const amzDateText = headerText(req.headers, 'x-amz-date');
  const dateText = amzDateText ?? headerText(req.headers, 'date');
  const date = dateText === undefined ? undefined : parseRequestTime(dateText, amzDateText !== undefined);
  if (date === undefined) return fail('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (credential.date !== date.amzDate.slice(0, 8)) {
    return malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const signedHeaders = requireSignedHeaders(fields.SignedHeaders);
  if ('problem' in signedHeaders) return malformed(signedHeaders.problem);
  if (!isHexSignature(fields.Signature)) return malformed('the Signature is malformed.');

  const secret = lookupSecret(credential.accessKeyId);
  if (secret === undefined) return fail('InvalidAccessKeyId', undefined, { AWSAccessKeyId: credential.accessKeyId });
  if (Math.abs(nowMs - date.ms) > limits.clockSkewMs) {
    return fail('RequestTimeTooSkewed', undefined, {
      RequestTime: dateText ?? '',
      ServerTime: new Date(nowMs).toISOString(),
      MaxAllowedSkewMilliseconds: String(limits.clockSkewMs),
    });
  }

  const contentSha256 = headerText(req.headers, 'x-amz-content-sha256');
  if (contentSha256 === undefined) {
    return fail('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const payload = parsePayloadHash(contentSha256);
  if ('code' in payload) return payload;

  // A proxy must not be able to add x-amz-* headers (ACLs, copy sources, metadata) to a signed
  // request, so S3 requires every one of them to be signed.
  const signedSet = new Set(signedHeaders.names);
  const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signedSet.has(h));
  if (unsigned.length > 0) {
    return fail('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.join(', '),
    });
  }

  return checkSignature(req, {
    rawPath,
    canonicalQuery: canonicalQueryString(query),
    signedHeaders: signedHeaders.names,
    payloadHash: contentSha256,
    accessKeyId: credential.accessKeyId,
    secret,
    region: credential.region,
    amzDate: date.amzDate,
    provided: fields.Signature.toLowerCase(),
    presigned: false,
    payload,
  });
}

function verifyPresigned(
  req: SignedRequest,
  rawPath: string,
  query: readonly QueryParam[],
  lookupSecret: SecretLookup,
  nowMs: number,
): AuthResult {
  const queryError = (detail: string): Failure => fail('AuthorizationQueryParametersError', detail);
  const params = new Map<PresignParam, string>();
  for (const p of query) {
    if (!(presignParams as readonly string[]).includes(p.name)) continue;
    if (params.has(p.name as PresignParam)) return queryError(`Duplicate ${p.name} parameter.`);
    params.set(p.name as PresignParam, p.value);
  }
  const get = (name: PresignParam): string => params.get(name) ?? '';
  if (presignParams.some((name) => !params.has(name))) {
    return queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (get('X-Amz-Algorithm') !== sigv4Algorithm) {
    return queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = parseCredential(get('X-Amz-Credential'));
  if ('problem' in credential) return queryError(`Error parsing the X-Amz-Credential parameter; ${credential.problem}`);
  const date = parseRequestTime(get('X-Amz-Date'), true);
  if (date === undefined) return queryError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (credential.date !== date.amzDate.slice(0, 8)) {
    return queryError('Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const expiresText = get('X-Amz-Expires');
  if (!/^\d{1,9}$/.test(expiresText)) return queryError('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds > limits.presignExpirySecondsMax) {
    return queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${limits.presignExpirySecondsMax}`);
  }
  const signedHeaders = requireSignedHeaders(get('X-Amz-SignedHeaders'));
  if ('problem' in signedHeaders) return queryError(signedHeaders.problem);
  const provided = get('X-Amz-Signature');
  if (!isHexSignature(provided)) return queryError('X-Amz-Signature is malformed.');

  const secret = lookupSecret(credential.accessKeyId);
  if (secret === undefined) return fail('InvalidAccessKeyId', undefined, { AWSAccessKeyId: credential.accessKeyId });
  if (nowMs > date.ms + expiresSeconds * 1000) {
    return fail('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expiresText,
      Expires: new Date(date.ms + expiresSeconds * 1000).toISOString(),
      ServerTime: new Date(nowMs).toISOString(),
    });
  }
  // A URL dated in the future would otherwise stretch its lifetime past the 7-day limit.
  if (date.ms - nowMs > limits.clockSkewMs) return fail('AccessDenied', 'Request is not valid yet');

  // Presigned URLs carry no body hash; SDK v3 hoists "x-amz-content-sha256: UNSIGNED-PAYLOAD"
  // into the query (lowercase name), other signers leave it out.
  const declared = query.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256')?.value;
  const payloadHash = declared ?? 'UNSIGNED-PAYLOAD';
  const payload = parsePayloadHash(payloadHash);
  if ('code' in payload) return payload;
  if (payload.kind !== 'unsigned' && payload.kind !== 'sha256') {
    return queryError('Presigned requests cannot use a streaming payload.');
  }

  return checkSignature(req, {
    rawPath,
    canonicalQuery: canonicalQueryString(query, 'X-Amz-Signature'),
    signedHeaders: signedHeaders.names,
    payloadHash,
    accessKeyId: credential.accessKeyId,
    secret,
    region: credential.region,
    amzDate: date.amzDate,
    provided: provided.toLowerCase(),
    presigned: true,
    payload,
  });
}

interface SignatureCheck {
  readonly rawPath: string;
  readonly canonicalQuery: string;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
  readonly accessKeyId: string;
  readonly secret: string;
  readonly region: string;
  readonly amzDate: string;
  readonly provided: string;
  readonly presigned: boolean;
  readonly payload: PayloadMode;
}

function checkSignature(req: SignedRequest, c: SignatureCheck): AuthResult {
  const scope = `${c.amzDate.slice(0, 8)}/${c.region}/s3/aws4_request`;
  const signingKey = deriveSigningKey(c.secret, c.amzDate.slice(0, 8), c.region, 's3');
  const headerValue = (name: string): string => signedHeaderValue(req, name);
  const attempt = (uri: string): { canonical: string; stringToSign: string; ok: boolean } => {
    const canonical = canonicalRequest({
      method: req.method,
      canonicalUri: uri,
      canonicalQuery: c.canonicalQuery,
      signedHeaders: c.signedHeaders,
      headerValue,
      payloadHash: c.payloadHash,
    });
    const stringToSign = requestStringToSign(c.amzDate, scope, canonical);
    return { canonical, stringToSign, ok: signatureMatches(c.provided, hmacSha256(signingKey, stringToSign)) };
  };
  const normalizedUri = canonicalUri(c.rawPath);
  const first = attempt(normalizedUri);
  // Clients that leave some reserved characters unencoded (or use lowercase hex) sign the path
  // as they sent it; the key bytes are the same either way, so accepting it loses nothing.
  const ok = first.ok || (c.rawPath !== normalizedUri && c.rawPath.startsWith('/') && attempt(c.rawPath).ok);
  if (!ok) {
    return fail('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: c.accessKeyId,
      StringToSign: first.stringToSign,
      SignatureProvided: c.provided,
      CanonicalRequest: first.canonical,
    });
  }
  return {
    ok: true,
    accessKeyId: c.accessKeyId,
    region: c.region,
    presigned: c.presigned,
    payload: c.payload,
    signing: { signingKey, scope, amzDate: c.amzDate, seedSignature: c.provided },
  };
}

// ---------------------------------------------------------------------------------------------

function fail(code: S3ErrorCode, message?: string, extra?: Record<string, string>): Failure {
  return { ok: false, code, ...(message === undefined ? {} : { message }), ...(extra === undefined ? {} : { extra }) };
}

function sigV2Unsupported(): Failure {
  return fail(
    'InvalidRequest',
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
}

/** Strips an absolute-form prefix (`http://host`) that proxies may send, then splits at '?'. */
function splitRawUrl(rawUrl: string): { rawPath: string; rawQuery: string } {
  let url = rawUrl;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(url);
  if (scheme) url = url.slice(scheme[0].length) || '/';
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function signedHeaderValue(req: SignedRequest, name: string): string {
  const distinct = req.headersDistinct?.[name];
  if (distinct) return distinct.map(canonicalHeaderValue).join(',');
  const v = req.headers[name];
  if (v === undefined) return '';
  return Array.isArray(v) ? v.map(canonicalHeaderValue).join(',') : canonicalHeaderValue(v);
}

/** `x-amz-date` is ISO 8601 basic; a plain `Date` header is an HTTP date. */
function parseRequestTime(text: string, iso: boolean): { ms: number; amzDate: string } | undefined {
  const isoTime = parseAmzDate(text.trim());
  if (isoTime !== undefined) return { ms: isoTime, amzDate: text.trim() };
  if (iso) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return { ms, amzDate: new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') };
}

type AuthorizationFields = Record<'Credential' | 'SignedHeaders' | 'Signature', string>;

function parseAuthorizationFields(rest: string): AuthorizationFields | Failure {
  const found: Partial<AuthorizationFields> = {};
  for (const part of rest.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq).trim();
    if ((name === 'Credential' || name === 'SignedHeaders' || name === 'Signature') && found[name] === undefined) {
      found[name] = item.slice(eq + 1).trim();
    } else {
      return fail('AuthorizationHeaderMalformed', `The authorization header is malformed; unexpected component "${name}".`);
    }
  }
  if (found.Credential === undefined || found.SignedHeaders === undefined || found.Signature === undefined) {
    return fail(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  return { Credential: found.Credential, SignedHeaders: found.SignedHeaders, Signature: found.Signature };
}
