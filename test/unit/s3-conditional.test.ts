import { describe, expect, it } from 'vitest';
import {
  etagListMatches,
  evaluateConditions,
  evaluateCopySourceConditions,
  normalizeEtag,
  readConditions,
  readCopySourceConditions,
  type Conditions,
  type ConditionOutcome,
} from '../../src/s3/conditional.ts';
import { formatHttpDate } from '../../src/s3/http-dates.ts';

// The object was last modified at 12:00:00.700; S3 and these checks see 12:00:00.
const lastModifiedMs = Date.UTC(2024, 4, 1, 12, 0, 0, 700);
const object = { etag: '"abc123"', lastModifiedMs };
const same = formatHttpDate(lastModifiedMs); // 12:00:00, the object's own second
const before = formatHttpDate(lastModifiedMs - 1000);
const after = formatHttpDate(lastModifiedMs + 1000);

const ok: ConditionOutcome = { kind: 'ok' };
const notModified = (condition: string): ConditionOutcome => ({ kind: 'not-modified', condition });
const failed = (condition: string): ConditionOutcome => ({ kind: 'precondition-failed', condition });

describe('evaluateConditions (GetObject/HeadObject)', () => {
  it.each<[string, Conditions, ConditionOutcome]>([
    ['no conditions', {}, ok],
    ['If-Match equal', { ifMatch: '"abc123"' }, ok],
    ['If-Match unquoted', { ifMatch: 'abc123' }, ok],
    ['If-Match *', { ifMatch: '*' }, ok],
    ['If-Match in a list', { ifMatch: '"x", "abc123"' }, ok],
    ['If-Match weak', { ifMatch: 'W/"abc123"' }, ok],
    ['If-Match different', { ifMatch: '"other"' }, failed('If-Match')],
    ['If-Match blank is absent', { ifMatch: '  ' }, ok],
    ['If-Unmodified-Since same second', { ifUnmodifiedSince: same }, ok],
    ['If-Unmodified-Since later', { ifUnmodifiedSince: after }, ok],
    ['If-Unmodified-Since earlier', { ifUnmodifiedSince: before }, failed('If-Unmodified-Since')],
    ['If-Unmodified-Since unparseable', { ifUnmodifiedSince: 'not a date' }, ok],
    ['If-None-Match equal', { ifNoneMatch: '"abc123"' }, notModified('If-None-Match')],
    ['If-None-Match *', { ifNoneMatch: '*' }, notModified('If-None-Match')],
    ['If-None-Match different', { ifNoneMatch: '"other"' }, ok],
    ['If-Modified-Since same second', { ifModifiedSince: same }, notModified('If-Modified-Since')],
    ['If-Modified-Since later', { ifModifiedSince: after }, notModified('If-Modified-Since')],
    ['If-Modified-Since earlier', { ifModifiedSince: before }, ok],
    ['If-Modified-Since unparseable', { ifModifiedSince: 'garbage' }, ok],
    // the combinations S3 documents
    ['If-Match true + If-Unmodified-Since false', { ifMatch: '"abc123"', ifUnmodifiedSince: before }, ok],
    ['If-None-Match false + If-Modified-Since true', { ifNoneMatch: '"abc123"', ifModifiedSince: before }, notModified('If-None-Match')],
    // and the rest of RFC 7232 §6
    ['If-Match false + If-Unmodified-Since true', { ifMatch: '"x"', ifUnmodifiedSince: after }, failed('If-Match')],
    ['If-None-Match true + If-Modified-Since false', { ifNoneMatch: '"x"', ifModifiedSince: after }, ok],
    ['If-Match false + If-None-Match false', { ifMatch: '"x"', ifNoneMatch: '"abc123"' }, failed('If-Match')],
    ['If-Unmodified-Since false + If-None-Match false', { ifUnmodifiedSince: before, ifNoneMatch: '"abc123"' }, failed('If-Unmodified-Since')],
    ['If-Match true + If-None-Match false', { ifMatch: '"abc123"', ifNoneMatch: '"abc123"' }, notModified('If-None-Match')],
    ['If-Match true + If-Modified-Since false', { ifMatch: '"abc123"', ifModifiedSince: after }, notModified('If-Modified-Since')],
  ])('given %s then the outcome follows RFC 7232 as S3 does', (_name, conditions, expected) => {
    expect(evaluateConditions(conditions, object)).toEqual(expected);
  });
});

describe('evaluateCopySourceConditions', () => {
  it.each<[string, Conditions, ConditionOutcome]>([
    ['none', {}, ok],
    ['if-match true + if-unmodified-since false', { ifMatch: 'abc123', ifUnmodifiedSince: before }, ok],
    ['if-match false', { ifMatch: '"x"' }, failed('x-amz-copy-source-If-Match')],
    ['if-unmodified-since false', { ifUnmodifiedSince: before }, failed('x-amz-copy-source-If-Unmodified-Since')],
    ['if-none-match false + if-modified-since true', { ifNoneMatch: '"abc123"', ifModifiedSince: before }, failed('x-amz-copy-source-If-None-Match')],
    ['if-modified-since false', { ifModifiedSince: after }, failed('x-amz-copy-source-If-Modified-Since')],
    ['if-none-match true', { ifNoneMatch: '"x"' }, ok],
  ])('given %s then 412 instead of 304', (_name, conditions, expected) => {
    expect(evaluateCopySourceConditions(conditions, object)).toEqual(expected);
  });
});

describe('reading the headers', () => {
  it('given request headers when read then each kind picks its own', () => {
    const headers = {
      'if-match': '"a"',
      'if-none-match': '"b"',
      'if-modified-since': same,
      'if-unmodified-since': after,
      'x-amz-copy-source-if-match': '"c"',
      'x-amz-copy-source-if-none-match': '"d"',
      'x-amz-copy-source-if-modified-since': before,
      'x-amz-copy-source-if-unmodified-since': same,
    };
    expect(readConditions(headers)).toEqual({ ifMatch: '"a"', ifNoneMatch: '"b"', ifModifiedSince: same, ifUnmodifiedSince: after });
    expect(readCopySourceConditions(headers)).toEqual({ ifMatch: '"c"', ifNoneMatch: '"d"', ifModifiedSince: before, ifUnmodifiedSince: same });
  });
});

describe('ETags', () => {
  it('given quoted, weak and bare forms when normalized then the same value', () => {
    expect(normalizeEtag('"abc"')).toBe('abc');
    expect(normalizeEtag('W/"abc"')).toBe('abc');
    expect(normalizeEtag(' abc ')).toBe('abc');
    expect(normalizeEtag('"abc-3"')).toBe('abc-3');
  });

  it('given a list with a quoted comma when matched then items are not split inside quotes', () => {
    expect(etagListMatches('"a,b", "c"', '"a,b"')).toBe(true);
    expect(etagListMatches('"a,b", "c"', 'a')).toBe(false);
    expect(etagListMatches('', 'a')).toBe(false);
  });
});
