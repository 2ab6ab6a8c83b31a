/**
 * Messages between the digest pool (digest-pool.ts) and its workers (digest-worker.ts). Bytes are
 * never copied into a message: `sab` is the SharedArrayBuffer of a pooled buffer, shared with the
 * worker, and offset/length select the bytes to hash.
 */
import type { ChecksumAlgorithm } from './checksums.ts';

/** A body's digests: MD5 always, SHA-256 and a flexible checksum when asked for. */
export interface DigestOpen {
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
  /** A barrier: answered once every earlier update of the stream is hashed, after which those bytes may change. */
  | { readonly t: 'cut'; readonly s: number; readonly open: DigestOpen | null; readonly id: number }
  /** Hashes the last bytes (if any), answers the body's digests, and forgets the stream. */
  | { readonly t: 'finish'; readonly s: number; readonly open: DigestOpen | null; readonly id: number; readonly bytes: SharedRange | null }
  | { readonly t: 'drop'; readonly s: number };

export interface DigestReply {
  readonly id: number;
  readonly ready?: true;
  readonly error?: string;
  readonly md5?: Uint8Array;
  readonly sha256Hex?: string;
  readonly checksum?: Uint8Array;
}
