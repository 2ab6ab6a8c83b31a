/**
 * The gateway engine: S3 operations as decisions over the read model, committed as events.
 *
 * Write path: data durable on its node(s) → event acknowledged by JetStream (the commit point) →
 * the local projector has applied it (its outcome decides the answer) → the caller answers 2xx.
 * A crash before the PubAck leaves only unreferenced shards; after it, the event is history and
 * every projector applies it on replay.
 */
import { bucketSubject, objectSubject } from '../events/subjects.ts';
import { nullVersionId, type BucketGuard, type EventBody, type StrataEvent } from '../events/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { DigestPool } from '../lib/digest-pool.ts';
import { newEventId, newVersionId } from '../lib/ids.ts';
import type { EventLog } from '../log/publisher.ts';
import { listObjects, type ListPage, type ListQuery } from '../projections/listing/list.ts';
import { listObjectVersions, type ListVersionsPage, type ListVersionsQuery } from '../projections/listing/list-versions.ts';
import type { Outcome } from '../model/evolve.ts';
import type { Projector } from '../projections/projector.ts';
import type { BucketRecord, ObjectRecord } from '../model/records.ts';
import type { ReadModelStore } from '../model/store.ts';
import { readObjectRange } from './object-reader.ts';
import { writeBody, type WriteBodyInput } from './object-writer.ts';
import { commit } from './commit.ts';
import { commitToKey, hasCondition, precheckCondition, type WriteCondition } from './conditional-write.ts';
import { copyObject, type CopiedObject, type CopyObjectInput } from './copy.ts';
import { MultipartEngine } from './multipart.ts';
import { fail, failRejected, ok, type Actor, type ObjectHeaders, type Result, type ShardPlacement } from './types.ts';

export interface EngineDeps {
  readonly log: EventLog;
  readonly projector: Projector;
  readonly store: ReadModelStore;
  readonly placement: ShardPlacement;
  readonly clock: Clock;
  readonly region: string;
  /**
   * Fence reads across gateways: before GET/HEAD (the key's subject) and LIST (the whole stream),
   * wait until this gateway's read model has applied everything already committed. Needed when
   * several gateways serve one log; a lone gateway already answers writes only after applying.
   */
  readonly readFence: boolean;
  /** Worker threads that hash bodies off the event loop (lib/digest-pool.ts); without, bodies are hashed inline. */
  readonly digests?: DigestPool;
}

export interface PutObjectInput extends WriteBodyInput {
  readonly bucket: string;
  readonly key: string;
  readonly headers: ObjectHeaders;
  /** If-None-Match: * / If-Match (race-free across gateways; see conditional-write.ts). */
  readonly condition?: WriteCondition;
}

export interface PutObjectOutput {
  readonly etag: string;
  readonly versionId: string;
  /** Whether the bucket has (ever had) versioning: then the answer carries x-amz-version-id. */
  readonly versioned: boolean;
  readonly checksum: { algorithm: string; value: string } | undefined;
}

export interface DeleteOutput {
  readonly versioned: boolean;
  readonly versionId?: string;
  readonly deleteMarker?: boolean;
}

export type Lookup =
  | { readonly kind: 'no-bucket' }
  | { readonly kind: 'missing'; readonly versioned: boolean }
  | { readonly kind: 'no-version'; readonly versioned: boolean }
  | { readonly kind: 'delete-marker'; readonly versionId: string; readonly explicit: boolean; readonly versioned: boolean; readonly lastModifiedMs: number }
  | { readonly kind: 'found'; readonly record: ObjectRecord & { readonly deleteMarker?: boolean }; readonly versioned: boolean };

/** Attempts of a conditional publish whose expected sequence was overtaken by another writer. */
const conditionalAttemptsMax = 5;

export class Engine {
  /** Multipart uploads (multipart.ts). */
  readonly multipart: MultipartEngine;

  constructor(private readonly d: EngineDeps) {
    this.multipart = new MultipartEngine(d, (b) => this.versionIdFor(b), d.digests);
  }

  /** CopyObject: metadata only, the new version shares the source's shards (copy.ts). */
  async copyObject(actor: Actor, input: CopyObjectInput): Promise<Result<CopiedObject>> {
    const bucket = await this.bucketForWrite(input.bucket);
    if (!bucket) return fail('NoSuchBucket');
    return copyObject(this.d, actor, input, this.versionIdFor(bucket));
  }

  get placement(): ShardPlacement {
    return this.d.placement;
  }

  /**
   * Switches to a rebuilt model without stopping (strata replay --rebuild). The deps object is
   * shared with the sub-engines (multipart, copy), so it is updated in place for all of them.
   */
  swapModel(store: ReadModelStore, projector: Projector): void {
    const d = this.d as { -readonly [K in keyof EngineDeps]: EngineDeps[K] };
    d.store = store;
    d.projector = projector;
  }

  private event(actor: Actor, bucket: string, key: string, versionId: string, body: EventBody, bucketGuard?: BucketGuard): StrataEvent {
    const timeMs = this.d.clock.nowMs();
    return {
      ...(bucketGuard === undefined ? {} : { bucketGuard }),
      eventId: newEventId(timeMs),
      timeMs,
      bucket,
      key,
      versionId,
      actor: actor.accessKey,
      requestId: actor.requestId,
      sourceAddress: actor.sourceAddress,
      body,
    };
  }

  /** Waits until this gateway's read model reflects everything logged on `subject` so far. */
  private async fence(subject: string): Promise<number> {
    const last = await this.d.log.lastSubjectSeq(subject);
    if (last > 0) await this.d.projector.waitApplied(last);
    return last;
  }

  /**
   * Read-after-write across gateways: make this gateway's model at least as new as the log was
   * when the read arrived. For a key, the last event on its subject and on its bucket's (the
   * answer depends on the bucket too: whether it exists, whether it is versioned); for a listing,
   * the stream. Resolves to that sequence (0 with the fence off): a model read made when the
   * model had applied it already (see appliedSeq) needs no second look.
   */
  async readFence(bucket: string, key?: string): Promise<number> {
    if (!this.d.readFence) return 0;
    const last =
      key === undefined
        ? await this.d.log.lastSeq()
        : Math.max(...(await Promise.all([this.d.log.lastSubjectSeq(objectSubject(bucket, key)), this.d.log.lastSubjectSeq(bucketSubject(bucket))])));
    if (last > this.d.projector.appliedSeq) await this.d.projector.waitApplied(last);
    return last;
  }

  /**
   * The last log sequence the read model has applied, read from the model itself: lookups made
   * in the same synchronous stretch see exactly the model as of this sequence.
   */
  get appliedSeq(): number {
    return this.d.projector.appliedSeq;
  }

  headBucket(bucket: string): BucketRecord | undefined {
    return this.d.store.bucket(bucket);
  }

  listBuckets(): BucketRecord[] {
    return this.d.store.listBuckets();
  }

  async createBucket(actor: Actor, bucket: string): Promise<Result<void>> {
    const subject = bucketSubject(bucket);
    for (let attempt = 0; attempt < conditionalAttemptsMax; attempt++) {
      const last = await this.fence(subject);
      if (this.d.store.bucket(bucket)) return fail('BucketAlreadyOwnedByYou');
      const ev = this.event(actor, bucket, '', '', { type: 'BucketCreated', region: this.d.region, owner: actor.accessKey });
      const outcome = await commit(this.d, subject, ev, last);
      if (outcome === 'conflict') continue;
      return outcome.kind === 'applied' ? ok(undefined) : failRejected(outcome.code);
    }
    return fail('BucketAlreadyOwnedByYou');
  }

  async deleteBucket(actor: Actor, bucket: string): Promise<Result<void>> {
    const subject = bucketSubject(bucket);
    for (let attempt = 0; attempt < conditionalAttemptsMax; attempt++) {
      // Emptiness depends on every key's subject, not only the bucket's: catch up with the whole
      // stream first, or a delete acknowledged by another gateway reads as "not empty" here.
      // (The projector re-checks emptiness in log order; this only keeps the answer fresh.)
      const [last, streamLast] = await Promise.all([this.d.log.lastSubjectSeq(subject), this.d.log.lastSeq()]);
      if (streamLast > 0) await this.d.projector.waitApplied(streamLast);
      if (!this.d.store.bucket(bucket)) return fail('NoSuchBucket');
      if (!this.d.store.bucketIsEmpty(bucket)) return fail('BucketNotEmpty');
      const outcome = await commit(this.d, subject, this.event(actor, bucket, '', '', { type: 'BucketDeleted' }), last);
      if (outcome === 'conflict') continue;
      return outcome.kind === 'applied' ? ok(undefined) : failRejected(outcome.code);
    }
    return fail('ServiceUnavailable', 'The bucket changed concurrently; try again.');
  }

  /**
   * The bucket as a write must see it, fenced on its subject: its versioning state decides the
   * new version's id (and a DELETE's meaning), so a PutBucketVersioning acknowledged by another
   * gateway must not be missed (a stale "unversioned" would overwrite the null version).
   */
  async bucketForWrite(bucket: string): Promise<BucketRecord | undefined> {
    await this.fence(bucketSubject(bucket));
    return this.d.store.bucket(bucket);
  }

  /** The version id a new version gets: unique when versioning is Enabled, else "null". */
  versionIdFor(bucket: BucketRecord): string {
    return bucket.versioning === 'Enabled' ? newVersionId(this.d.clock.nowMs()) : nullVersionId;
  }

  async putObject(actor: Actor, input: PutObjectInput): Promise<Result<PutObjectOutput>> {
    // The bucket decides the new version's id (its versioning state). When this gateway knows the
    // bucket, the PUT does not ask JetStream for the bucket's last event at all: the event names
    // the bucket it assumed (a bucket guard: its creation and versioning state) and the projection
    // rejects it as BucketChanged when the bucket is no longer that one, a PutBucketVersioning or
    // a delete and re-create acknowledged by another gateway that this model had not applied yet.
    // Then the bucket is fenced and the PUT commits once more, unguarded, on the fenced state.
    // An unknown bucket, and a conditional write, are fenced first (before the body is read, so a
    // PUT to a missing bucket reads no body). A bucket deleted meanwhile answers NoSuchBucket
    // from the projection either way, and leaves unreferenced shards, reclaimed like any orphan.
    const known = hasCondition(input.condition) ? undefined : this.d.store.bucket(input.bucket);
    let bucket = known ?? (await this.bucketForWrite(input.bucket));
    if (!bucket) return fail('NoSuchBucket');
    if (hasCondition(input.condition)) {
      // Fail fast, before the body is streamed; the commit below decides race-free.
      const pre = await precheckCondition(this.d, input.bucket, input.key, input.condition);
      if (!pre.ok) return pre;
    }
    const written = await writeBody(this.d.placement, input, this.d.digests);
    if (!written.ok) return written;
    const w = written.value;
    const h = input.headers;
    const body: EventBody = {
      type: 'ObjectVersionPut',
      size: w.size,
      etag: w.md5Hex,
      contentType: h.contentType,
      contentEncoding: h.contentEncoding,
      contentDisposition: h.contentDisposition,
      contentLanguage: h.contentLanguage,
      cacheControl: h.cacheControl,
      expires: h.expires,
      userMetadata: h.userMetadata,
      shards: w.shards,
      inlineData: w.inlineData,
      checksums: w.checksum ? [{ ...w.checksum, type: 'FULL_OBJECT' }] : [],
      storageClass: h.storageClass,
      parts: [],
    };
    let guarded = known !== undefined;
    for (;;) {
      const b: BucketRecord = bucket;
      const versionId = this.versionIdFor(b);
      const guard = guarded ? { createdSeq: b.seq, versioning: b.versioning } : undefined;
      const committed = await commitToKey(this.d, input.bucket, input.key, input.condition, () => this.event(actor, input.bucket, input.key, versionId, body, guard));
      if (!committed.ok) return committed;
      const outcome = committed.value;
      if (outcome.kind === 'rejected' && outcome.code === 'BucketChanged' && guarded) {
        guarded = false;
        bucket = await this.bucketForWrite(input.bucket);
        if (!bucket) return fail('NoSuchBucket');
        continue;
      }
      if (outcome.kind === 'rejected') return failRejected(outcome.code);
      return ok({ etag: w.md5Hex, versionId, versioned: b.versioning !== 'Unversioned', checksum: w.checksum });
    }
  }

  getObject(bucket: string, key: string): Result<ObjectRecord> {
    const r = this.lookup(bucket, key, undefined);
    if (r.kind === 'found') return ok(r.record);
    return r.kind === 'no-bucket' ? fail('NoSuchBucket') : fail('NoSuchKey');
  }

  /** GET/HEAD's view of a key, or of one version of it. */
  lookup(bucket: string, key: string, versionId: string | undefined): Lookup {
    const b = this.d.store.bucket(bucket);
    if (!b) return { kind: 'no-bucket' };
    const versioned = b.versioning !== 'Unversioned';
    if (versionId === undefined) {
      const latest = this.d.store.latestVersion(bucket, key);
      if (!latest) return { kind: 'missing', versioned };
      if (latest.deleteMarker) return { kind: 'delete-marker', versionId: latest.versionId, explicit: false, versioned, lastModifiedMs: latest.lastModifiedMs };
      return { kind: 'found', record: latest, versioned };
    }
    const v = this.d.store.version(bucket, key, versionId);
    if (!v) return { kind: 'no-version', versioned };
    if (v.deleteMarker) return { kind: 'delete-marker', versionId: v.versionId, explicit: true, versioned, lastModifiedMs: v.lastModifiedMs };
    return { kind: 'found', record: v, versioned };
  }

  readRange(record: ObjectRecord, start: number, end: number): AsyncGenerator<Buffer> {
    return readObjectRange(this.d.placement, record, start, end);
  }

  /**
   * DeleteObject. With a version id: that version is removed for good. Without: an unversioned
   * bucket removes the null version; a versioning-enabled bucket gets a new delete marker; a
   * suspended one a null delete marker (replacing the null version).
   */
  async deleteObject(actor: Actor, bucket: string, key: string, versionId?: string): Promise<Result<DeleteOutput>> {
    const subject = objectSubject(bucket, key);
    // The key's history and the bucket's versioning state both decide what a DELETE does.
    await Promise.all([this.fence(subject), this.fence(bucketSubject(bucket))]);
    const b = this.d.store.bucket(bucket);
    if (!b) return fail('NoSuchBucket');
    const versioned = b.versioning !== 'Unversioned';
    let ev: StrataEvent;
    if (versionId !== undefined) {
      const target = this.d.store.version(bucket, key, versionId);
      // Deleting a version that is not there is a success that changes nothing: no event.
      if (!target) return ok({ versioned, versionId });
      ev = this.event(actor, bucket, key, versionId, { type: 'ObjectDeleted' });
    } else if (b.versioning === 'Unversioned') {
      if (!this.d.store.version(bucket, key, nullVersionId)) return ok({ versioned });
      ev = this.event(actor, bucket, key, nullVersionId, { type: 'ObjectDeleted' });
    } else {
      ev = this.event(actor, bucket, key, this.versionIdFor(b), { type: 'DeleteMarkerPut' });
    }
    const outcome = await commit(this.d, subject, ev);
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    if (outcome.kind === 'rejected') return failRejected(outcome.code);
    const out: DeleteOutput = { versioned };
    return ok({
      ...out,
      ...(versioned || versionId !== undefined ? { versionId: outcome.versionId ?? ev.versionId } : {}),
      ...(outcome.deleteMarker ? { deleteMarker: true } : {}),
    });
  }

  async putBucketVersioning(actor: Actor, bucket: string, status: 'Enabled' | 'Suspended'): Promise<Result<void>> {
    const subject = bucketSubject(bucket);
    for (let attempt = 0; attempt < conditionalAttemptsMax; attempt++) {
      const last = await this.fence(subject);
      if (!this.d.store.bucket(bucket)) return fail('NoSuchBucket');
      const outcome = await commit(this.d, subject, this.event(actor, bucket, '', '', { type: 'BucketVersioningConfigured', status }), last);
      if (outcome === 'conflict') continue;
      return outcome.kind === 'applied' ? ok(undefined) : failRejected(outcome.code);
    }
    return fail('ServiceUnavailable', 'The bucket changed concurrently; try again.');
  }

  /** Stream sequence of one version (delete markers included), for listing markers. */
  versionSeq(bucket: string, key: string, versionId: string): number | undefined {
    return this.d.store.version(bucket, key, versionId)?.seq;
  }

  listVersions(q: ListVersionsQuery): Result<ListVersionsPage> {
    if (!this.d.store.bucket(q.bucket)) return fail('NoSuchBucket');
    return ok(listObjectVersions(this.d.store.versions, q));
  }

  list(q: ListQuery): Result<ListPage> {
    if (!this.d.store.bucket(q.bucket)) return fail('NoSuchBucket');
    return ok(listObjects(this.d.store.objects, q));
  }
}
