/**
 * Conditional reads (RFC 7232 §6, as S3 documents it for GetObject/HeadObject) and the
 * x-amz-copy-source-if-* conditions of CopyObject/UploadPartCopy. Pure.
 *
 * Order: If-Match decides when present (false → 412) and then If-Unmodified-Since is not looked
 * at, so If-Match true + If-Unmodified-Since false is 200; otherwise If-Unmodified-Since false is
 * 412. Then If-None-Match decides when present (false → 304) and If-Modified-Since is not looked
 * at, so If-None-Match false + If-Modified-Since true is 304; otherwise If-Modified-Since false is
 * 304. Dates compare at whole seconds, as Last-Modified carries them; a date that does not parse
 * is ignored, as AWS ignores it. For copy sources every failure is 412, never 304.
 */
import { headerValue, type RequestHeaders } from './route.ts';
import { parseHttpDate } from './http-dates.ts';

export interface Conditions {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

export interface ConditionTarget {
  /** The object's ETag, quoted or not. */
  readonly etag: string;
  readonly lastModifiedMs: number;
}

/** `condition` names the header that decided, e.g. for the `<Condition>` field of PreconditionFailed. */
export type ConditionOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'not-modified'; readonly condition: string }
  | { readonly kind: 'precondition-failed'; readonly condition: string };

export function readConditions(headers: RequestHeaders): Conditions {
  return {
    ifMatch: headerValue(headers, 'if-match'),
    ifNoneMatch: headerValue(headers, 'if-none-match'),
    ifModifiedSince: headerValue(headers, 'if-modified-since'),
    ifUnmodifiedSince: headerValue(headers, 'if-unmodified-since'),
  };
}

export function readCopySourceConditions(headers: RequestHeaders): Conditions {
  return {
    ifMatch: headerValue(headers, 'x-amz-copy-source-if-match'),
    ifNoneMatch: headerValue(headers, 'x-amz-copy-source-if-none-match'),
    ifModifiedSince: headerValue(headers, 'x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: headerValue(headers, 'x-amz-copy-source-if-unmodified-since'),
  };
}

/** GetObject/HeadObject: ok, 304 or 412. */
export function evaluateConditions(conditions: Conditions, target: ConditionTarget): ConditionOutcome {
  return evaluate(conditions, target, {
    ifMatch: 'If-Match',
    ifUnmodifiedSince: 'If-Unmodified-Since',
    ifNoneMatch: 'If-None-Match',
    ifModifiedSince: 'If-Modified-Since',
  });
}

/** CopyObject/UploadPartCopy source: ok or 412 (a source that "was not modified" fails the copy). */
export function evaluateCopySourceConditions(conditions: Conditions, source: ConditionTarget): ConditionOutcome {
  const outcome = evaluate(conditions, source, {
    ifMatch: 'x-amz-copy-source-If-Match',
    ifUnmodifiedSince: 'x-amz-copy-source-If-Unmodified-Since',
    ifNoneMatch: 'x-amz-copy-source-If-None-Match',
    ifModifiedSince: 'x-amz-copy-source-If-Modified-Since',
  });
  return outcome.kind === 'not-modified' ? { kind: 'precondition-failed', condition: outcome.condition } : outcome;
}

type ConditionNames = { readonly [K in keyof Conditions]-?: string };

function evaluate(conditions: Conditions, target: ConditionTarget, names: ConditionNames): ConditionOutcome {
  const lastModifiedSeconds = Math.floor(target.lastModifiedMs / 1000);
  if (present(conditions.ifMatch)) {
    if (!etagListMatches(conditions.ifMatch, target.etag)) {
      return { kind: 'precondition-failed', condition: names.ifMatch };
    }
  } else {
    const since = dateSeconds(conditions.ifUnmodifiedSince);
    if (since !== undefined && lastModifiedSeconds > since) {
      return { kind: 'precondition-failed', condition: names.ifUnmodifiedSince };
    }
  }
  if (present(conditions.ifNoneMatch)) {
    if (etagListMatches(conditions.ifNoneMatch, target.etag)) {
      return { kind: 'not-modified', condition: names.ifNoneMatch };
    }
  } else {
    const since = dateSeconds(conditions.ifModifiedSince);
    if (since !== undefined && lastModifiedSeconds <= since) {
      return { kind: 'not-modified', condition: names.ifModifiedSince };
    }
  }
  return { kind: 'ok' };
}

/** An empty or blank header counts as absent. */
function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

function dateSeconds(value: string | undefined): number | undefined {
  const ms = parseHttpDate(value);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/** The ETag without quotes or a weak prefix: `W/"abc"`, `"abc"` and `abc` are all `abc`. */
export function normalizeEtag(etag: string): string {
  let value = etag.trim();
  if (value.startsWith('W/') || value.startsWith('w/')) value = value.slice(2);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return value;
}

/** Whether an If-Match/If-None-Match list (`*` or `"a", "b"`, quotes optional) names the ETag. */
export function etagListMatches(header: string, etag: string): boolean {
  const wanted = normalizeEtag(etag);
  return splitEtagList(header).some((candidate) => candidate === '*' || normalizeEtag(candidate) === wanted);
}

/** Splits on commas outside quotes, so an ETag holding a comma stays whole. */
function splitEtagList(header: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      items.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  items.push(current.trim());
  return items.filter((item) => item !== '');
}
