/**
 * Versioning as AWS documents it, through the AWS SDK v3 against a real Strata: bucket
 * versioning states, version ids and x-amz-version-id, GET/HEAD/DELETE by version id, delete
 * markers (404 with x-amz-delete-marker, 405 by version id), the null version of unversioned and
 * suspended buckets, DeleteObjects with version ids, and DeleteBucket while versions remain.
 * ListObjectVersions is in versioning-listing.test.ts.
 */
import {
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
import { expectBodilessError, expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';
import { md5Hex, unknownVersionId, versionedOps } from '../support/versioned-ops.ts';

let h: TestStrata;
let s3: S3Client;
const { createBucket, setVersioning, put, getText } = versionedOps(() => s3);

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

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
