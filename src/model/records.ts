/**
 * Values stored in the LMDB read models. Each carries a format version `v` (STYLE.md) so a
 * reader can tell an old record from a new one; a projector whose version changes is rebuilt.
 */
import type { ObjectVersionPutBody } from '../events/types.ts';

/** S3 bucket versioning states; a bucket never goes back to Unversioned. */
export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  readonly v: 1;
  readonly name: string;
  readonly createdMs: number;
  readonly region: string;
  readonly owner: string;
  readonly versioning: VersioningState;
  /** Stream sequence of the BucketCreated event. */
  readonly seq: number;
}

/**
 * A version's record: the ObjectVersionPut body as committed (one definition of the fields, in
 * src/events/types.ts), plus what the log decided around it.
 */
export interface ObjectRecord extends Omit<ObjectVersionPutBody, 'type'> {
  readonly v: 1;
  readonly versionId: string;
  readonly lastModifiedMs: number;
  readonly owner: string;
  /** Stream sequence of the event that made this version. */
  readonly seq: number;
}

/**
 * One version of a key (the `versions` database holds every version, newest first). A delete
 * marker is a version with no bytes.
 */
export interface VersionRecord extends ObjectRecord {
  readonly deleteMarker: boolean;
}

/**
 * What a listing needs of a key's latest version, and no more: the `objects` database holds one
 * per key (GET reads the full record from `versions`). Kept small so projecting and scanning
 * millions of keys stays cheap; stored in a binary layout (listing-entry-codec.ts), not msgpack.
 */
export interface ListingEntry {
  /** The value's format (listing-entry-codec.ts): 2, a fixed binary layout. */
  readonly v: 2;
  readonly versionId: string;
  readonly seq: number;
  readonly size: number;
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly storageClass: string;
  readonly checksumAlgorithms: readonly string[];
  readonly checksumType: string;
}

export function listingEntryOf(r: ObjectRecord): ListingEntry {
  return {
    v: 2,
    versionId: r.versionId,
    seq: r.seq,
    size: r.size,
    etag: r.etag,
    lastModifiedMs: r.lastModifiedMs,
    storageClass: r.storageClass,
    checksumAlgorithms: r.checksums.map((c) => c.algorithm),
    checksumType: r.checksums[0]?.type ?? '',
  };
}
