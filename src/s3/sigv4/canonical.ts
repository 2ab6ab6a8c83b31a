/**
 * SigV4 canonical request for S3, computed from the request exactly as it arrived.
 *
 * S3 differs from other services in one way that matters here: the path is encoded once, not
 * twice. Clients (AWS SDK v3, botocore/CLI, presigners) put the key on the wire already
 * URI-encoded and sign that same string. We decode the wire path to bytes and re-encode it with
 * AWS's UriEncode ('/' kept), which reproduces what a conforming client signed whatever encoding
 * choices it made for unreserved characters, and keeps '//', a leading '/', '+', '%' and UTF-8
 * keys intact. `verify.ts` also tries the raw path as a fallback for clients that sign their own
 * non-standard encoding.
 *
 * node:http rejects raw non-ASCII in the request target (HPE_INVALID_URL) unless its lenient
 * parser is on, in which case, as always for header values, strings hold one char per wire byte
 * (latin1). So chars up to U+00FF are taken as bytes; anything above (only possible from callers
 * that build strings themselves) is taken as UTF-8.
 */

/** UriEncode of each byte value: RFC 3986 unreserved characters stay, the rest become %XX. */
const byteEncoding: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
});

export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const b of bytes) out += keepSlash && b === 0x2f ? '/' : byteEncoding[b]!;
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Percent-decodes to bytes. A '%' not followed by two hex digits is kept as a literal '%', as
 * lenient servers do; '+' becomes a space only where the caller says so (query strings).
 */
export function percentDecode(s: string, plusAsSpace: boolean): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push((hi << 4) | lo);
        i += 2;
        continue;
      }
      out.push(code);
    } else if (code === 0x2b && plusAsSpace) {
      out.push(0x20);
    } else if (code <= 0xff) {
      out.push(code);
    } else {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(out);
}

/** Decoded as text: for reading parameter values such as X-Amz-Credential. */
export function percentDecodeText(s: string, plusAsSpace: boolean): string {
  return percentDecode(s, plusAsSpace).toString('utf8');
}

/** The canonical URI of a wire path: decoded, then UriEncoded with '/' kept. */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return uriEncodeBytes(percentDecode(rawPath, false), true);
}

export interface QueryParam {
  /** Decoded text, for reading values (`X-Amz-Date` ...). */
  readonly name: string;
  readonly value: string;
  /** UriEncoded from the decoded bytes: what goes into the canonical query string. */
  readonly encodedName: string;
  readonly encodedValue: string;
}

/**
 * Splits a raw query string (without '?') into parameters. Empty segments ('&&', a trailing '&')
 * are skipped; `?uploads` is the parameter "uploads" with an empty value. '+' is a space, as
 * every form-decoding parser (URLSearchParams, Go's url.ParseQuery) reads it, so that signing and
 * the gateway's own query parsing agree.
 */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const segment of rawQuery.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const rawName = eq < 0 ? segment : segment.slice(0, eq);
    const rawValue = eq < 0 ? '' : segment.slice(eq + 1);
    const nameBytes = percentDecode(rawName, true);
    const valueBytes = percentDecode(rawValue, true);
    params.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: uriEncodeBytes(nameBytes, false),
      encodedValue: uriEncodeBytes(valueBytes, false),
    });
  }
  return params;
}

/** Sorted by encoded name, then encoded value; `exclude` drops a parameter (X-Amz-Signature). */
export function canonicalQueryString(params: readonly QueryParam[], exclude?: string): string {
  const pairs: Array<[string, string]> = [];
  for (const p of params) if (p.name !== exclude) pairs.push([p.encodedName, p.encodedValue]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Trimmed, with runs of spaces and tabs collapsed to one space. */
export function canonicalHeaderValue(value: string): string {
  return value.replace(/[ \t]+/g, ' ').trim();
}

export interface CanonicalRequestInput {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  /** Lowercase names in the order the client listed them (SignedHeaders). */
  readonly signedHeaders: readonly string[];
  /** Canonical value of a signed header ('' when absent). */
  readonly headerValue: (name: string) => string;
  readonly payloadHash: string;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map((name) => `${name}:${input.headerValue(name)}\n`).join('');
  return [
    input.method,
    input.canonicalUri,
    input.canonicalQuery,
    headerLines,
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}
