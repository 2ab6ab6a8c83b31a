/**
 * The model's evolve, applied through its real LMDB store (a temp dir, milliseconds): buckets,
 * versions, delete markers and the latest-version index, event by event.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketGuard, EventBody, LoggedEvent } from '../../src/events/types.ts';
import type { Outcome } from '../../src/model/evolve.ts';
import { ReadModelStore } from '../../src/model/store.ts';

let dir: string;
let store: ReadModelStore;
let seq = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-model-'));
  store = ReadModelStore.open(dir);
  seq = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function apply(bucket: string, key: string, body: EventBody, versionId = 'null', bucketGuard?: BucketGuard): Promise<Outcome> {
  seq++;
  const ev: LoggedEvent = { seq, eventId: `e${seq}`, timeMs: 1000 + seq, bucket, key, versionId, actor: 'AK', requestId: 'r', sourceAddress: '', body, ...(bucketGuard ? { bucketGuard } : {}) };
  const [applied] = await store.apply([ev], seq);
  if (!applied) throw new Error('not applied');
  return applied.outcome;
}
const put = (size: number): EventBody => ({
  type: 'ObjectVersionPut', size, etag: 'e', contentType: '', contentEncoding: '', contentDisposition: '', contentLanguage: '',
  cacheControl: '', expires: '', userMetadata: {}, shards: [], inlineData: new Uint8Array(size), checksums: [], storageClass: 'STANDARD', parts: [],
});
const created: EventBody = { type: 'BucketCreated', region: 'r', owner: 'o' };

describe('model: buckets and unversioned objects', () => {
  it('given no bucket, when an object is put, then NoSuchBucket and nothing changes', async () => {
    expect(await apply('b', 'k', put(1))).toEqual({ kind: 'rejected', code: 'NoSuchBucket' });
    expect(store.latestVersion('b', 'k')).toBeUndefined();
  });

  it('given an unversioned bucket, when a key is put twice, then only the second (null) version exists', async () => {
    await apply('b', '', created);
    await apply('b', 'k', put(1));
    await apply('b', 'k', put(2));
    expect(store.object('b', 'k')?.size).toBe(2);
    expect(store.latestVersion('b', 'k')?.size).toBe(2);
    expect(store.versionBefore('b', 'k', store.latestVersion('b', 'k')?.seq ?? 0)).toBeUndefined();
  });

  it('given a non-empty bucket, when deleted, then BucketNotEmpty; once empty the delete applies', async () => {
    await apply('b', '', created);
    await apply('b', 'k', put(1));
    expect(await apply('b', '', { type: 'BucketDeleted' })).toEqual({ kind: 'rejected', code: 'BucketNotEmpty' });
    await apply('b', 'k', { type: 'ObjectDeleted' });
    expect((await apply('b', '', { type: 'BucketDeleted' })).kind).toBe('applied');
    expect(store.bucket('b')).toBeUndefined();
  });

  it('given an existing bucket, when created again, then BucketAlreadyOwnedByYou', async () => {
    await apply('b', '', created);
    expect(await apply('b', '', created)).toEqual({ kind: 'rejected', code: 'BucketAlreadyOwnedByYou' });
  });
});

describe('model: bucket guard', () => {
  it('a put guarded on the bucket as it is applies; on another versioning state or creation it is BucketChanged and changes nothing', async () => {
    await apply('b', '', created);
    const createdSeq = store.bucket('b')?.seq ?? 0;
    expect(await apply('b', 'k', put(1), 'null', { createdSeq, versioning: 'Unversioned' })).toEqual({ kind: 'applied', versionId: 'null' });
    await apply('b', '', { type: 'BucketVersioningConfigured', status: 'Enabled' });
    // Written by a gateway that had not seen versioning enabled: it would overwrite the null version.
    expect(await apply('b', 'k', put(2), 'null', { createdSeq, versioning: 'Unversioned' })).toEqual({ kind: 'rejected', code: 'BucketChanged' });
    expect(store.version('b', 'k', 'null')?.size).toBe(1);
    expect(await apply('b', 'k', put(3), 'v3', { createdSeq, versioning: 'Enabled' })).toEqual({ kind: 'applied', versionId: 'v3' });
    // A bucket deleted and made again is another bucket, whatever its versioning.
    expect(await apply('b', 'k', put(4), 'v4', { createdSeq: createdSeq + 1000, versioning: 'Enabled' })).toEqual({ kind: 'rejected', code: 'BucketChanged' });
    expect(await apply('b', 'k', put(5), 'v5', { createdSeq, versioning: 'NotAState' })).toEqual({ kind: 'rejected', code: 'BucketChanged' });
    expect(store.version('b', 'k', 'v4')).toBeUndefined();
    expect(store.latestVersion('b', 'k')?.versionId).toBe('v3');
  });

  it('a guarded put into a missing bucket is NoSuchBucket, as an unguarded one', async () => {
    expect(await apply('gone', 'k', put(1), 'null', { createdSeq: 1, versioning: 'Unversioned' })).toEqual({ kind: 'rejected', code: 'NoSuchBucket' });
  });
});

describe('model: versioning', () => {
  it('keeps every version newest first, and a delete marker hides the key from listings', async () => {
    await apply('b', '', created);
    await apply('b', '', { type: 'BucketVersioningConfigured', status: 'Enabled' });
    expect(store.bucket('b')?.versioning).toBe('Enabled');
    await apply('b', 'k', put(1), 'v1');
    await apply('b', 'k', put(2), 'v2');
    expect(store.version('b', 'k', 'v1')?.size).toBe(1);
    expect(store.latestVersion('b', 'k')?.versionId).toBe('v2');
    expect(await apply('b', 'k', { type: 'DeleteMarkerPut' }, 'm1')).toEqual({ kind: 'applied', versionId: 'm1', deleteMarker: true });
    expect(store.object('b', 'k')).toBeUndefined();
    expect(store.latestVersion('b', 'k')?.deleteMarker).toBe(true);
    // Removing the marker by version id brings v2 back as the latest.
    expect(await apply('b', 'k', { type: 'ObjectDeleted' }, 'm1')).toEqual({ kind: 'applied', versionId: 'm1', deleteMarker: true });
    expect(store.object('b', 'k')?.versionId).toBe('v2');
    // Removing an older version leaves the latest alone.
    await apply('b', 'k', { type: 'ObjectDeleted' }, 'v1');
    expect(store.version('b', 'k', 'v1')).toBeUndefined();
    expect(store.object('b', 'k')?.versionId).toBe('v2');
    // A bucket with versions (or markers) left is not empty.
    expect(store.bucketIsEmpty('b')).toBe(false);
  });

  it('in a suspended bucket a put replaces the null version but keeps real versions', async () => {
    await apply('b', '', created);
    await apply('b', 'k', put(1)); // null version from before versioning
    await apply('b', '', { type: 'BucketVersioningConfigured', status: 'Enabled' });
    await apply('b', 'k', put(2), 'v2');
    await apply('b', '', { type: 'BucketVersioningConfigured', status: 'Suspended' });
    await apply('b', 'k', put(3)); // replaces the first null version
    expect(store.version('b', 'k', 'null')?.size).toBe(3);
    expect(store.version('b', 'k', 'v2')?.size).toBe(2);
    expect(store.versionBefore('b', 'k', store.version('b', 'k', 'v2')?.seq ?? 0)).toBeUndefined();
    // A null delete marker replaces the null version too.
    await apply('b', 'k', { type: 'DeleteMarkerPut' });
    expect(store.version('b', 'k', 'null')?.deleteMarker).toBe(true);
    expect(store.object('b', 'k')).toBeUndefined();
  });
});

describe('model: commits without fsync, guarded by the boot id (lib/volatile-lmdb.ts)', () => {
  it('keeps a model left open by a crashed process, replays one left open by a crashed machine', async () => {
    await apply('b1', '', created);
    await apply('b1', 'k', put(3));
    expect(store.checkpoint()).toBe(2);
    // What a crash leaves: the environment's files as they are now, with the open marker.
    const crashed = mkdtempSync(join(tmpdir(), 'strata-model-crash-'));
    const crashedAgain = mkdtempSync(join(tmpdir(), 'strata-model-crash-'));
    try {
      cpSync(dir, crashed, { recursive: true });
      cpSync(dir, crashedAgain, { recursive: true });
      const bootId = readFileSync(join(dir, 'open-boot-id'), 'utf8').trim();

      const sameBoot = ReadModelStore.open(crashed, { bootId: () => bootId });
      expect([sameBoot.discardedAfterMachineRestart, sameBoot.checkpoint(), sameBoot.object('b1', 'k')?.size]).toEqual([false, 2, 3]);
      await sameBoot.close();
      expect(existsSync(join(crashed, 'open-boot-id'))).toBe(false);

      const otherBoot = ReadModelStore.open(crashedAgain, { bootId: () => `${bootId}-after-restart` });
      expect([otherBoot.discardedAfterMachineRestart, otherBoot.checkpoint(), otherBoot.bucket('b1')]).toEqual([true, 0, undefined]);
      await otherBoot.close();
    } finally {
      rmSync(crashed, { recursive: true, force: true });
      rmSync(crashedAgain, { recursive: true, force: true });
    }
  });
});
