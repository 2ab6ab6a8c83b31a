/**
 * The model's pure core (Emmett's `evolve`): given a read-only view of the current state and one
 * event in log order, the writes to make and the outcome of the event. Events are decided in log
 * order, so an event that no longer holds when its turn comes (a put into a bucket deleted just
 * before it, a bucket delete racing a put) is rejected here, deterministically, the same way on
 * every gateway, every storage node and every replay; the writer that published it reports that
 * outcome.
 *
 * Versions: every version of a key lives in `versions` (newest first); `objects` holds the latest
 * version of each key unless that is a delete marker, which is what listings read. A version put
 * or delete marker with version id "null" (unversioned or suspended bucket) replaces the key's
 * previous null version, as S3 does.
 */
import type { LoggedEvent, ObjectVersionPutBody } from '../events/types.ts';
import { nullVersionId } from '../events/types.ts';
import { listingEntryOf, type BucketRecord, type ListingEntry, type ObjectRecord, type VersionRecord } from './records.ts';
import { evolveUpload, type UploadOp, type UploadsView } from './uploads.ts';

export interface ModelView extends UploadsView {
  bucket(name: string): BucketRecord | undefined;
  /** Latest version of a key that is not a delete marker (what GET without versionId reads). */
  object(bucket: string, key: string): ObjectRecord | undefined;
  /** Whether the key has a listing entry (its latest version is not a delete marker). */
  listed(bucket: string, key: string): boolean;
  /** Newest version of a key, delete markers included. */
  latestVersion(bucket: string, key: string): VersionRecord | undefined;
  version(bucket: string, key: string, versionId: string): VersionRecord | undefined;
  /** The newest version older than `seq`. */
  versionBefore(bucket: string, key: string, seq: number): VersionRecord | undefined;
  /** No versions (delete markers included) and no uploads in progress. */
  bucketIsEmpty(name: string): boolean;
}

/**
 * Writes. `put-version`/`del-version` are the holders of object bytes (a version references its
 * shards); `put-object`/`del-object` maintain the derived latest-version index for listings and
 * hold nothing of their own.
 */
export type ModelOp =
  | { readonly kind: 'put-bucket'; readonly record: BucketRecord }
  | { readonly kind: 'del-bucket'; readonly name: string }
  | { readonly kind: 'put-version'; readonly bucket: string; readonly key: string; readonly record: VersionRecord }
  | { readonly kind: 'del-version'; readonly bucket: string; readonly key: string; readonly record: VersionRecord }
  | { readonly kind: 'put-object'; readonly bucket: string; readonly key: string; readonly record: ListingEntry }
  | { readonly kind: 'del-object'; readonly bucket: string; readonly key: string }
  | UploadOp;

export type Outcome =
  | { readonly kind: 'applied'; readonly versionId?: string; readonly deleteMarker?: boolean }
  | { readonly kind: 'rejected'; readonly code: RejectionCode };

/**
 * Why an event did not take effect; named like the S3 error the writer will answer with, except
 * BucketChanged (its bucket guard failed), after which the writer decides again.
 */
export type RejectionCode = 'NoSuchBucket' | 'BucketNotEmpty' | 'BucketAlreadyOwnedByYou' | 'NoSuchUpload' | 'InvalidPart' | 'PreconditionFailed' | 'BucketChanged';

export interface Evolution {
  readonly ops: readonly ModelOp[];
  readonly outcome: Outcome;
}

const none: Evolution = { ops: [], outcome: { kind: 'applied' } };

function rejected(code: RejectionCode): Evolution {
  return { ops: [], outcome: { kind: 'rejected', code } };
}

/** The version an ObjectVersionPut body makes (built in one object: every projected put runs this). */
export function versionRecordOf(ev: LoggedEvent, b: Omit<ObjectVersionPutBody, 'type'>, versionId: string): VersionRecord {
  return {
    v: 1,
    versionId,
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
    parts: b.parts,
    owner: ev.actor,
    seq: ev.seq,
    deleteMarker: false,
  };
}

function deleteMarkerOf(ev: LoggedEvent, versionId: string): VersionRecord {
  return {
    v: 1,
    versionId,
    size: 0,
    etag: '',
    lastModifiedMs: ev.timeMs,
    contentType: '',
    contentEncoding: '',
    contentDisposition: '',
    contentLanguage: '',
    cacheControl: '',
    expires: '',
    userMetadata: {},
    shards: [],
    inlineData: undefined,
    checksums: [],
    storageClass: '',
    parts: [],
    owner: ev.actor,
    seq: ev.seq,
    deleteMarker: true,
  };
}

/**
 * Ops that make `record` the newest version of its key: the previous null version goes first when
 * the new one is also "null", then the latest-version index follows the new version.
 */
export function newestVersionOps(view: ModelView, bucket: string, key: string, record: VersionRecord): ModelOp[] {
  const ops: ModelOp[] = [];
  if (record.versionId === nullVersionId) {
    const previousNull = view.version(bucket, key, nullVersionId);
    if (previousNull) ops.push({ kind: 'del-version', bucket, key, record: previousNull });
  }
  ops.push({ kind: 'put-version', bucket, key, record });
  if (record.deleteMarker) {
    if (view.listed(bucket, key)) ops.push({ kind: 'del-object', bucket, key });
  } else {
    ops.push({ kind: 'put-object', bucket, key, record: listingEntryOf(record) });
  }
  return ops;
}

/** Ops that remove one version; when it was the newest, the next older one becomes the latest. */
function removeVersionOps(view: ModelView, bucket: string, key: string, record: VersionRecord): ModelOp[] {
  const ops: ModelOp[] = [{ kind: 'del-version', bucket, key, record }];
  const newest = view.latestVersion(bucket, key);
  if (newest && newest.seq === record.seq) {
    const next = view.versionBefore(bucket, key, record.seq);
    if (next && !next.deleteMarker) {
      ops.push({ kind: 'put-object', bucket, key, record: listingEntryOf(next) });
    } else if (view.listed(bucket, key)) {
      ops.push({ kind: 'del-object', bucket, key });
    }
  }
  return ops;
}

export function evolve(view: ModelView, ev: LoggedEvent): Evolution {
  const guard = ev.bucketGuard;
  if (guard !== undefined) {
    // The writer decided on a bucket it had not fenced: the event takes effect only if the
    // bucket is still that one (same creation, same versioning state). A missing bucket is left
    // to the body's own check below, which answers NoSuchBucket.
    const bucket = view.bucket(ev.bucket);
    if (bucket !== undefined && (bucket.seq !== guard.createdSeq || bucket.versioning !== guard.versioning)) return rejected('BucketChanged');
  }
  const b = ev.body;
  switch (b.type) {
    case 'BucketCreated': {
      if (view.bucket(ev.bucket)) return rejected('BucketAlreadyOwnedByYou');
      const record: BucketRecord = {
        v: 1,
        name: ev.bucket,
        createdMs: ev.timeMs,
        region: b.region,
        owner: b.owner,
        versioning: 'Unversioned',
        seq: ev.seq,
      };
      return { ops: [{ kind: 'put-bucket', record }], outcome: { kind: 'applied' } };
    }
    case 'BucketDeleted': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      if (!view.bucketIsEmpty(ev.bucket)) return rejected('BucketNotEmpty');
      return { ops: [{ kind: 'del-bucket', name: ev.bucket }], outcome: { kind: 'applied' } };
    }
    case 'BucketVersioningConfigured': {
      const bucket = view.bucket(ev.bucket);
      if (!bucket) return rejected('NoSuchBucket');
      return { ops: [{ kind: 'put-bucket', record: { ...bucket, versioning: b.status } }], outcome: { kind: 'applied' } };
    }
    case 'ObjectVersionPut': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const record = versionRecordOf(ev, b, ev.versionId);
      return { ops: newestVersionOps(view, ev.bucket, ev.key, record), outcome: { kind: 'applied', versionId: ev.versionId } };
    }
    case 'DeleteMarkerPut': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const marker = deleteMarkerOf(ev, ev.versionId);
      return { ops: newestVersionOps(view, ev.bucket, ev.key, marker), outcome: { kind: 'applied', versionId: ev.versionId, deleteMarker: true } };
    }
    case 'ObjectDeleted': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const target = view.version(ev.bucket, ev.key, ev.versionId);
      // Deleting what is not there succeeds in S3 (204), and changes nothing.
      if (!target) return none;
      return {
        ops: removeVersionOps(view, ev.bucket, ev.key, target),
        outcome: { kind: 'applied', versionId: target.versionId, deleteMarker: target.deleteMarker },
      };
    }
    case 'MultipartUploadCreated':
    case 'PartUploaded':
    case 'MultipartCompleted':
    case 'MultipartAborted':
      return evolveUpload(view, ev, (e) => evolve(view, e));
    case 'ShardCorrupted':
    case 'ShardRepaired':
      // Storage health events do not change what objects exist.
      return none;
  }
}
