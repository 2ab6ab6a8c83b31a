/**
 * Domain view of the event log: plain, fully-typed values that pure code (projections, storage
 * liveness, consumers) works with. `codec.ts` maps them to and from the protobuf wire form.
 */
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface ChecksumValue {
  readonly algorithm: string;
  readonly value: string;
  readonly type: ChecksumType;
}

export interface ShardRef {
  /** 32 hex characters. */
  readonly shardId: string;
  readonly objectOffset: number;
  readonly length: number;
  readonly crc32: number;
  readonly nodes: readonly string[];
}

export interface ObjectPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  readonly objectOffset: number;
  readonly checksums: readonly ChecksumValue[];
}

export interface ObjectHeadersValue {
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly contentDisposition: string;
  readonly contentLanguage: string;
  readonly cacheControl: string;
  readonly expires: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly storageClass: string;
}

export interface ObjectVersionPutBody {
  readonly type: 'ObjectVersionPut';
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly contentDisposition: string;
  readonly contentLanguage: string;
  readonly cacheControl: string;
  readonly expires: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly shards: readonly ShardRef[];
  readonly inlineData: Uint8Array | undefined;
  readonly checksums: readonly ChecksumValue[];
  readonly storageClass: string;
  /** Parts of a multipart object in part-number order; empty for single-part objects. */
  readonly parts: readonly ObjectPart[];
}

export interface PartUploadedBody {
  readonly type: 'PartUploaded';
  readonly uploadId: string;
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  /** objectOffset is relative to the part's first byte. */
  readonly shards: readonly ShardRef[];
  readonly checksums: readonly ChecksumValue[];
}

export type EventBody =
  | { readonly type: 'BucketCreated'; readonly region: string; readonly owner: string }
  | { readonly type: 'BucketDeleted' }
  | ObjectVersionPutBody
  | { readonly type: 'ObjectDeleted' }
  | { readonly type: 'DeleteMarkerPut' }
  | { readonly type: 'BucketVersioningConfigured'; readonly status: 'Enabled' | 'Suspended' }
  | {
      readonly type: 'MultipartUploadCreated';
      readonly uploadId: string;
      readonly headers: ObjectHeadersValue;
      readonly checksumAlgorithm: string;
      readonly checksumType: string;
    }
  | PartUploadedBody
  | { readonly type: 'MultipartCompleted'; readonly uploadId: string; readonly object: Omit<ObjectVersionPutBody, 'type'> }
  | { readonly type: 'MultipartAborted'; readonly uploadId: string }
  | { readonly type: 'ShardCorrupted'; readonly shardId: string; readonly nodeId: string; readonly detail: string }
  | { readonly type: 'ShardRepaired'; readonly shardId: string; readonly nodeId: string; readonly sourceNodeId: string };

export type EventType = EventBody['type'];

/** What a writer assumed about the bucket (schemas/events.proto BucketGuard); see model/evolve.ts. */
export interface BucketGuard {
  /** Stream sequence of the bucket's BucketCreated event. */
  readonly createdSeq: number;
  /** Unversioned, Enabled or Suspended as written; anything else matches no bucket. */
  readonly versioning: string;
}

export interface EventMeta {
  readonly eventId: string;
  readonly timeMs: number;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly actor: string;
  readonly requestId: string;
  readonly sourceAddress: string;
  /** A precondition on the bucket, checked when the event is applied; absent: none. */
  readonly bucketGuard?: BucketGuard;
}

export interface StrataEvent<B extends EventBody = EventBody> extends EventMeta {
  readonly body: B;
}

/** An event as read back from the log, with its stream sequence. */
export interface LoggedEvent<B extends EventBody = EventBody> extends StrataEvent<B> {
  readonly seq: number;
}

/** The version id of objects written while versioning is off (S3's "null" version). */
export const nullVersionId = 'null';
