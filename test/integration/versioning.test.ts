/**
 * Versioning as AWS documents it, through the AWS SDK v3 against a real Strata: bucket
 * versioning states, version ids and x-amz-version-id, GET/HEAD/DELETE by version id, delete
 * markers (404 with x-amz-delete-marker, 405 by version id), the null version of unversioned and
 * suspended buckets, ListObjectVersions paging, DeleteObjects with version ids, and DeleteBucket
 * while versions remain.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, requireAwsCliV2 } from '../support/aws-cli.ts';
import { expectBodilessError, expectS3Error } from '../support/s3-errors.ts';
import { S3Model } from '../support/s3-model.ts';
import { expectVersionPages, modelItemName, pageItems } from '../support/version-pages.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;

const md5Hex = (s: string): string => createHash('md5').update(s).digest('hex');
/** A version id of the form this store issues that it never issued. */
const unknownVersionId = `000000001${'0'.repeat(20)}`;

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

async function createBucket(name: string, versioning?: 'Enabled' | 'Suspended'): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (versioning) await setVersioning(name, versioning);
}

async function setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
}

async function getText(bucket: string, key: string, versionId?: string): Promise<{ body: string; versionId: string | undefined; etag: string | undefined }> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) }));
  return { body: (await r.Body?.transformToString()) ?? '', versionId: r.VersionId, etag: r.ETag };
}

async function put(bucket: string, key: string, body: string): Promise<string | undefined> {
  const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  expect(r.ETag).toBe(`"${md5Hex(body)}"`);
  return r.VersionId;
}

async function listedKeys(bucket: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((c) => c.Key ?? '');
}

describe('bucket versioning configuration', () => {
  it('has no Status before the first enable, then Enabled and Suspended; NoSuchBucket for a missing bucket', async () => {
    await createBucket('ver-config');
    const before = await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-config' }));
    expect(before.$metadata.httpStatusCode).toBe(200);
    expect(before.Status).toBeUndefined();
    await setVersioning('ver-config', 'Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-config' }))).Status).toBe('Enabled');
    await setVersioning('ver-config', 'Suspended');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-config' }))).Status).toBe('Suspended');
    await setVersioning('ver-config', 'Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-config' }))).Status).toBe('Enabled');
    await expectS3Error(s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-no-such-bucket' })), 'NoSuchBucket', 404);
    await expectS3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: 'ver-no-such-bucket', VersioningConfiguration: { Status: 'Enabled' } })),
      'NoSuchBucket',
      404,
    );
  });
});

describe('versions of an enabled bucket', () => {
  it('gives every write its own version id, sent as x-amz-version-id on PUT, GET, HEAD and DELETE', async () => {
    const b = 'ver-ids';
    await createBucket(b, 'Enabled');
    const bodies = ['first', 'second', 'third, longer than the others'];
    const ids: string[] = [];
    for (const body of bodies) {
      const id = await put(b, 'k', body);
      expect(id).toBeDefined();
      expect(id).not.toBe('null');
      ids.push(id ?? '');
    }
    expect(new Set(ids).size).toBe(3);

    const latest = await getText(b, 'k');
    expect(latest).toEqual({ body: bodies[2], versionId: ids[2], etag: `"${md5Hex(bodies[2] ?? '')}"` });
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(head.VersionId).toBe(ids[2]);

    for (const [i, id] of ids.entries()) {
      const body = bodies[i] ?? '';
      expect(await getText(b, 'k', id)).toEqual({ body, versionId: id, etag: `"${md5Hex(body)}"` });
      const hv = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: id }));
      expect({ versionId: hv.VersionId, etag: hv.ETag, length: hv.ContentLength }).toEqual({ versionId: id, etag: `"${md5Hex(body)}"`, length: body.length });
    }

    // Deleting the middle version for good: the others stay, the latest is unchanged.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[1] }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(del.VersionId).toBe(ids[1]);
    expect(del.DeleteMarker).toBeUndefined();
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[1] })), 'NoSuchVersion', 404);
    expect((await getText(b, 'k')).versionId).toBe(ids[2]);

    // Deleting the latest version for good: the next older one becomes the latest.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[2] }));
    expect(await getText(b, 'k')).toEqual({ body: bodies[0], versionId: ids[0], etag: `"${md5Hex(bodies[0] ?? '')}"` });
    expect(await listedKeys(b)).toEqual(['k']);

    // Deleting a version that is not there is a success that changes nothing.
    const again = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[2] }));
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect((await getText(b, 'k')).versionId).toBe(ids[0]);
  });

  it('puts a delete marker on a plain DELETE: GET is 404 with x-amz-delete-marker, ?versionId of it 405, deleting it restores', async () => {
    const b = 'ver-markers';
    await createBucket(b, 'Enabled');
    const v1 = await put(b, 'doc', 'version one');
    const v2 = await put(b, 'doc', 'version two');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(del.DeleteMarker).toBe(true);
    const markerId = del.VersionId ?? '';
    expect(markerId).toMatch(/^[0-9a-z]{9}[0-9a-f]{20}$/);
    expect([v1, v2]).not.toContain(markerId);

    const getErr = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })), 'NoSuchKey', 404);
    expect(getErr.$response?.headers?.['x-amz-delete-marker']).toBe('true');
    expect(getErr.$response?.headers?.['x-amz-version-id']).toBe(markerId);
    const headErr = await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc' })), 404);
    expect(headErr.$response?.headers?.['x-amz-delete-marker']).toBe('true');
    expect(await listedKeys(b)).toEqual([]);

    const byIdErr = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc', VersionId: markerId })), 'MethodNotAllowed', 405);
    expect(byIdErr.$response?.headers?.['x-amz-delete-marker']).toBe('true');
    expect(byIdErr.$response?.headers?.['x-amz-version-id']).toBe(markerId);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc', VersionId: markerId })), 405);

    // The versions under the marker are still readable by id.
    expect((await getText(b, 'doc', v1)).body).toBe('version one');
    expect((await getText(b, 'doc', v2)).body).toBe('version two');

    // A second plain DELETE stacks another marker.
    const del2 = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc' }));
    expect(del2.DeleteMarker).toBe(true);
    expect(del2.VersionId).not.toBe(markerId);

    // Removing the markers by version id: the previous version is the latest again.
    const undo2 = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: del2.VersionId }));
    expect({ marker: undo2.DeleteMarker, id: undo2.VersionId }).toEqual({ marker: true, id: del2.VersionId });
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'doc' })), 'NoSuchKey', 404);
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'doc', VersionId: markerId }));
    expect({ marker: undo.DeleteMarker, id: undo.VersionId }).toEqual({ marker: true, id: markerId });
    expect(await getText(b, 'doc')).toEqual({ body: 'version two', versionId: v2, etag: `"${md5Hex('version two')}"` });
    expect(await listedKeys(b)).toEqual(['doc']);
  });

  it('puts a delete marker even on a key that never existed', async () => {
    const b = 'ver-ghost';
    await createBucket(b, 'Enabled');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'never-was' }));
    expect(del.DeleteMarker).toBe(true);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.Versions).toBeUndefined();
    expect(listed.DeleteMarkers?.map((m) => ({ key: m.Key, id: m.VersionId, latest: m.IsLatest }))).toEqual([{ key: 'never-was', id: del.VersionId, latest: true }]);
  });
});

describe('the null version', () => {
  it('suspended: a PUT replaces the null version in place, real versions stay; a DELETE puts a null delete marker', async () => {
    const b = 'ver-suspended';
    await createBucket(b);
    // Written before versioning: the null version.
    expect(await put(b, 'k', 'unversioned original')).toBeUndefined();
    await setVersioning(b, 'Enabled');
    const v1 = await put(b, 'k', 'enabled v1');
    expect(v1).toMatch(/^[0-9a-z]{9}[0-9a-f]{20}$/);
    expect((await getText(b, 'k', 'null')).body).toBe('unversioned original');

    await setVersioning(b, 'Suspended');
    // Writing the null version: AWS's answer carries no x-amz-version-id (its suspended sample).
    expect(await put(b, 'k', 'suspended a')).toBeUndefined();
    expect(await put(b, 'k', 'suspended b')).toBeUndefined();
    expect(await getText(b, 'k')).toEqual({ body: 'suspended b', versionId: 'null', etag: `"${md5Hex('suspended b')}"` });
    expect((await getText(b, 'k', 'null')).body).toBe('suspended b');
    expect((await getText(b, 'k', v1)).body).toBe('enabled v1');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(versions.Versions?.map((v) => ({ id: v.VersionId, latest: v.IsLatest, etag: v.ETag }))).toEqual([
      { id: 'null', latest: true, etag: `"${md5Hex('suspended b')}"` },
      { id: v1, latest: false, etag: `"${md5Hex('enabled v1')}"` },
    ]);

    // DELETE replaces the null version with a null delete marker; v1 is kept.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect({ marker: del.DeleteMarker, id: del.VersionId }).toEqual({ marker: true, id: 'null' });
    const err = await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
    expect(err.$response?.headers?.['x-amz-delete-marker']).toBe('true');
    expect(err.$response?.headers?.['x-amz-version-id']).toBe('null');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' })), 'MethodNotAllowed', 405);
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(after.Versions?.map((v) => ({ id: v.VersionId, latest: v.IsLatest }))).toEqual([{ id: v1, latest: false }]);
    expect(after.DeleteMarkers?.map((m) => ({ id: m.VersionId, latest: m.IsLatest }))).toEqual([{ id: 'null', latest: true }]);

    // A PUT after the null marker replaces it in turn.
    expect(await put(b, 'k', 'suspended c')).toBeUndefined();
    const last = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(last.DeleteMarkers).toBeUndefined();
    expect(last.Versions?.map((v) => v.VersionId)).toEqual(['null', v1]);

    // Removing the null version by id: v1 is the latest again.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
    expect(await getText(b, 'k')).toEqual({ body: 'enabled v1', versionId: v1, etag: `"${md5Hex('enabled v1')}"` });
  });

  it('unversioned: no version headers anywhere, a DELETE removes the object', async () => {
    const b = 'ver-none';
    await createBucket(b);
    const p = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'plain' }));
    expect(p.VersionId).toBeUndefined();
    const g = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(g.VersionId).toBeUndefined();
    expect(g.$metadata.httpStatusCode).toBe(200);
    await g.Body?.transformToString();
    const hd = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(hd.VersionId).toBeUndefined();
    expect(hd.DeleteMarker).toBeUndefined();
    // The null version can be named explicitly.
    expect((await getText(b, 'k', 'null')).body).toBe('plain');
    const d = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(d.$metadata.httpStatusCode).toBe(204);
    expect(d.VersionId).toBeUndefined();
    expect(d.DeleteMarker).toBeUndefined();
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.Versions).toBeUndefined();
    expect(listed.DeleteMarkers).toBeUndefined();
    // Deleting a key that does not exist succeeds.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).$metadata.httpStatusCode).toBe(204);
  });
});

describe('version ids that do not fit', () => {
  it('answers NoSuchVersion (404) for a well-formed unknown id and InvalidArgument (400) for a malformed one', async () => {
    const b = 'ver-bad-ids';
    await createBucket(b, 'Enabled');
    await put(b, 'k', 'x');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: unknownVersionId })), 'NoSuchVersion', 404);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: unknownVersionId })), 404);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'missing-key', VersionId: unknownVersionId })), 'NoSuchVersion', 404);
    for (const bad of ['not-a-version', 'NULL', `${unknownVersionId}0`]) {
      await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: bad })), 'InvalidArgument', 400);
      await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: bad })), 400);
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: bad })), 'InvalidArgument', 400);
    }
    expect((await getText(b, 'k')).body).toBe('x');
  });
});

describe('ListObjectVersions', () => {
  const b = 'ver-listing';
  const model = new S3Model();

  beforeAll(async () => {
    // Keys with several versions and delete markers, some under common prefixes, one key that is
    // also a prefix of others, one with only a delete marker, one whose null version predates
    // versioning; all recorded in the model.
    await createBucket(b);
    model.createBucket(b);
    const plainPut = async (key: string, body: string): Promise<void> => model.put(b, key, await put(b, key, body), md5Hex(body), body);
    await plainPut('a', 'a null');
    await plainPut('dir/x', 'dir/x null');
    await setVersioning(b, 'Enabled');
    model.setVersioning(b, 'Enabled');
    const ops: [string, 'put' | 'delete'][] = [
      ['a', 'put'],
      ['a/1', 'put'],
      ['a/1', 'put'],
      ['a/2', 'put'],
      ['a', 'delete'],
      ['a/2', 'delete'],
      ['a/2', 'put'],
      ['b', 'put'],
      ['b', 'put'],
      ['b', 'put'],
      ['b/x/1', 'put'],
      ['b/x/2', 'delete'],
      ['c', 'put'],
      ['c', 'delete'],
      ['c', 'delete'],
      ['dir/x', 'put'],
      ['dir/y', 'put'],
      ['ü', 'put'],
      ['z', 'put'],
    ];
    for (const [i, [key, op]] of ops.entries()) {
      if (op === 'put') await plainPut(key, `${key} #${i}`);
      else {
        const r = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
        expect(r.DeleteMarker).toBe(true);
        model.delete(b, key, r.VersionId);
      }
    }
  });

  it('lists every version and marker in S3 order with IsLatest, as the model does', async () => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(r.IsTruncated).toBe(false);
    const expected = model.listVersionItems(b);
    expect(pageItems(r)).toEqual(expected.map(modelItemName).sort());
    // Order of the versions of each kind as the SDK keeps it: keys in UTF-8 order, newest first.
    expect(r.Versions?.map((v) => `${v.Key ?? ''} ${v.VersionId ?? ''}`)).toEqual(
      expected.flatMap((i) => (i.kind === 'version' && !i.entry.deleteMarker ? [`${i.entry.key} ${i.entry.versionId}`] : [])),
    );
    expect(r.DeleteMarkers?.map((v) => `${v.Key ?? ''} ${v.VersionId ?? ''}`)).toEqual(
      expected.flatMap((i) => (i.kind === 'version' && i.entry.deleteMarker ? [`${i.entry.key} ${i.entry.versionId}`] : [])),
    );
    const sizes = new Map((r.Versions ?? []).map((v) => [`${v.Key ?? ''} ${v.VersionId ?? ''}`, v.Size]));
    for (const key of model.buckets.get(b)?.keys.keys() ?? []) {
      for (const v of model.versionsOf(b, key)) if (!v.deleteMarker) expect(sizes.get(`${key} ${v.versionId}`)).toBe(Buffer.byteLength(v.body));
    }
  });

  const cases: [string, string][] = [
    ['', ''],
    ['', '/'],
    ['a', ''],
    ['a', '/'],
    ['b/', '/'],
    ['b/', ''],
    ['c', '/'],
    ['nothing-here', ''],
  ];
  for (const maxKeys of [1, 2, 3]) {
    for (const [prefix, delimiter] of cases) {
      it(`pages with max-keys ${maxKeys}, prefix ${JSON.stringify(prefix)}, delimiter ${JSON.stringify(delimiter)}: the pages concatenate to the full listing`, async () => {
        await expectVersionPages(s3, model, { bucket: b, maxKeys, prefix, delimiter });
      });
    }
  }

  it('pages with max-keys 1 one entry at a time, in exactly the model order', async () => {
    const expected = model.listVersionItems(b).map(modelItemName);
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let page = 0; page <= expected.length; page++) {
      const r = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: b,
          MaxKeys: 1,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
        }),
      );
      seen.push(...pageItems(r));
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      versionIdMarker = r.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
  });

  it('starts after key-marker alone (all of that key\'s versions skipped)', async () => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: b, KeyMarker: 'a/1' }));
    expect(pageItems(r)).toEqual(
      model
        .listVersionItems(b)
        .filter((i) => i.kind === 'version' && Buffer.compare(Buffer.from(i.entry.key), Buffer.from('a/1')) > 0)
        .map(modelItemName)
        .sort(),
    );
  });

  it('refuses a version-id-marker without a key-marker', async () => {
    await expectS3Error(s3.send(new ListObjectVersionsCommand({ Bucket: b, VersionIdMarker: 'null' })), 'InvalidArgument', 400);
  });
});

describe('emptying a versioned bucket page by page', () => {
  it('deleting each page\'s versions before asking for the next page skips nothing (the marker version is gone by then)', async () => {
    const b = 'ver-empty-loop';
    await createBucket(b, 'Enabled');
    for (const [key, n] of [['k', 7], ['l', 3], ['m/1', 4], ['m/2', 2]] as const) {
      for (let i = 0; i < n; i++) await put(b, key, `${key} ${i}`);
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
    }
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let deleted = 0;
    for (let page = 0; page < 100; page++) {
      const r = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: b,
          MaxKeys: 3,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
        }),
      );
      const objects = [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key ?? '', VersionId: v.VersionId ?? '' }));
      if (objects.length > 0) {
        const d = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: objects } }));
        expect(d.Errors).toBeUndefined();
        deleted += objects.length;
      }
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      versionIdMarker = r.NextVersionIdMarker;
    }
    expect(deleted).toBe(7 + 3 + 4 + 2 + 4);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect({ versions: left.Versions, markers: left.DeleteMarkers }).toEqual({ versions: undefined, markers: undefined });
    expect((await s3.send(new DeleteBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(204);
  });
});

describe('DeleteObjects with version ids', () => {
  it('removes versions for good, puts markers for entries without an id, and reports each', async () => {
    const b = 'ver-batch';
    await createBucket(b, 'Enabled');
    const k1a = await put(b, 'k1', 'k1 a');
    const k1b = await put(b, 'k1', 'k1 b');
    const k2 = await put(b, 'k2', 'k2');
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: b,
        Delete: {
          Objects: [{ Key: 'k1', VersionId: k1a }, { Key: 'k2' }, { Key: 'k3', VersionId: unknownVersionId }],
        },
      }),
    );
    expect(r.Errors).toBeUndefined();
    const byKey = new Map((r.Deleted ?? []).map((d) => [d.Key, d]));
    expect(byKey.size).toBe(3);
    expect(byKey.get('k1')).toMatchObject({ VersionId: k1a });
    expect(byKey.get('k1')?.DeleteMarker).toBeUndefined();
    const k2Marker = byKey.get('k2')?.DeleteMarkerVersionId;
    expect(byKey.get('k2')).toMatchObject({ DeleteMarker: true });
    expect(k2Marker).toMatch(/^[0-9a-z]{9}[0-9a-f]{20}$/);
    expect(byKey.get('k3')).toMatchObject({ VersionId: unknownVersionId });

    expect(await getText(b, 'k1')).toMatchObject({ body: 'k1 b', versionId: k1b });
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k1', VersionId: k1a })), 'NoSuchVersion', 404);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k2' })), 'NoSuchKey', 404);

    // Removing the delete marker by id through the batch brings k2 back, reported as a marker.
    const undo = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k2', VersionId: k2Marker }, { Key: 'k1', VersionId: 'bad id' }] } }),
    );
    expect(undo.Deleted?.map((d) => ({ key: d.Key, id: d.VersionId, marker: d.DeleteMarker, markerId: d.DeleteMarkerVersionId }))).toEqual([
      { key: 'k2', id: k2Marker, marker: true, markerId: k2Marker },
    ]);
    expect(undo.Errors?.map((e) => ({ key: e.Key, code: e.Code }))).toEqual([{ key: 'k1', code: 'InvalidArgument' }]);
    expect(await getText(b, 'k2')).toMatchObject({ body: 'k2', versionId: k2 });
  });
});

describe('DeleteBucket with versions', () => {
  it('is refused while versions or delete markers remain, allowed once every version is gone', async () => {
    const b = 'ver-delete-bucket';
    await createBucket(b, 'Enabled');
    const v1 = await put(b, 'k', 'one');
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).VersionId;
    // Nothing is listed, but versions remain.
    expect(await listedKeys(b)).toEqual([]);
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    // Only the delete marker remains.
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: marker }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    await expectS3Error(s3.send(new GetBucketVersioningCommand({ Bucket: b })), 'NoSuchBucket', 404);
  });

  it('counts a suspended bucket\'s null delete marker as content', async () => {
    const b = 'ver-delete-suspended';
    await createBucket(b, 'Suspended');
    await put(b, 'k', 'x');
    const d = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect({ marker: d.DeleteMarker, id: d.VersionId }).toEqual({ marker: true, id: 'null' });
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
    expect((await s3.send(new DeleteBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(204);
  });
});

describe('through the AWS CLI (botocore: encoding-type=url listings, its own pagination)', () => {
  it('put-bucket-versioning, versions of awkward keys, list-object-versions one per page, get-object --version-id, delete markers', async () => {
    await requireAwsCliV2();
    const aws = awsCli(h.strata.endpoint);
    const b = 'ver-cli';
    const keys = ['dir/with space', 'dir/ünï+cödé', 'plain'];
    await aws.ok(['s3api', 'create-bucket', '--bucket', b]);
    await aws.ok(['s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled']);
    expect(JSON.parse(await aws.ok(['s3api', 'get-bucket-versioning', '--bucket', b]))).toMatchObject({ Status: 'Enabled' });
    const model = new S3Model();
    model.createBucket(b);
    model.setVersioning(b, 'Enabled');
    for (const key of keys) {
      for (let i = 0; i < 2; i++) {
        const body = `${key} #${i}`;
        const r = await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
        model.put(b, key, r.VersionId, md5Hex(body), body);
      }
    }
    const del = JSON.parse(await aws.ok(['s3api', 'delete-object', '--bucket', b, '--key', 'dir/with space'])) as { DeleteMarker?: boolean; VersionId?: string };
    expect(del.DeleteMarker).toBe(true);
    model.delete(b, 'dir/with space', del.VersionId);

    // --page-size 1: the CLI follows NextKeyMarker/NextVersionIdMarker (url-encoded) page by page.
    const listed = JSON.parse(await aws.ok(['s3api', 'list-object-versions', '--bucket', b, '--page-size', '1'])) as {
      Versions?: { Key: string; VersionId: string; IsLatest: boolean }[];
      DeleteMarkers?: { Key: string; VersionId: string; IsLatest: boolean }[];
    };
    const expected = model.listVersions(b);
    expect(listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual(expected.filter((e) => !e.deleteMarker).map((e) => [e.key, e.versionId, e.isLatest]));
    expect(listed.DeleteMarkers?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual(expected.filter((e) => e.deleteMarker).map((e) => [e.key, e.versionId, e.isLatest]));

    const grouped = JSON.parse(await aws.ok(['s3api', 'list-object-versions', '--bucket', b, '--delimiter', '/', '--page-size', '1'])) as {
      CommonPrefixes?: { Prefix: string }[];
      Versions?: { Key: string }[];
    };
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/']);
    expect(grouped.Versions?.map((v) => v.Key)).toEqual(['plain', 'plain']);

    const older = model.versionsOf(b, 'dir/ünï+cödé')[1];
    const out = join(mkdtempSync(join(tmpdir(), 'strata-cli-get-')), 'out');
    const got = JSON.parse(await aws.ok(['s3api', 'get-object', '--bucket', b, '--key', 'dir/ünï+cödé', '--version-id', older?.versionId ?? '', out])) as { VersionId?: string };
    expect(got.VersionId).toBe(older?.versionId);
    expect(readFileSync(out, 'utf8')).toBe(older?.body);
    const marked = await aws.run(['s3api', 'head-object', '--bucket', b, '--key', 'dir/with space']);
    expect(marked.code).not.toBe(0);
    expect(marked.stderr).toMatch(/404|Not Found/);
  });
});
