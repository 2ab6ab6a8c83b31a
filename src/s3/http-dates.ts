/**
 * Dates on the wire. S3 keeps times to the second: the Last-Modified header (IMF-fixdate) cannot
 * say more, so the XML timestamps are cut to the second as well (`2009-10-12T17:50:30.000Z`, as
 * AWS writes them); a listing and a HEAD of the same object then give the same time, which sync
 * tools compare. Parsing is lenient the way AWS is: a date that does not parse is ignored by the
 * caller, never an error.
 */
import { assert } from '../lib/assert.ts';

const dayNames = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `ms` rounded down to a whole second. */
export function wholeSecondsMs(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (Last-Modified, Date). */
export function formatHttpDate(ms: number): string {
  const date = validDate(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${dayNames[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${monthNames[date.getUTCMonth()]} ` +
    `${String(date.getUTCFullYear()).padStart(4, '0')} ${pad(date.getUTCHours())}:` +
    `${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} GMT`;
}

/** ISO 8601 with milliseconds, cut to the second: `2009-10-12T17:50:30.000Z` (XML bodies). */
export function formatIsoTimestamp(ms: number): string {
  // Listings write thousands of these a page, mostly of a few distinct seconds: the last one is
  // kept (same input, same text).
  const seconds = wholeSecondsMs(ms);
  if (seconds !== lastIsoSecondsMs) {
    lastIso = validDate(seconds).toISOString();
    lastIsoSecondsMs = seconds;
  }
  return lastIso;
}
let lastIsoSecondsMs = Number.NaN;
let lastIso = '';

/**
 * Milliseconds since the epoch for an HTTP date, or undefined when it does not parse. Accepts the
 * three forms RFC 7231 §7.1.1.1 requires recipients to read (IMF-fixdate, RFC 850, asctime) and
 * ISO 8601, case-insensitively and with surrounding spaces.
 */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  return parseImfFixdate(text) ?? parseRfc850(text) ?? parseAsctime(text) ?? parseIso8601(text);
}

function validDate(ms: number): Date {
  assert(Number.isFinite(ms), `not a time: ${ms}`);
  const date = new Date(ms);
  assert(!Number.isNaN(date.getTime()), `time out of range: ${ms}`);
  return date;
}

const month = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const clock = '(\\d{2}):(\\d{2}):(\\d{2})';

// Sun, 06 Nov 1994 08:49:37 GMT (weekday optional and unchecked, as lenient servers do)
const imfFixdate = new RegExp(`^(?:[a-z]{3},\\s*)?(\\d{1,2}) ${month} (\\d{4}) ${clock} (?:gmt|utc|ut|z|\\+0000)$`, 'i');
// Sunday, 06-Nov-94 08:49:37 GMT
const rfc850 = new RegExp(`^[a-z]{6,9}, (\\d{2})-${month}-(\\d{2}) ${clock} gmt$`, 'i');
// Sun Nov  6 08:49:37 1994
const asctime = new RegExp(`^[a-z]{3} ${month} +(\\d{1,2}) ${clock} (\\d{4})$`, 'i');
// 1994-11-06T08:49:37Z, 1994-11-06T08:49:37.123+01:00
const iso8601 = /^(\d{4})-(\d{2})-(\d{2})t(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(z|[+-]\d{2}:?\d{2})$/i;

function parseImfFixdate(text: string): number | undefined {
  const m = imfFixdate.exec(text);
  if (m === null) return undefined;
  return utc(Number(m[3]), monthIndex(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function parseRfc850(text: string): number | undefined {
  const m = rfc850.exec(text);
  if (m === null) return undefined;
  // Two-digit years: RFC 7231 says to read them as the most recent past year with those digits;
  // 70..99 → 19xx and 00..69 → 20xx matches that for any date this server will meet.
  const twoDigits = Number(m[3]);
  const year = twoDigits >= 70 ? 1900 + twoDigits : 2000 + twoDigits;
  return utc(year, monthIndex(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function parseAsctime(text: string): number | undefined {
  const m = asctime.exec(text);
  if (m === null) return undefined;
  return utc(Number(m[6]), monthIndex(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

function parseIso8601(text: string): number | undefined {
  const m = iso8601.exec(text);
  if (m === null) return undefined;
  const base = utc(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (base === undefined) return undefined;
  const fractionMs = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const zone = (m[8] ?? 'z').toLowerCase();
  let offsetMs = 0;
  if (zone !== 'z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMs = (digits.startsWith('-') ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return base + fractionMs - offsetMs;
}

function monthIndex(name: string | undefined): number {
  return monthNames.findIndex((candidate) => candidate.toLowerCase() === name?.toLowerCase());
}

/** Date.UTC, but undefined unless every field is in range (no 31 Feb rolling into March). */
function utc(year: number, monthIdx: number, day: number, hours: number, minutes: number, seconds: number): number | undefined {
  if (monthIdx < 0 || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const ms = Date.UTC(year, monthIdx, day, hours, minutes, seconds);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== monthIdx || date.getUTCDate() !== day) {
    return undefined;
  }
  return ms;
}
