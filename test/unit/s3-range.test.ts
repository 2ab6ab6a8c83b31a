import { describe, expect, it } from 'vitest';
import { contentRange, invalidRangeError, parseCopySourceRange, parseRange, type RangeResult } from '../../src/s3/range.ts';

const full: RangeResult = { kind: 'full' };
const unsatisfiable: RangeResult = { kind: 'unsatisfiable' };
const range = (start: number, end: number): RangeResult => ({ kind: 'range', start, end });

describe('parseRange against a 10-byte object', () => {
  it.each<[string | undefined, RangeResult]>([
    [undefined, full],
    ['bytes=0-0', range(0, 0)],
    ['bytes=0-9', range(0, 9)],
    ['bytes=2-5', range(2, 5)],
    ['bytes=5-', range(5, 9)],
    ['bytes=0-', range(0, 9)],
    ['bytes=9-', range(9, 9)],
    ['bytes=-3', range(7, 9)],
    ['bytes=-10', range(0, 9)],
    ['bytes=-100', range(0, 9)],
    ['bytes=8-100', range(8, 9)],
    ['bytes=0-99999999999999999999', range(0, 9)],
    ['Bytes=1-2', range(1, 2)],
    [' bytes=1-2 ', range(1, 2)],
    // unsatisfiable: starts at or past the end, or asks for zero trailing bytes
    ['bytes=10-', unsatisfiable],
    ['bytes=10-20', unsatisfiable],
    ['bytes=99999999999999999999-', unsatisfiable],
    ['bytes=-0', unsatisfiable],
    // ignored, whole object served: malformed, another unit, several ranges, end before start
    ['', full],
    ['bytes=', full],
    ['bytes=-', full],
    ['bytes=abc-def', full],
    ['bytes=1-2,4-5', full],
    ['bytes=0-1, 3-4', full],
    ['items=0-5', full],
    ['bytes 0-5', full],
    ['bytes=5-2', full],
    ['bytes=1.5-2', full],
    ['bytes=-1-2', full],
    ['bytes= 1-2', full],
  ])('given Range %s then %o', (header, expected) => {
    expect(parseRange(header, 10)).toEqual(expected);
  });
});

describe('parseRange against an empty object', () => {
  it.each(['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=40-50'])('given %s then unsatisfiable', (header) => {
    expect(parseRange(header, 0)).toEqual(unsatisfiable);
  });

  it('given no or a malformed Range then the (empty) object is served whole', () => {
    expect(parseRange(undefined, 0)).toEqual(full);
    expect(parseRange('bytes=1-2,3-4', 0)).toEqual(full);
  });
});

describe('range headers and errors', () => {
  it('given a served range then Content-Range names it and the size', () => {
    expect(contentRange(2, 5, 10)).toBe('bytes 2-5/10');
  });

  it('given an unsatisfiable range then 416 InvalidRange with Content-Range bytes */size', () => {
    const error = invalidRangeError('bytes=20-30', 10);
    expect(error.code).toBe('InvalidRange');
    expect(error.status).toBe(416);
    expect(error.headers).toEqual({ 'Content-Range': 'bytes */10' });
    expect(error.extra).toEqual({ RangeRequested: 'bytes=20-30', ActualObjectSize: '10' });
  });
});

describe('parseCopySourceRange against a 100-byte source', () => {
  it.each<[string, number, number]>([
    ['bytes=0-99', 0, 99],
    ['bytes=10-10', 10, 10],
    ['bytes=0-0', 0, 0],
  ])('given %s then bytes %d..%d', (header, start, end) => {
    expect(parseCopySourceRange(header, 100)).toEqual({ ok: true, start, end });
  });

  it.each(['bytes=5-', 'bytes=-5', 'bytes=5-2', 'bytes=a-b', '0-5', 'bytes=0-1,2-3'])(
    'given the malformed %s then InvalidArgument',
    (header) => {
      const result = parseCopySourceRange(header, 100);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('InvalidArgument');
        expect(result.error.message).toMatch(/bytes=first-last/);
      }
    },
  );

  it.each(['bytes=0-100', 'bytes=100-150'])('given %s past the source then InvalidArgument naming the size', (header) => {
    const result = parseCopySourceRange(header, 100);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe('Range specified is not valid for source object of size: 100');
  });
});
