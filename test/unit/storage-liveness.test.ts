/**
 * Shard reference counts derived from the log through the model's write hook (real LMDB in a
 * temp dir): overwrites release, copies share, deletes release, and the grace period holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBody, LoggedEvent, ShardRef } from '../../src/events/types.ts';
import { ShardLiveness } from '../../src/storage/liveness.ts';

let dir: string;
let live: ShardLiveness;
let seq = 0;
const graceMs = 1000;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-liveness-'));
  live = ShardLiveness.open(dir, { graceMs });
  seq = 0;
});
afterEach(async () => {
  await live.close();
  rmSync(dir, { recursive: true, force: true });
});

async function apply(bucket: string, key: string, body: EventBody, versionId = 'null'): Promise<void> {
  seq++;
  const ev: LoggedEvent = { seq, eventId: `e${seq}`, timeMs: 10_000 + seq, bucket, key, versionId, actor: 'AK', requestId: 'r', sourceAddress: '', body };
  await live.apply([ev], seq);
}
const shard = (n: number): ShardRef => ({ shardId: n.toString(16).padStart(32, '0'), objectOffset: 0, length: 10, crc32: n, nodes: ['n1', 'n2'] });
const put = (...shards: ShardRef[]): EventBody => ({
  type: 'ObjectVersionPut', size: 10, etag: 'e', contentType: '', contentEncoding: '', contentDisposition: '', contentLanguage: '',
  cacheControl: '', expires: '', userMetadata: {}, shards, inlineData: undefined, checksums: [], storageClass: 'STANDARD', parts: [],
});
const id = (n: number): Buffer => Buffer.from(shard(n).shardId, 'hex');

describe('shard liveness', () => {
  it('given an unversioned key overwritten, then the old shards are released and reclaimable after the grace', async () => {
    await apply('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' });
    await apply('b', 'k', put(shard(1), shard(2)));
    expect(live.refsOf(id(1))).toMatchObject({ refs: 1, nodes: ['n1', 'n2'], bytes: 10, crc32: 1 });
    await apply('b', 'k', put(shard(3)));
    expect(live.refsOf(id(1))?.refs).toBe(0);
    expect(live.refsOf(id(3))?.refs).toBe(1);
    const released = live.refsOf(id(1))?.releasedAtMs ?? 0;
    expect(live.isReclaimable(id(1), 0, released + graceMs - 1)).toBe(false);
    expect(live.isReclaimable(id(1), 0, released + graceMs)).toBe(true);
    expect(live.isReclaimable(id(3), 0, 1e15)).toBe(false);
  });

  it('given two keys sharing a shard (a copy), then it stays live until both are gone', async () => {
    await apply('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' });
    await apply('b', 'a', put(shard(7)));
    await apply('b', 'c', put(shard(7)));
    expect(live.refsOf(id(7))?.refs).toBe(2);
    await apply('b', 'a', { type: 'ObjectDeleted' });
    expect(live.refsOf(id(7))?.refs).toBe(1);
    await apply('b', 'c', { type: 'ObjectDeleted' });
    expect(live.refsOf(id(7))?.refs).toBe(0);
    expect([...live.referenced()].length).toBe(0);
  });

  it('given a shard never committed (or its put rejected), then it is an orphan once older than the grace', async () => {
    await apply('nobucket', 'k', put(shard(9)));
    expect(live.refsOf(id(9))).toBeUndefined();
    expect(live.isReclaimable(id(9), 5000, 5000 + graceMs - 1)).toBe(false);
    expect(live.isReclaimable(id(9), 5000, 5000 + graceMs)).toBe(true);
  });

  it('given a restart, then counts and checkpoint are kept together', async () => {
    await apply('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' });
    await apply('b', 'k', put(shard(4)));
    await live.close();
    live = ShardLiveness.open(dir, { graceMs });
    expect(live.checkpoint()).toBe(2);
    expect(live.refsOf(id(4))?.refs).toBe(1);
  });
});
