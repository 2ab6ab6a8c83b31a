/**
 * The read model's pure core (Emmett's `evolve`): given a read-only view of the current state and
 * one event in log order, the writes to make and the outcome of the event. Events are decided in
 * log order, so an event that no longer holds when its turn comes (a put into a bucket deleted
 * just before it, a bucket delete racing a put) is rejected here, deterministically, the same way
 * on every gateway and in every replay; the writer that published it reports that outcome.
 */
import type { LoggedEvent } from '../events/types.ts';
import type { BucketRecord, ObjectRecord } from './records.ts';

export interface ModelView {
  bucket(name: string): BucketRecord | undefined;
  object(bucket: string, key: string): ObjectRecord | undefined;
  bucketIsEmpty(name: string): boolean;
}

export type ModelOp =
  | { readonly kind: 'put-bucket'; readonly record: BucketRecord }
  | { readonly kind: 'del-bucket'; readonly name: string }
  | { readonly kind: 'put-object'; readonly bucket: string; readonly key: string; readonly record: ObjectRecord }
  | { readonly kind: 'del-object'; readonly bucket: string; readonly key: string };

export type Outcome =
  | { readonly kind: 'applied'; readonly replaced?: ObjectRecord }
  | { readonly kind: 'rejected'; readonly code: RejectionCode };

/** Why an event did not take effect; named like the S3 error the writer will answer with. */
export type RejectionCode = 'NoSuchBucket' | 'BucketNotEmpty' | 'BucketAlreadyOwnedByYou';

export interface Evolution {
  readonly ops: readonly ModelOp[];
  readonly outcome: Outcome;
}

const none: Evolution = { ops: [], outcome: { kind: 'applied' } };

function rejected(code: RejectionCode): Evolution {
  return { ops: [], outcome: { kind: 'rejected', code } };
}

export function evolve(view: ModelView, ev: LoggedEvent): Evolution {
  const b = ev.body;
  switch (b.type) {
    case 'BucketCreated': {
      if (view.bucket(ev.bucket)) return rejected('BucketAlreadyOwnedByYou');
      const record: BucketRecord = { v: 1, name: ev.bucket, createdMs: ev.timeMs, region: b.region, owner: b.owner, seq: ev.seq };
      return { ops: [{ kind: 'put-bucket', record }], outcome: { kind: 'applied' } };
    }
    case 'BucketDeleted': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      if (!view.bucketIsEmpty(ev.bucket)) return rejected('BucketNotEmpty');
      return { ops: [{ kind: 'del-bucket', name: ev.bucket }], outcome: { kind: 'applied' } };
    }
    case 'ObjectVersionPut': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const previous = view.object(ev.bucket, ev.key);
      const record: ObjectRecord = {
        v: 1,
        versionId: ev.versionId,
        size: b.size,
        etag: b.etag,
        lastModifiedMs: ev.timeMs,
        contentType: b.contentType,
        contentEncoding: b.contentEncoding,
        contentDisposition: b.contentDisposition,
        contentLanguage: b.contentLanguage,
        cacheControl: b.cacheControl,
        expires: b.expires,
        userMetadata: b.userMetadata,
        shards: b.shards,
        inlineData: b.inlineData,
        checksums: b.checksums,
        storageClass: b.storageClass,
        owner: ev.actor,
        seq: ev.seq,
      };
      return {
        ops: [{ kind: 'put-object', bucket: ev.bucket, key: ev.key, record }],
        outcome: previous ? { kind: 'applied', replaced: previous } : { kind: 'applied' },
      };
    }
    case 'ObjectDeleted': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const current = view.object(ev.bucket, ev.key);
      // Deleting what is not there succeeds in S3 (204), and changes nothing.
      if (!current || current.versionId !== ev.versionId) return none;
      return { ops: [{ kind: 'del-object', bucket: ev.bucket, key: ev.key }], outcome: { kind: 'applied', replaced: current } };
    }
    case 'DeleteMarkerPut':
    case 'BucketVersioningConfigured':
    case 'MultipartUploadCreated':
    case 'PartUploaded':
    case 'MultipartCompleted':
    case 'MultipartAborted':
      // Versioning and multipart uploads are their own issues: no gateway publishes these yet.
      return none;
    case 'ShardCorrupted':
    case 'ShardRepaired':
      // Storage health events do not change what objects exist.
      return none;
  }
}
