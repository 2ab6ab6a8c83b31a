/**
 * Reused SharedArrayBuffer-backed buffers for storage reads. A fresh megabyte per read costs page
 * faults, allocator work and collector pressure; a reused one is warm. (Shared so that a digest
 * worker could check a payload's crc32 in place; since the native CRC code that check runs on the
 * event loop, segment-reader.ts, and nothing relies on the sharing any more.)
 *
 * A read buffer is lent, not owned: whoever ends up with the bytes may give it back with
 * `releaseReadBuffer` once nothing reads them any more (GetObject does after the socket took
 * them). Nobody has to: a lent buffer that is never given back is simply collected, and a
 * FinalizationRegistry then takes it off the pool's count. The pool never holds a lent buffer
 * strongly, and never makes anyone wait: at its byte limit `tryLend` answers undefined and the
 * caller allocates as before.
 */

/** Lent buffers, by their SharedArrayBuffer: how to give each back. */
const leases = new WeakMap<ArrayBufferLike, () => void>();

/**
 * Gives the read buffer under `bytes` back to its pool. Only for the last holder of those bytes:
 * the buffer is reused at once. Any view of the buffer will do; a non-pooled one is ignored.
 */
export function releaseReadBuffer(bytes: Uint8Array): void {
  const release = leases.get(bytes.buffer);
  if (release === undefined) return;
  leases.delete(bytes.buffer);
  release();
}

const classBytesMin = 64 * 1024;

export class ReadBufferPool {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  /** Bytes of free and lent buffers (lent ones until given back or collected). */
  private allocatedBytes = 0;
  private readonly finalizer = new FinalizationRegistry<number>((bytes) => {
    this.allocatedBytes -= bytes;
  });

  constructor(
    readonly bytesMax: number,
    readonly bufferBytesMax: number,
  ) {}

  /** A buffer of exactly `bytes` bytes over a pooled SharedArrayBuffer, or undefined at the limit. */
  tryLend(bytes: number): Buffer | undefined {
    if (bytes <= 0 || bytes > this.bufferBytesMax) return undefined;
    let classBytes = classBytesMin;
    while (classBytes < bytes) classBytes *= 2;
    let sab = this.free.get(classBytes)?.pop();
    if (sab === undefined) {
      this.makeRoom(classBytes);
      if (this.allocatedBytes + classBytes > this.bytesMax) return undefined;
      sab = new SharedArrayBuffer(classBytes);
      this.allocatedBytes += classBytes;
    }
    const lent = sab;
    const token = {};
    this.finalizer.register(lent, classBytes, token);
    leases.set(lent, () => {
      this.finalizer.unregister(token);
      const list = this.free.get(classBytes) ?? [];
      list.push(lent);
      this.free.set(classBytes, list);
    });
    return Buffer.from(lent, 0, bytes);
  }

  stats(): { allocatedBytes: number; freeBuffers: number } {
    let freeBuffers = 0;
    for (const l of this.free.values()) freeBuffers += l.length;
    return { allocatedBytes: this.allocatedBytes, freeBuffers };
  }

  /** Drops free buffers of other classes until `classBytes` more fit. */
  private makeRoom(classBytes: number): void {
    for (const [c, list] of [...this.free.entries()].sort((a, b) => b[0] - a[0])) {
      while (c !== classBytes && list.length > 0 && this.allocatedBytes + classBytes > this.bytesMax) {
        list.pop();
        this.allocatedBytes -= c;
      }
    }
  }
}
