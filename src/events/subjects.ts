/**
 * Subject scheme of the event stream (docs/ARCHITECTURE.md, "Subjects"):
 *
 *   strata.ev.<bucket>.b            bucket events (created, deleted, configured)
 *   strata.ev.<bucket>.o.<key>      object events (versions put, deleted, delete markers)
 *
 * `<bucket>` is the bucket name with '.' replaced by '~' (a character bucket names cannot hold),
 * `<key>` is the base64url of the key's UTF-8 bytes. So `strata.ev.<bucket>.>` follows one
 * bucket, `strata.ev.<bucket>.o.<key>` one key, and the last message on a subject is the last
 * decision about that bucket or key, which is what expected-last-subject-sequence publishing
 * compares against to make creates and compare-and-swap race-free across gateways.
 */
import { assert } from '../lib/assert.ts';

export const streamName = 'STRATA';
export const streamSubjects = 'strata.ev.>';

export function bucketToken(bucket: string): string {
  assert(bucket.length > 0 && !/[\s*>~]/.test(bucket), `bucket name cannot form a subject token: ${bucket}`);
  return bucket.replaceAll('.', '~');
}

export function bucketFromToken(token: string): string {
  return token.replaceAll('~', '.');
}

export function keyToken(key: string): string {
  assert(key.length > 0, 'object key must not be empty');
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function keyFromToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

export function bucketSubject(bucket: string): string {
  return `strata.ev.${bucketToken(bucket)}.b`;
}

export function objectSubject(bucket: string, key: string): string {
  return `strata.ev.${bucketToken(bucket)}.o.${keyToken(key)}`;
}

/** Filter that follows every event of one bucket. */
export function bucketFilter(bucket: string): string {
  return `strata.ev.${bucketToken(bucket)}.>`;
}
