/**
 * Messages between the digest pool (digest-pool.ts) and its workers (digest-worker.ts). Bytes are
 * never copied into a message: `sab` is the SharedArrayBuffer of a pooled buffer, shared with the
 * worker, and offset/length select the bytes to hash.
 */
import type { ChecksumAlgorithm } from './checksums.ts';

/**
 * What a worker computes for a stream: the body's digests (MD5 always, SHA-256 and a flexible
 * checksum when asked for), the per-shard crc32, or both. With two workers or more a body's
 * crc32 runs on another worker than its MD5, so that the last shard's crc32 (which its write
 * waits for) never queues behind MD5, the slowest of the hashes.
 */
export interface DigestOpen {
  readonly role: 'both' | 'digests' | 'crc';
  readonly sha256: boolean;
  readonly checksum: ChecksumAlgorithm | null;
}

/** Bytes to hash, in a shared buffer. */
export interface SharedRange {
  readonly sab: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
}

// A stream is opened by its first message (`open` set), which saves a message per body.
export type DigestRequest =
  /** The next bytes of stream `s`. */
  | { readonly t: 'update'; readonly s: number; readonly open: DigestOpen | null; readonly bytes: SharedRange }
  /**
   * Answers the crc32 of the bytes since the previous cut (one shard) and starts the next. To a
   * 'digests' stream it is a barrier: answered (without a crc32) once every earlier update is
   * hashed, after which those bytes may change.
   */
  | { readonly t: 'cut'; readonly s: number; readonly open: DigestOpen | null; readonly id: number }
  /**
   * Hashes the last bytes (if any), answers `id` with the last shard's crc32 and/or the body's
   * digests (as the stream's role has them), and forgets the stream. With `crcId` (role 'both'),
   * the crc32 is also answered there first, before the last bytes go through MD5.
   */
  | { readonly t: 'finish'; readonly s: number; readonly open: DigestOpen | null; readonly id: number; readonly crcId: number | null; readonly bytes: SharedRange | null }
  | { readonly t: 'drop'; readonly s: number }
  /** crc32 of some bytes, with no stream (verifying a read). */
  | { readonly t: 'crc'; readonly id: number; readonly bytes: SharedRange }
  /** crc32 of bytes of a transferred (moved, not copied) ArrayBuffer, which the answer moves back. */
  | { readonly t: 'crcMoved'; readonly id: number; readonly buffer: ArrayBuffer; readonly offset: number; readonly length: number };

export interface DigestReply {
  readonly id: number;
  readonly ready?: true;
  readonly error?: string;
  readonly crc32?: number;
  readonly md5?: Uint8Array;
  readonly sha256Hex?: string;
  readonly checksum?: Uint8Array;
  /** The moved buffer of a `crcMoved`, given back. */
  readonly buffer?: ArrayBuffer;
}
