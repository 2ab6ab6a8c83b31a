import { describe, expect, it } from 'vitest';
import { formatHttpDate, formatIsoTimestamp, parseHttpDate, wholeSecondsMs } from '../../src/s3/http-dates.ts';

const nov6 = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('formatHttpDate', () => {
  it('given a time with milliseconds when formatted then IMF-fixdate without them', () => {
    expect(formatHttpDate(nov6 + 999)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatHttpDate(Date.UTC(2009, 9, 12, 17, 50, 30))).toBe('Mon, 12 Oct 2009 17:50:30 GMT');
  });

  it('given the formatted date when parsed back then the whole second comes back', () => {
    const ms = Date.UTC(2024, 1, 29, 23, 59, 59, 500);
    expect(parseHttpDate(formatHttpDate(ms))).toBe(wholeSecondsMs(ms));
  });

  it('given a non-finite time when formatted then it is a programmer error', () => {
    expect(() => formatHttpDate(Number.NaN)).toThrow(/not a time/);
  });
});

describe('formatIsoTimestamp', () => {
  it('given a time when formatted then ISO 8601 cut to the second with .000', () => {
    expect(formatIsoTimestamp(Date.UTC(2009, 9, 12, 17, 50, 30, 123))).toBe('2009-10-12T17:50:30.000Z');
    expect(formatIsoTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('parseHttpDate', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', nov6],
    ['sun, 06 nov 1994 08:49:37 gmt', nov6],
    ['  Sun, 06 Nov 1994 08:49:37 GMT  ', nov6],
    ['Mon, 06 Nov 1994 08:49:37 GMT', nov6], // wrong weekday: read leniently
    ['06 Nov 1994 08:49:37 GMT', nov6],
    ['Sun, 6 Nov 1994 08:49:37 GMT', nov6],
    ['Sun, 06 Nov 1994 08:49:37 UTC', nov6],
    ['Sunday, 06-Nov-94 08:49:37 GMT', nov6],
    ['Sun Nov  6 08:49:37 1994', nov6],
    ['Sun Nov 16 08:49:37 1994', Date.UTC(1994, 10, 16, 8, 49, 37)],
    ['1994-11-06T08:49:37Z', nov6],
    ['1994-11-06T08:49:37.250Z', nov6 + 250],
    ['1994-11-06T09:49:37+01:00', nov6],
    ['1994-11-06T03:19:37-0530', nov6],
    ['Thursday, 01-Jan-15 00:00:00 GMT', Date.UTC(2015, 0, 1)],
  ])('given %s when parsed then the instant is known', (text, expected) => {
    expect(parseHttpDate(text)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    'yesterday',
    '1994',
    '784111777',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 PST',
    '1994-13-06T08:49:37Z',
    '1994-11-06T08:49:37', // no zone: ambiguous
  ])('given %s when parsed then undefined (the header is ignored)', (text) => {
    expect(parseHttpDate(text)).toBeUndefined();
  });
});
