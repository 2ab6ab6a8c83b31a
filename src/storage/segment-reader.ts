/**
 * Reads shard payloads out of segments by positional read, checking them on the way out.
 *
 * Every read fetches the record header and the whole payload, checks the header checksum, that
 * the header names the shard the index promised, and the payload crc32; only then is the asked-for
 * range sliced out. Reading the whole payload for a small range costs at most
 * limits.shardBytesMax (4 MiB) of I/O and memory per read, and in exchange no byte ever leaves
 * the node unverified. (A per-block checksum would allow cheaper partial reads; not needed yet.)
 *
 * Read file handles are cached per segment, at most `fdsMax` (LRU); a handle evicted while a read
 * is using it is closed when that read finishes.
 *
 * With a ReadBufferLender, a large record (limits.readBufferLendBytesMin and up) is read into a
 * reused buffer when one is free (its last holder may give it back with lib/read-buffers.ts
 * releaseReadBuffer). The payload crc32 is computed here in every case, with lib/checksums.ts's
 * native code 0.09 ms per MiB: a round trip to a digest worker cost more CPU than that (0.25 ms
 * per 1 MiB GET across two workers).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import { readFully } from './file-io.ts';
import { RECORD_HEADER_BYTES, decodeRecord, segmentFileName } from './segment-format.ts';

export interface RecordLocation {
  readonly segmentId: number;
  readonly offset: number;
  readonly shardId: Buffer;
  readonly payloadBytes: number;
  readonly payloadCrc32: number;
}

export type ReadPayloadResult =
  | { readonly kind: 'ok'; readonly payload: Buffer }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Reused buffers for large reads (lib/digest-pool.ts lends them from lib/read-buffers.ts). */
export interface ReadBufferLender {
  /** A reused buffer of exactly `bytes` to read into, or undefined when none is free. */
  lendReadBuffer(bytes: number): Buffer | undefined;
}

interface CachedHandle {
  readonly segmentId: number;
  readonly fh: Promise<FileHandle>;
  users: number;
  evicted: boolean;
}

export class SegmentReader {
  private readonly handles = new Map<number, CachedHandle>();
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly fdsMax: number,
    private readonly buffers?: ReadBufferLender,
  ) {
    assert(fdsMax >= 1, 'fdsMax must be at least 1');
  }

  /** Reads and verifies the whole payload of the record at `loc`. */
  async readPayload(loc: RecordLocation): Promise<ReadPayloadResult> {
    assert(!this.closed, 'segment reader is closed');
    const handle = this.acquire(loc.segmentId);
    try {
      let fh: FileHandle;
      try {
        fh = await handle.fh;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return { kind: 'corrupt', reason: `segment ${loc.segmentId} missing` };
        }
        throw err;
      }
      const recordBytes = RECORD_HEADER_BYTES + loc.payloadBytes;
      const lent = loc.payloadBytes >= limits.readBufferLendBytesMin ? this.buffers?.lendReadBuffer(recordBytes) : undefined;
      const bytes = lent ?? Buffer.allocUnsafe(recordBytes);
      const got = await readFully(fh, bytes, loc.offset);
      return verify(loc, bytes.subarray(0, got));
    } finally {
      this.release(handle);
    }
  }

  /** Drops the cached handle of a segment (before the segment file is deleted, for example). */
  forget(segmentId: number): void {
    const handle = this.handles.get(segmentId);
    if (handle !== undefined) this.evict(handle);
  }

  openHandles(): number {
    return this.handles.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const handle of [...this.handles.values()]) this.evict(handle);
    await Promise.all(this.closing);
  }

  private acquire(segmentId: number): CachedHandle {
    let handle = this.handles.get(segmentId);
    if (handle !== undefined) {
      this.handles.delete(segmentId); // re-insert: Map order is the LRU order
    } else {
      const created: CachedHandle = {
        segmentId,
        fh: open(join(this.dir, segmentFileName(segmentId)), 'r'),
        users: 0,
        evicted: false,
      };
      // A failed open must not stay cached (the file may appear later, e.g. after a restore).
      created.fh.catch(() => this.evict(created));
      handle = created;
    }
    this.handles.set(segmentId, handle);
    handle.users++;
    for (const oldest of this.handles.values()) {
      if (this.handles.size <= this.fdsMax) break;
      this.evict(oldest);
    }
    return handle;
  }

  private release(handle: CachedHandle): void {
    handle.users--;
    assert(handle.users >= 0, 'handle released twice');
    if (handle.evicted && handle.users === 0) this.closeHandle(handle);
  }

  private evict(handle: CachedHandle): void {
    if (this.handles.get(handle.segmentId) === handle) this.handles.delete(handle.segmentId);
    if (handle.evicted) return;
    handle.evicted = true;
    if (handle.users === 0) this.closeHandle(handle);
  }

  private closeHandle(handle: CachedHandle): void {
    const done: Promise<void> = handle.fh.then(
      (fh) => fh.close(),
      () => {}, // never opened: nothing to close
    );
    this.closing.add(done);
    // A close error surfaces through close(), which awaits every entry of `closing`.
    done.then(
      () => this.closing.delete(done),
      () => {},
    );
  }
}

function verify(loc: RecordLocation, bytes: Buffer): ReadPayloadResult {
  const record = decodeRecord(bytes);
  if (record.kind !== 'ok') return { kind: 'corrupt', reason: record.reason };
  const { header, payload } = record;
  const mismatch = headerMismatch(loc, header);
  return mismatch === undefined ? { kind: 'ok', payload } : { kind: 'corrupt', reason: mismatch };
}

function headerMismatch(loc: RecordLocation, header: { shardId: Buffer; payloadBytes: number; payloadCrc32: number }): string | undefined {
  if (!header.shardId.equals(loc.shardId)) return 'record belongs to another shard';
  if (header.payloadBytes !== loc.payloadBytes || header.payloadCrc32 !== loc.payloadCrc32) return 'record does not match the index';
  return undefined;
}
