/**
 * ListObjectVersions through the AWS SDK v3 (and the AWS CLI) against a real Strata, compared with
 * the in-memory S3 model: S3 order with IsLatest, delete markers, prefix and delimiter, paging by
 * key-marker and version-id-marker with max-keys 1 to 3 (the pages concatenate to the full
 * listing), and the loop that empties a bucket page by page (deleting each page before asking for
 * the next, so the version-id-marker is gone by then).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, requireAwsCliV2 } from '../support/aws-cli.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { S3Model } from '../support/s3-model.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';
import { md5Hex, versionedOps } from '../support/versioned-ops.ts';
import { expectVersionPages, modelItemName, pageItems } from '../support/version-pages.ts';

let h: TestStrata;
let s3: S3Client;
const { createBucket, setVersioning, put } = versionedOps(() => s3);

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
});

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
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
