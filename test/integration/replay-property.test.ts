/**
 * Property (fast-check, seed printed): any sequence of bucket and object operations (create and
 * delete buckets, puts and overwrites, plain deletes, versioning on and suspended, deletes by
 * version id, DeleteObjects batches of both, GET/HEAD/LIST in between) run through the real
 * gateway with the AWS SDK
 *   1. gets, at every step, the answer a simple in-memory model of S3 semantics predicts;
 *   2. leaves a state in which every GET (latest and by version id), ListObjectsV2 and
 *      ListObjectVersions answer (whole, and in pages of 1 to 3) equals the model's;
 *   3. is reproducible from the log alone: the read model rebuilt by replay (rebuildInto) equals
 *      the live one entry for entry.
 * One Strata serves every run; each run uses bucket names of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/app/strata.ts';
import { rebuildInto } from '../../src/projections/rebuild.ts';
import { lagProjector } from '../support/lag.ts';
import { modelList } from '../support/listing-model.ts';
import { testSeed } from '../support/prng.ts';
import { S3Model, nullVersion } from '../support/s3-model.ts';
import { expectVersionPages } from '../support/version-pages.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

const bucketSlots = 2;
const keys = ['a', 'a/b', 'a/c', 'b', 'ü/x'] as const;
/** Well-formed, never issued. */
const unknownVersionId = `000000001${'0'.repeat(20)}`;

type Op =
  | { readonly kind: 'create-bucket'; readonly slot: number }
  | { readonly kind: 'delete-bucket'; readonly slot: number }
  | { readonly kind: 'versioning'; readonly slot: number; readonly status: 'Enabled' | 'Suspended' }
  | { readonly kind: 'put'; readonly slot: number; readonly key: number; readonly size: number }
  | { readonly kind: 'delete'; readonly slot: number; readonly key: number }
  | { readonly kind: 'delete-version'; readonly slot: number; readonly key: number; readonly pick: number }
  /** A read in the middle of the sequence (through whichever gateway the step names). */
  | { readonly kind: 'read'; readonly slot: number; readonly key: number }
  /** DeleteObjects over distinct keys (its entries run concurrently); `pick` null = plain delete. */
  | { readonly kind: 'delete-objects'; readonly slot: number; readonly entries: readonly { readonly key: number; readonly pick: number | null }[] };

const slot = fc.nat({ max: bucketSlots - 1 });
const key = fc.nat({ max: keys.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('create-bucket' as const), slot }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-bucket' as const), slot }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('versioning' as const), slot, status: fc.constantFrom('Enabled' as const, 'Suspended' as const) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      slot,
      key,
      // Mostly inline bodies; some above the 4 KiB inline limit, so they go to the storage node.
      size: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 200 }) }, { weight: 1, arbitrary: fc.integer({ min: 4097, max: 12_000 }) }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), slot, key }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete-version' as const), slot, key, pick: fc.nat({ max: 7 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), slot, key }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete-objects' as const),
      slot,
      entries: fc.uniqueArray(fc.record({ key, pick: fc.option(fc.nat({ max: 7 })) }), { minLength: 1, maxLength: 3, selector: (e) => e.key }),
    }),
  },
);
const sequenceArb = fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }).map((ops): Op[] => [{ kind: 'create-bucket', slot: 0 }, ...ops]);

let h: TestStrata;
let s3: S3Client;
let nc: NatsConnection;
let runCounter = 0;

beforeAll(async () => {
  h = await startTestStrata();
  s3 = h.client();
  nc = await connectNats(h.strata.natsUrl, 'test-replay-property');
});

afterAll(async () => {
  await nc?.close();
  s3?.destroy();
  await h?.stop();
});

const md5Hex = (s: string): string => createHash('md5').update(s).digest('hex');

/** The S3 error code (or 'ok') of a request, for comparing with the model's decision. */
async function outcome<T>(p: Promise<T>): Promise<{ code: string; value: T | undefined }> {
  try {
    return { code: 'ok', value: await p };
  } catch (e) {
    return { code: (e as { name: string }).name, value: undefined };
  }
}

function bodyFor(run: number, step: number, size: number): string {
  const seedText = `run ${run} step ${step} `;
  return seedText.repeat(Math.ceil(size / seedText.length)).slice(0, size);
}

/** A version id to delete: one of the key's, "null", or a well-formed id never issued. */
function pickVersion(model: S3Model, exists: boolean, bucket: string, k: string, pick: number): string {
  const candidates = exists ? [...model.versionsOf(bucket, k).map((v) => v.versionId), nullVersion, unknownVersionId] : [nullVersion];
  return candidates[pick % candidates.length] ?? nullVersion;
}

/** Runs one operation through the gateway and the model; expects the same decision from both. */
async function step(s3: S3Client, run: number, i: number, op: Op, model: S3Model, bucketName: (slot: number) => string): Promise<void> {
  const bucket = bucketName(op.slot);
  const exists = model.buckets.has(bucket);
  const where = `step ${i} ${JSON.stringify(op)}`;
  switch (op.kind) {
    case 'create-bucket': {
      const r = await outcome(s3.send(new CreateBucketCommand({ Bucket: bucket })));
      expect(r.code, where).toBe(model.createBucket(bucket));
      return;
    }
    case 'delete-bucket': {
      const r = await outcome(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect(r.code, where).toBe(model.deleteBucket(bucket));
      return;
    }
    case 'versioning': {
      const r = await outcome(s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: op.status } })));
      expect(r.code, where).toBe(exists ? 'ok' : 'NoSuchBucket');
      if (exists) model.setVersioning(bucket, op.status);
      return;
    }
    case 'put': {
      const k = keys[op.key] ?? '';
      const body = bodyFor(run, i, op.size);
      const r = await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body, ContentLength: Buffer.byteLength(body) })));
      expect(r.code, where).toBe(exists ? 'ok' : 'NoSuchBucket');
      if (!r.value) return;
      expect(r.value.ETag, where).toBe(`"${md5Hex(body)}"`);
      model.put(bucket, k, r.value.VersionId, md5Hex(body), body);
      return;
    }
    case 'delete': {
      const k = keys[op.key] ?? '';
      const r = await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k })));
      expect(r.code, where).toBe(exists ? 'ok' : 'NoSuchBucket');
      if (!r.value) return;
      const want = model.delete(bucket, k, r.value.VersionId);
      expect({ marker: r.value.DeleteMarker ?? false, id: r.value.VersionId }, where).toEqual({ marker: want.deleteMarker, id: want.versionId });
      return;
    }
    case 'read': {
      // GET, HEAD and a listing of the key, as the model has it right now.
      const k = keys[op.key] ?? '';
      const want = model.get(bucket, k);
      const got = await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: k })));
      const wantCode = want.kind === 'found' ? 'ok' : want.kind === 'no-bucket' ? 'NoSuchBucket' : 'NoSuchKey';
      expect(got.code, where).toBe(wantCode);
      if (want.kind === 'found') {
        expect({ body: await got.value?.Body?.transformToString(), etag: got.value?.ETag }, where).toEqual({ body: want.version.body, etag: `"${want.version.etag}"` });
        expect(got.value?.VersionId, where).toBe(model.isVersioned(bucket) ? want.version.versionId : undefined);
      }
      const head = await outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })));
      expect(head.code === 'ok' ? head.value?.ETag : 'error', where).toBe(want.kind === 'found' ? `"${want.version.etag}"` : 'error');
      if (!exists) return;
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect((listed.Contents ?? []).map((o) => `${o.Key ?? ''} ${o.ETag ?? ''}`), where).toEqual(model.listObjects(bucket).map((o) => `${o.key} "${o.etag}"`));
      return;
    }
    case 'delete-objects': {
      const objects = op.entries.map((e) => {
        const k = keys[e.key] ?? '';
        return e.pick === null ? { Key: k } : { Key: k, VersionId: pickVersion(model, exists, bucket, k, e.pick) };
      });
      const r = await outcome(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } })));
      expect(r.code, where).toBe(exists ? 'ok' : 'NoSuchBucket');
      if (!r.value) return;
      expect(r.value.Errors, where).toBeUndefined();
      const reported = new Map((r.value.Deleted ?? []).map((d) => [d.Key, d]));
      expect(reported.size, where).toBe(objects.length);
      for (const o of objects) {
        const d = reported.get(o.Key);
        const seen = { versionId: d?.VersionId, marker: d?.DeleteMarker ?? false, markerId: d?.DeleteMarkerVersionId };
        if (o.VersionId === undefined) {
          const want = model.delete(bucket, o.Key, d?.DeleteMarkerVersionId);
          expect(seen, `${where} ${o.Key}`).toEqual({ versionId: undefined, marker: want.deleteMarker, markerId: want.versionId });
        } else {
          const removed = model.deleteVersion(bucket, o.Key, o.VersionId);
          const marker = removed?.deleteMarker ?? false;
          expect(seen, `${where} ${o.Key}`).toEqual({ versionId: o.VersionId, marker, markerId: marker ? o.VersionId : undefined });
        }
      }
      return;
    }
    case 'delete-version': {
      const k = keys[op.key] ?? '';
      const versionId = pickVersion(model, exists, bucket, k, op.pick);
      const r = await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k, VersionId: versionId })));
      expect(r.code, where).toBe(exists ? 'ok' : 'NoSuchBucket');
      if (!r.value) return;
      const removed = model.deleteVersion(bucket, k, versionId);
      expect({ marker: r.value.DeleteMarker ?? false, id: r.value.VersionId }, `${where} version ${versionId}`).toEqual({
        marker: removed?.deleteMarker ?? false,
        id: versionId,
      });
      return;
    }
  }
}

/** Every read the model can predict, for one bucket. */
async function checkBucket(s3: S3Client, bucket: string, model: S3Model, pageSize: number): Promise<void> {
  const state = model.buckets.get(bucket);
  if (!state) {
    await expect(s3.send(new ListObjectsV2Command({ Bucket: bucket })), bucket).rejects.toMatchObject({ name: 'NoSuchBucket' });
    return;
  }
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  expect(versioning.Status ?? 'Unversioned', bucket).toBe(state.versioning);

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect((listed.Contents ?? []).map((o) => ({ key: o.Key, etag: o.ETag })), `${bucket} ListObjectsV2`).toEqual(
    model.listObjects(bucket).map((o) => ({ key: o.key, etag: `"${o.etag}"` })),
  );
  const grouped = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
  const want = modelList(
    model.listObjects(bucket).map((o) => o.key),
    { delimiter: '/' },
  );
  expect(
    { keys: (grouped.Contents ?? []).map((o) => o.Key), prefixes: (grouped.CommonPrefixes ?? []).map((p) => p.Prefix) },
    `${bucket} ListObjectsV2 delimiter /`,
  ).toEqual({ keys: want.filter((e) => e.kind === 'key').map((e) => e.value), prefixes: want.filter((e) => e.kind === 'prefix').map((e) => e.value) });

  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const expected = model.listVersions(bucket);
  expect((versions.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest, v.ETag]), `${bucket} ListObjectVersions versions`).toEqual(
    expected.filter((e) => !e.deleteMarker).map((e) => [e.key, e.versionId, e.isLatest, `"${e.etag}"`]),
  );
  expect((versions.DeleteMarkers ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest]), `${bucket} ListObjectVersions markers`).toEqual(
    expected.filter((e) => e.deleteMarker).map((e) => [e.key, e.versionId, e.isLatest]),
  );

  // The same listing in pages of `pageSize`, flat and grouped.
  await expectVersionPages(s3, model, { bucket, maxKeys: pageSize });
  await expectVersionPages(s3, model, { bucket, maxKeys: pageSize, delimiter: '/' });

  const versioned = state.versioning !== 'Unversioned';
  for (const k of keys) {
    const where = `${bucket}/${k}`;
    const latest = model.get(bucket, k);
    const got = await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: k })));
    if (latest.kind === 'found') {
      expect(got.code, where).toBe('ok');
      expect({ body: await got.value?.Body?.transformToString(), etag: got.value?.ETag, versionId: got.value?.VersionId }, where).toEqual({
        body: latest.version.body,
        etag: `"${latest.version.etag}"`,
        versionId: versioned ? latest.version.versionId : undefined,
      });
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k }));
      expect({ etag: head.ETag, length: head.ContentLength }, where).toEqual({ etag: `"${latest.version.etag}"`, length: Buffer.byteLength(latest.version.body) });
    } else {
      expect(got.code, where).toBe('NoSuchKey');
    }
    for (const v of model.versionsOf(bucket, k)) {
      const byId = await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: k, VersionId: v.versionId })));
      if (v.deleteMarker) {
        expect(byId.code, `${where}?versionId=${v.versionId}`).toBe('MethodNotAllowed');
      } else {
        expect(byId.code, `${where}?versionId=${v.versionId}`).toBe('ok');
        expect(await byId.value?.Body?.transformToString(), `${where}?versionId=${v.versionId}`).toBe(v.body);
      }
    }
    if (!model.versionsOf(bucket, k).some((v) => v.versionId === nullVersion)) {
      expect((await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: k, VersionId: nullVersion })))).code, `${where}?versionId=null`).toBe('NoSuchVersion');
    }
  }
}

async function checkReplay(others: readonly TestStrata[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-replay-property-'));
  try {
    const rebuilt = await rebuildInto(nc, dir);
    try {
      expect(rebuilt.lastSeq).toBe(h.strata.store.checkpoint());
      const live = h.strata.store.dump();
      expect(rebuilt.store.dump()).toEqual(live);
      // Every other gateway on the log, once it has applied as much, holds the same model.
      for (const o of others) {
        await o.strata.projector.waitApplied(rebuilt.lastSeq);
        expect(o.strata.store.dump()).toEqual(live);
      }
    } finally {
      await rebuilt.store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One property run: the sequence through `clients` (each op through the client it names). */
async function runSequence(clients: readonly S3Client[], sequence: readonly (readonly [Op, number])[], others: readonly TestStrata[]): Promise<number> {
  const run = runCounter++;
  const bucketName = (s: number): string => `prop-${run}-b${s}`;
  const model = new S3Model();
  const via = (n: number): S3Client => clients[n % clients.length] ?? s3;
  for (const [i, [op, through]] of sequence.entries()) await step(via(through), run, i, op, model, bucketName);
  for (const client of clients) {
    const buckets = await client.send(new ListBucketsCommand({}));
    expect(
      (buckets.Buckets ?? []).map((b) => b.Name ?? '').filter((n) => n.startsWith(`prop-${run}-`)).sort(),
      'ListBuckets',
    ).toEqual([...model.buckets.keys()].sort());
    for (let s = 0; s < bucketSlots; s++) await checkBucket(client, bucketName(s), model, (run % 3) + 1);
  }
  await checkReplay(others);
  return sequence.length;
}

const through = (arb: fc.Arbitrary<Op[]>): fc.Arbitrary<(readonly [Op, number])[]> =>
  arb.chain((ops) => fc.tuple(...ops.map((op) => fc.tuple(fc.constant(op), fc.nat({ max: 1 })))));

describe('replay property', () => {
  it('any operation sequence: answers match the S3 model, and the log rebuilds the same read model', async () => {
    const seed = testSeed('replay property') | 0;
    const numRuns = Number(process.env['STRATA_PROPERTY_RUNS'] ?? 20);
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (sequence) => {
        ops += await runSequence([s3], sequence.map((op) => [op, 0] as const), []);
      }),
      { seed, numRuns, interruptAfterTimeLimit: 150_000 },
    );
    console.log(`replay property: ${numRuns} runs, ${ops} operations (fast-check seed ${seed})`);
  });

  it('through two gateways at random (B fenced and lagging, on the same log): the same answers, and both models equal the replay', async () => {
    const seed = testSeed('replay property, two gateways') | 0;
    const numRuns = Number(process.env['STRATA_PROPERTY_RUNS'] ?? 10);
    const b = await startTestStrata({ natsUrl: h.strata.natsUrl, remoteNodes: [h.config.nodeId], gatewayId: 'gw-property-b' });
    const s3b = b.client();
    const undoLag = lagProjector(b.strata.store, 10);
    let ops = 0;
    try {
      await fc.assert(
        fc.asyncProperty(through(sequenceArb), async (sequence) => {
          ops += await runSequence([s3, s3b], sequence, [b]);
        }),
        { seed, numRuns, interruptAfterTimeLimit: 150_000 },
      );
    } finally {
      undoLag();
      s3b.destroy();
      await b.stop();
    }
    console.log(`replay property, two gateways: ${numRuns} runs, ${ops} operations (fast-check seed ${seed})`);
  });
});
