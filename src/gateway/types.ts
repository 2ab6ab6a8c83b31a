/**
 * The gateway engine's vocabulary: what it needs from below (shard stores) and the reasons it
 * returns. Reasons are named like the S3 errors the protocol layer turns them into
 * (src/s3/errors.ts holds the table; the engine does not import the protocol layer).
 */
import type { ChecksumAlgorithm } from '../lib/checksums.ts';
import type { RejectionCode } from '../model/evolve.ts';

export type Reason =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'BucketNotEmpty'
  | 'BucketAlreadyOwnedByYou'
  | 'BadDigest'
  | 'InvalidRequest'
  | 'XAmzContentSHA256Mismatch'
  | 'IncompleteBody'
  | 'EntityTooLarge'
  | 'ServiceUnavailable'
  | 'NoSuchUpload'
  | 'NoSuchVersion'
  | 'InvalidPart'
  | 'InvalidArgument'
  | 'PreconditionFailed'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  | 'ConditionalRequestConflict';

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: Reason; readonly message?: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(reason: Reason, message?: string): Result<T> {
  return message === undefined ? { ok: false, reason } : { ok: false, reason, message };
}

/**
 * The answer to an event the projection rejected. BucketChanged comes only from an event with a
 * bucket guard, whose writer decides again instead of answering; should one reach here anyway,
 * 503 makes the client retry.
 */
export function failRejected<T>(code: RejectionCode): Result<T> {
  return fail(code === 'BucketChanged' ? 'ServiceUnavailable' : code);
}

/** Who asked: recorded in every event. */
export interface Actor {
  readonly accessKey: string;
  readonly requestId: string;
  readonly sourceAddress: string;
}

/** Where shards go and come from. */
export interface ShardPlacement {
  /** The store to write the next shard to. */
  forWrite(): ShardStoreLike;
  /** The store holding a copy on this node, if the node is known. */
  forNode(nodeId: string): ShardStoreLike | undefined;
  /**
   * Stores to read a shard from, in order: the nodes its ref names (healthy ones first), then the
   * other live nodes in its placement ranking (where a repair may have put a copy). Lazy: the
   * ranking is computed only if the reader gets past the named nodes.
   */
  readOrder?(shardId: string, nodes: readonly string[]): Iterable<ShardStoreLike>;
  /** Largest shard every store accepts. */
  readonly shardBytes: number;
}

export interface ShardStoreLike {
  readonly nodeId: string;
  /** `nodes`: every node that durably holds a copy (a replicating store writes several). */
  putShard(
    shardId: string,
    data: Buffer[],
    /** crc32OfData: the crc32 of `data`, computed by the caller over these very bytes (no second pass). */
    opts: { sync: boolean; crc32OfData?: number },
  ): Promise<{ shardId: string; nodeId: string; size: number; crc32: number; nodes?: readonly string[] }>;
  readShard(shardId: string, offset: number, length: number): Promise<Buffer>;
  /**
   * readShard, also answering the crc32 the store checked `data` against in this process (for a
   * whole-shard read): the reader compares it with the ref's instead of hashing the bytes again.
   */
  readShardVerified?(shardId: string, offset: number, length: number): Promise<{ readonly data: Buffer; readonly crc32: number | undefined }>;
}

export interface ChecksumExpectation {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64 digest the client declared; read after the body ended (trailers arrive last). */
  readonly expected: () => string | undefined;
}

export interface ObjectHeaders {
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly contentDisposition: string;
  readonly contentLanguage: string;
  readonly cacheControl: string;
  readonly expires: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly storageClass: string;
}
