/**
 * Request target → bucket, key and query; then method + target + headers → S3 operation. Pure.
 *
 * Path style is `/bucket/key`; virtual-host style is `bucket.<base domain>[:port]/key`. The key
 * is everything after the bucket's slash, percent-decoded exactly once, so `/bkt//a` names the
 * key `/a` and `/bkt/a//b` the key `a//b`. A `+` in the path is a literal plus, as RFC 3986 reads
 * it. (AWS itself has long read a raw `+` in the path as a space, a legacy of form decoding; the
 * SDKs and the CLI always send a space as `%20` and a plus as `%2B`, so for them both readings
 * agree, and the literal one never turns a key holding `+` into another key.) Query names and
 * values are decoded with `decodeURIComponent` too, so a `+` there stays a plus as well.
 */
import { limits } from '../lib/limits.ts';
import { s3Error, type S3Error } from './errors.ts';

/** Node's `IncomingHttpHeaders` fits this: lower-case names, repeated headers as arrays. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The part of URLSearchParams the router reads; a URLSearchParams is one. */
export type QueryLike = Pick<URLSearchParams, 'has' | 'get'>;

export interface RequestTargetInput {
  readonly method: string;
  /** node's `req.url`: the raw path and query as they came on the wire. */
  readonly rawUrl: string;
  /** The Host header, with or without a port. */
  readonly host: string | undefined;
  /** Domains under which `bucket.<domain>` is virtual-host style, e.g. ['localhost', 's3.localhost']. */
  readonly baseDomains: readonly string[];
}

export interface RequestTarget {
  readonly ok: true;
  readonly style: 'path' | 'virtual-host';
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  /** Decoded names and values in wire order; a valueless `?uploads` reads as ''. */
  readonly query: URLSearchParams;
  /** The path as sent, without the query (what SigV4 signs). */
  readonly rawPath: string;
  /** The query as sent, without the '?'. */
  readonly rawQuery: string;
}

export type RequestTargetResult = RequestTarget | { readonly ok: false; readonly error: S3Error };

export function parseRequestTarget(input: RequestTargetInput): RequestTargetResult {
  let rawUrl = input.rawUrl;
  let host = input.host;
  // `OPTIONS *` asks about the server, not about a resource.
  if (rawUrl === '*' && input.method === 'OPTIONS') rawUrl = '/';
  // Absolute-form (sent to proxies): the authority in the URL wins over the Host header (RFC 7230 §5.4).
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is.exec(rawUrl);
  if (absolute !== null) {
    host = absolute[1];
    const rest = absolute[2] ?? '';
    rawUrl = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
  }
  if (!rawUrl.startsWith('/')) return invalidUri();

  const questionAt = rawUrl.indexOf('?');
  const rawPath = questionAt === -1 ? rawUrl : rawUrl.slice(0, questionAt);
  const rawQuery = questionAt === -1 ? '' : rawUrl.slice(questionAt + 1);
  const query = parseQuery(rawQuery);
  if (query === undefined) return invalidUri();

  const hostBucket = virtualHostBucket(host, input.baseDomains);
  let bucket: string | undefined;
  let rawKey: string | undefined;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    rawKey = rawPath.slice(1);
  } else {
    const rest = rawPath.slice(1);
    const slashAt = rest.indexOf('/');
    const rawBucket = slashAt === -1 ? rest : rest.slice(0, slashAt);
    rawKey = slashAt === -1 ? undefined : rest.slice(slashAt + 1);
    if (rawBucket === '') {
      if (rawKey !== undefined) return invalidUri(); // `//key`: a key without a bucket
    } else {
      bucket = decodeStrict(rawBucket);
      if (bucket === undefined) return invalidUri();
    }
  }

  let key: string | undefined;
  if (rawKey !== undefined && rawKey !== '') {
    key = decodeStrict(rawKey);
    if (key === undefined) return invalidUri();
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > limits.keyBytesMax) {
      const error = s3Error('KeyTooLongError', undefined, {
        Size: String(keyBytes),
        MaxSizeAllowed: String(limits.keyBytesMax),
      });
      return { ok: false, error };
    }
  }
  const style = hostBucket === undefined ? 'path' : 'virtual-host';
  return { ok: true, style, bucket, key, query, rawPath, rawQuery };
}

/** The S3 operations the gateway implements. */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'ListObjectsV2'
  | 'ListObjects'
  | 'ListObjectVersions'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectAttributes'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads';

/**
 * An operation; or `{ unsupported }` naming the sub-resource (or feature) we do not implement,
 * which the gateway answers with NotImplemented; or `{ error }` (MethodNotAllowed).
 */
export type ResolvedOperation =
  | S3Operation
  | { readonly unsupported: string }
  | { readonly error: S3Error };

/** Bucket sub-resources of the S3 API that Strata does not implement. */
const unsupportedBucketSubresources = [
  'accelerate', 'acl', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'lifecycle', 'logging', 'metadataConfiguration', 'metadataTable', 'metrics', 'notification',
  'object-lock', 'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock',
  'replication', 'requestPayment', 'session', 'tagging', 'website',
] as const;

/** Object sub-resources of the S3 API that Strata does not implement. */
const unsupportedObjectSubresources = [
  'acl', 'legal-hold', 'renameObject', 'restore', 'retention', 'select', 'tagging', 'torrent',
] as const;

/** Bucket sub-resources that only exist for GET; other methods on them are MethodNotAllowed. */
const getOnlyBucketSubresources = ['location', 'versions', 'uploads'] as const;

/**
 * Which operation a request is. Query parameters that are not sub-resources (prefix, x-id,
 * X-Amz-Signature, response-content-type, ...) never change the answer.
 */
export function resolveOperation(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: QueryLike,
  headers: RequestHeaders,
): ResolvedOperation {
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : methodNotAllowed();
  if (key === undefined) return resolveBucketOperation(method, query);
  return resolveObjectOperation(method, query, headers);
}

function resolveBucketOperation(method: string, query: QueryLike): ResolvedOperation {
  const unsupported = unsupportedBucketSubresources.find((name) => query.has(name));
  const getOnly = getOnlyBucketSubresources.some((name) => query.has(name));
  switch (method) {
    case 'GET':
      if (query.has('location')) return 'GetBucketLocation';
      if (query.has('versioning')) return 'GetBucketVersioning';
      if (query.has('versions')) return 'ListObjectVersions';
      if (query.has('uploads')) return 'ListMultipartUploads';
      if (unsupported !== undefined) return { unsupported };
      if (query.has('delete')) return methodNotAllowed();
      return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'HEAD':
      return 'HeadBucket';
    case 'PUT':
      if (query.has('versioning')) return 'PutBucketVersioning';
      if (unsupported !== undefined) return { unsupported };
      if (getOnly || query.has('delete')) return methodNotAllowed();
      return 'CreateBucket';
    case 'DELETE':
      if (unsupported !== undefined) return { unsupported };
      if (getOnly || query.has('versioning') || query.has('delete')) return methodNotAllowed();
      return 'DeleteBucket';
    case 'POST':
      if (query.has('delete')) return 'DeleteObjects';
      if (unsupported !== undefined) return { unsupported };
      if (getOnly || query.has('versioning')) return methodNotAllowed();
      // A POST to a bucket without a sub-resource is a browser form upload (POST Object).
      return { unsupported: 'PostObject' };
    case 'OPTIONS':
      return { unsupported: 'cors' };
    default:
      return methodNotAllowed();
  }
}

function resolveObjectOperation(method: string, query: QueryLike, headers: RequestHeaders): ResolvedOperation {
  const unsupported = unsupportedObjectSubresources.find((name) => query.has(name));
  const copySource = headerValue(headers, 'x-amz-copy-source');
  const isCopy = copySource !== undefined && copySource !== '';
  switch (method) {
    case 'GET':
      if (query.has('uploadId')) return 'ListParts';
      if (query.has('attributes')) return 'GetObjectAttributes';
      if (unsupported !== undefined) return { unsupported };
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      // partNumber is validated by the handler: an uploadId alone is still an UploadPart.
      if (query.has('uploadId')) return isCopy ? 'UploadPartCopy' : 'UploadPart';
      if (unsupported !== undefined) return { unsupported };
      return isCopy ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      if (unsupported !== undefined) return { unsupported };
      return methodNotAllowed();
    case 'DELETE':
      if (query.has('uploadId')) return 'AbortMultipartUpload';
      if (unsupported !== undefined) return { unsupported };
      return 'DeleteObject';
    case 'OPTIONS':
      return { unsupported: 'cors' };
    default:
      return methodNotAllowed();
  }
}

/** One header's value; repeated headers are joined as HTTP would fold them. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

function methodNotAllowed(): { readonly error: S3Error } {
  return { error: s3Error('MethodNotAllowed') };
}

function invalidUri(): { readonly ok: false; readonly error: S3Error } {
  return { ok: false, error: s3Error('InvalidURI') };
}

/** decodeURIComponent, but undefined for malformed escapes and escapes that are not UTF-8. */
function decodeStrict(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Splits on '&' and the first '=', keeping wire order and valueless names; undefined if malformed. */
function parseQuery(rawQuery: string): URLSearchParams | undefined {
  const query = new URLSearchParams();
  if (rawQuery === '') return query;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equalsAt = part.indexOf('=');
    const name = decodeStrict(equalsAt === -1 ? part : part.slice(0, equalsAt));
    const value = equalsAt === -1 ? '' : decodeStrict(part.slice(equalsAt + 1));
    if (name === undefined || value === undefined) return undefined;
    query.append(name, value);
  }
  return query;
}

/** The bucket named by `bucket.<base domain>[:port]`, choosing the longest matching base domain. */
function virtualHostBucket(host: string | undefined, baseDomains: readonly string[]): string | undefined {
  if (host === undefined) return undefined;
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) return undefined; // an IPv6 literal never carries a bucket
  const colonAt = name.lastIndexOf(':');
  if (colonAt !== -1) name = name.slice(0, colonAt);
  if (name.endsWith('.')) name = name.slice(0, -1);
  const domains = baseDomains.map((domain) => domain.toLowerCase().replace(/^\.+|\.+$/g, ''));
  // A base domain itself is path style, even when it lies under another one (s3.localhost).
  if (domains.includes(name)) return undefined;
  let best: string | undefined;
  let bestDomainLength = -1;
  for (const domain of domains) {
    if (domain === '' || domain.length <= bestDomainLength) continue;
    if (!name.endsWith(`.${domain}`)) continue;
    const bucket = name.slice(0, name.length - domain.length - 1);
    if (bucket === '') continue;
    best = bucket;
    bestDomainLength = domain.length;
  }
  return best;
}
