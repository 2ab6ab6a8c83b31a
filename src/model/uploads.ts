/**
 * Multipart uploads in the read model (pure): the records of uploads in progress and their parts,
 * and what the upload events do to them. `evolve.ts` routes the four upload events here.
 *
 *   uploads  <bucket> 0x00 <key> 0x00 <uploadId>  → UploadRecord   (S3 order: key, then upload id,
 *                                                                    which sorts by creation time)
 *   parts    <uploadId> 0x00 <partNumber u32 BE>   → PartRecord     (one upload's parts, ascending)
 *
 * A part record keeps its shard refs in `shards`, like an object record, so the storage node's
 * liveness (which reads any record with `shards` through the store's write hook) sees a part's
 * shards gain a reference when it is uploaded and lose it when the part is replaced, aborted or
 * left out of a completion. A completion first puts the object (whose shards are the chosen
 * parts' shards) and only then deletes the part records, so a chosen shard never drops to zero
 * references in between.
 */
import type { ChecksumValue, LoggedEvent, ObjectHeadersValue, ObjectVersionPutBody, PartUploadedBody, ShardRef } from '../events/types.ts';
import type { Evolution, ModelOp, ModelView, RejectionCode } from './evolve.ts';

export interface UploadRecord {
  readonly v: 1;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiatedMs: number;
  /** Access key of the initiator. */
  readonly owner: string;
  readonly headers: ObjectHeadersValue;
  /** x-amz-checksum-algorithm of CreateMultipartUpload ('' when none). */
  readonly checksumAlgorithm: string;
  /** FULL_OBJECT or COMPOSITE ('' when no algorithm). */
  readonly checksumType: string;
  /** Stream sequence of the MultipartUploadCreated event. */
  readonly seq: number;
}

export interface PartRecord {
  readonly v: 1;
  readonly uploadId: string;
  readonly partNumber: number;
  readonly size: number;
  /** Hex MD5 of the part's bytes, no quotes. */
  readonly etag: string;
  readonly lastModifiedMs: number;
  /** objectOffset is relative to the part's first byte. */
  readonly shards: readonly ShardRef[];
  readonly checksums: readonly ChecksumValue[];
  readonly seq: number;
}

export type UploadOp =
  | { readonly kind: 'put-upload'; readonly record: UploadRecord }
  | { readonly kind: 'del-upload'; readonly bucket: string; readonly key: string; readonly uploadId: string }
  | { readonly kind: 'put-part'; readonly record: PartRecord }
  | { readonly kind: 'del-part'; readonly uploadId: string; readonly partNumber: number };

/** What the model needs to read about uploads (the LMDB store implements it). */
export interface UploadsView {
  upload(bucket: string, key: string, uploadId: string): UploadRecord | undefined;
  part(uploadId: string, partNumber: number): PartRecord | undefined;
  /** The parts of an upload numbered above `afterPartNumber` (default 0), ascending. */
  uploadParts(uploadId: string, afterPartNumber?: number): Iterable<PartRecord>;
}

function rejected(code: RejectionCode): Evolution {
  return { ops: [], outcome: { kind: 'rejected', code } };
}

function applied(ops: ModelOp[]): Evolution {
  return { ops, outcome: { kind: 'applied' } };
}

/**
 * The four upload events. `evolveVersion` is the model's own evolve, which a completion uses to
 * put its object exactly as an ObjectVersionPut would (versioning included).
 */
export function evolveUpload(view: ModelView, ev: LoggedEvent, evolveVersion: (ev: LoggedEvent) => Evolution): Evolution {
  const b = ev.body;
  switch (b.type) {
    case 'MultipartUploadCreated': {
      if (!view.bucket(ev.bucket)) return rejected('NoSuchBucket');
      const record: UploadRecord = {
        v: 1,
        bucket: ev.bucket,
        key: ev.key,
        uploadId: b.uploadId,
        initiatedMs: ev.timeMs,
        owner: ev.actor,
        headers: b.headers,
        checksumAlgorithm: b.checksumAlgorithm,
        checksumType: b.checksumType,
        seq: ev.seq,
      };
      return applied([{ kind: 'put-upload', record }]);
    }
    case 'PartUploaded': {
      // A re-upload of a part number replaces the part (the write hook sees the old one go).
      if (!view.upload(ev.bucket, ev.key, b.uploadId)) return rejected('NoSuchUpload');
      return applied([{ kind: 'put-part', record: partRecordOf(ev, b) }]);
    }
    case 'MultipartCompleted': {
      // The object is put exactly as an ObjectVersionPut would be, then every part record and the
      // upload go (after the put, so a chosen shard never drops to zero references in between).
      if (!view.upload(ev.bucket, ev.key, b.uploadId)) return rejected('NoSuchUpload');
      const shards = manifestShards(view, b.uploadId, b.object);
      if (!shards) return rejected('InvalidPart');
      const put = evolveVersion({ ...ev, body: { type: 'ObjectVersionPut', ...b.object, shards } });
      if (put.outcome.kind === 'rejected') return put;
      return { ops: [...put.ops, ...removeUpload(view, ev.bucket, ev.key, b.uploadId)], outcome: put.outcome };
    }
    case 'MultipartAborted': {
      if (!view.upload(ev.bucket, ev.key, b.uploadId)) return rejected('NoSuchUpload');
      return applied(removeUpload(view, ev.bucket, ev.key, b.uploadId));
    }
    default:
      return { ops: [], outcome: { kind: 'applied' } };
  }
}

function partRecordOf(ev: LoggedEvent, b: PartUploadedBody): PartRecord {
  return {
    v: 1,
    uploadId: b.uploadId,
    partNumber: b.partNumber,
    size: b.size,
    etag: b.etag,
    lastModifiedMs: ev.timeMs,
    shards: b.shards,
    checksums: b.checksums,
    seq: ev.seq,
  };
}

function removeUpload(view: ModelView, bucket: string, key: string, uploadId: string): ModelOp[] {
  const ops: ModelOp[] = [];
  for (const p of view.uploadParts(uploadId)) ops.push({ kind: 'del-part', uploadId, partNumber: p.partNumber });
  ops.push({ kind: 'del-upload', bucket, key, uploadId });
  return ops;
}

/**
 * The completed object's shards: the chosen parts' shards end to end, offsets in the object. The
 * gateway sends the event without them (10,000 parts of shard refs would not fit in one message)
 * and every projector assembles the same list from the part records; an event that does carry
 * shards must name exactly these. Undefined when a named part is not the uploaded one (number,
 * size, ETag, offset).
 */
function manifestShards(view: ModelView, uploadId: string, object: Omit<ObjectVersionPutBody, 'type'>): ShardRef[] | undefined {
  const shards: ShardRef[] = [];
  let offset = 0;
  for (const p of object.parts) {
    const rec = view.part(uploadId, p.partNumber);
    if (!rec || rec.etag !== p.etag || rec.size !== p.size || p.objectOffset !== offset) return undefined;
    for (const s of rec.shards) shards.push({ ...s, objectOffset: offset + s.objectOffset });
    offset += p.size;
  }
  if (offset !== object.size) return undefined;
  if (object.shards.length > 0) {
    const same = object.shards.length === shards.length && shards.every((s, i) => {
      const o = object.shards[i];
      return o !== undefined && o.shardId === s.shardId && o.length === s.length && o.objectOffset === s.objectOffset;
    });
    if (!same) return undefined;
  }
  return shards;
}
