/**
 * The gateway engine: S3 operations as decisions over the read model, committed as events.
 *
 * Write path: data durable on its node(s) → event acknowledged by JetStream (the commit point) →
 * the local projector has applied it (its outcome decides the answer) → the caller answers 2xx.
 * A crash before the PubAck leaves only unreferenced shards; after it, the event is history and
 * every projector applies it on replay.
 */
import { bucketSubject, objectSubject } from '../events/subjects.ts';
import { nullVersionId, type EventBody, type StrataEvent } from '../events/types.ts';
import type { Clock } from '../lib/clock.ts';
import { newEventId } from '../lib/ids.ts';
import type { EventLog } from '../log/publisher.ts';
import { listObjects, type ListPage, type ListQuery } from '../projections/listing/list.ts';
import type { Outcome } from '../model/evolve.ts';
import type { Projector } from '../projections/projector.ts';
import type { BucketRecord, ObjectRecord } from '../model/records.ts';
import type { ReadModelStore } from '../model/store.ts';
import { readObjectRange } from './object-reader.ts';
import { writeBody, type WriteBodyInput } from './object-writer.ts';
import { fail, ok, type Actor, type ObjectHeaders, type Result, type ShardPlacement } from './types.ts';

export interface EngineDeps {
  readonly log: EventLog;
  readonly projector: Projector;
  readonly store: ReadModelStore;
  readonly placement: ShardPlacement;
  readonly clock: Clock;
  readonly region: string;
}

export interface PutObjectInput extends WriteBodyInput {
  readonly bucket: string;
  readonly key: string;
  readonly headers: ObjectHeaders;
}

export interface PutObjectOutput {
  readonly etag: string;
  readonly versionId: string;
  readonly checksum: { algorithm: string; value: string } | undefined;
}

/** Attempts of a conditional publish whose expected sequence was overtaken by another writer. */
const conditionalAttemptsMax = 5;

export class Engine {
  constructor(private readonly d: EngineDeps) {}

  get placement(): ShardPlacement {
    return this.d.placement;
  }

  private event(actor: Actor, bucket: string, key: string, versionId: string, body: EventBody): StrataEvent {
    const timeMs = this.d.clock.nowMs();
    return {
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

  private async commit(subject: string, ev: StrataEvent, expectLastSubjectSeq?: number): Promise<Outcome | 'conflict'> {
    const r = await this.d.log.publish(subject, ev, expectLastSubjectSeq);
    if (!r.ok) return 'conflict';
    return this.d.projector.waitApplied(r.seq);
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
      const outcome = await this.commit(subject, ev, last);
      if (outcome === 'conflict') continue;
      return outcome.kind === 'applied' ? ok(undefined) : fail(outcome.code);
    }
    return fail('BucketAlreadyOwnedByYou');
  }

  async deleteBucket(actor: Actor, bucket: string): Promise<Result<void>> {
    const subject = bucketSubject(bucket);
    for (let attempt = 0; attempt < conditionalAttemptsMax; attempt++) {
      const last = await this.fence(subject);
      if (!this.d.store.bucket(bucket)) return fail('NoSuchBucket');
      if (!this.d.store.bucketIsEmpty(bucket)) return fail('BucketNotEmpty');
      const outcome = await this.commit(subject, this.event(actor, bucket, '', '', { type: 'BucketDeleted' }), last);
      if (outcome === 'conflict') continue;
      return outcome.kind === 'applied' ? ok(undefined) : fail(outcome.code);
    }
    return fail('ServiceUnavailable', 'The bucket changed concurrently; try again.');
  }

  async putObject(actor: Actor, input: PutObjectInput): Promise<Result<PutObjectOutput>> {
    if (!this.d.store.bucket(input.bucket)) {
      await this.fence(bucketSubject(input.bucket));
      if (!this.d.store.bucket(input.bucket)) return fail('NoSuchBucket');
    }
    const written = await writeBody(this.d.placement, input);
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
    const ev = this.event(actor, input.bucket, input.key, nullVersionId, body);
    const outcome = await this.commit(objectSubject(input.bucket, input.key), ev);
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    if (outcome.kind === 'rejected') return fail(outcome.code);
    return ok({ etag: w.md5Hex, versionId: nullVersionId, checksum: w.checksum });
  }

  getObject(bucket: string, key: string): Result<ObjectRecord> {
    if (!this.d.store.bucket(bucket)) return fail('NoSuchBucket');
    const rec = this.d.store.object(bucket, key);
    return rec ? ok(rec) : fail('NoSuchKey');
  }

  readRange(record: ObjectRecord, start: number, end: number): AsyncGenerator<Buffer> {
    return readObjectRange(this.d.placement, record, start, end);
  }

  async deleteObject(actor: Actor, bucket: string, key: string): Promise<Result<void>> {
    const subject = objectSubject(bucket, key);
    await this.fence(subject);
    if (!this.d.store.bucket(bucket)) return fail('NoSuchBucket');
    const current = this.d.store.object(bucket, key);
    // Deleting a key that is not there is a success that changes nothing: no event.
    if (!current) return ok(undefined);
    const outcome = await this.commit(subject, this.event(actor, bucket, key, current.versionId, { type: 'ObjectDeleted' }));
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    return outcome.kind === 'applied' ? ok(undefined) : fail(outcome.code);
  }

  list(q: ListQuery): Result<ListPage> {
    if (!this.d.store.bucket(q.bucket)) return fail('NoSuchBucket');
    return ok(listObjects(this.d.store.objects, q));
  }
}
