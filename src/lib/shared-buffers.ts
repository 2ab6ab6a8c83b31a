/**
 * A bounded pool of SharedArrayBuffer-backed Buffers. A body's bytes are copied once into a pooled
 * buffer; a digest worker hashes them in place and the storage node writes them from the same
 * memory, so neither needs a copy of its own, and the event loop never allocates (or makes the
 * collector chase) a fresh megabyte per shard.
 *
 * Buffers come in power-of-two size classes from `classBytesMin` up. The pool never holds more
 * than `bytesMax` of buffers, in use and free together: an `acquire` that would go over waits until
 * a release makes room (free buffers of other classes are dropped first). A caller must not wait
 * for a second buffer while holding one it cannot release without that wait finishing, or the
 * pool can deadlock; the writers hand every full buffer to a write (which releases it when done)
 * before asking for the next.
 */
import { assert } from './assert.ts';

export interface PooledBuffer {
  /** The whole buffer (its capacity is `buf.length`), over a SharedArrayBuffer of the same size. */
  readonly buf: Buffer;
}

interface Waiter {
  readonly classBytes: number;
  readonly resolve: (b: PooledBuffer) => void;
  readonly reject: (err: Error) => void;
}

const classBytesMin = 64 * 1024;

/**
 * Copies `src` into `dst` (a buffer over a SharedArrayBuffer) at `dstOffset`. Not `src.copy(dst)`:
 * V8 copies into shared memory with relaxed atomics, and when source and destination are not
 * word-aligned to each other (a socket chunk landing at any offset of a shard buffer) that copy
 * goes byte by byte: 0.8–0.9 ms per MiB against 0.19 ms for `fill`, which is a native memcpy
 * (perf showed the byte copy at 7% of the server's samples during 1 MiB PUTs). `fill` with a
 * source as long as the range copies it once.
 */
export function copyIntoShared(src: Uint8Array, dst: Buffer, dstOffset: number): void {
  assert(dstOffset >= 0 && dstOffset + src.length <= dst.length, 'copy beyond the shared buffer');
  if (src.length === 0) return;
  dst.fill(src, dstOffset, dstOffset + src.length);
}

export class SharedBufferPool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private readonly inUse = new Set<PooledBuffer>();
  private readonly waiters: Waiter[] = [];
  private allocatedBytes = 0;
  private closed = false;

  constructor(
    readonly bytesMax: number,
    readonly bufferBytesMax: number,
  ) {
    assert(bufferBytesMax <= bytesMax, 'one buffer must fit in the pool');
  }

  /** Size class of a request: the next power of two of at least `classBytesMin`. */
  static classOf(bytes: number): number {
    let c = classBytesMin;
    while (c < bytes) c *= 2;
    return c;
  }

  /** A buffer of at least `bytes` bytes; waits while the pool is at its limit. */
  acquire(bytes: number): Promise<PooledBuffer> {
    assert(!this.closed, 'shared buffer pool is closed');
    assert(bytes > 0 && bytes <= this.bufferBytesMax, `buffer of ${bytes} bytes outside the pool's range`);
    const classBytes = Math.min(SharedBufferPool.classOf(bytes), SharedBufferPool.classOf(this.bufferBytesMax));
    const now = this.waiters.length === 0 ? this.take(classBytes) : undefined;
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => this.waiters.push({ classBytes, resolve, reject }));
  }

  release(b: PooledBuffer): void {
    const known = this.inUse.delete(b);
    assert(known, 'released a buffer the pool did not lend');
    if (this.closed) {
      this.allocatedBytes -= b.buf.length;
      return;
    }
    const list = this.free.get(b.buf.length) ?? [];
    list.push(b);
    this.free.set(b.buf.length, list);
    this.serveWaiters();
  }

  stats(): { allocatedBytes: number; inUse: number; waiting: number } {
    return { allocatedBytes: this.allocatedBytes, inUse: this.inUse.size, waiting: this.waiters.length };
  }

  /** Rejects waiters and drops free buffers; buffers in use are dropped when released. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('shared buffer pool closed'));
    for (const list of this.free.values()) for (const b of list) this.allocatedBytes -= b.buf.length;
    this.free.clear();
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      assert(w !== undefined);
      const b = this.take(w.classBytes);
      if (b === undefined) return; // FIFO: later waiters do not overtake the first
      this.waiters.shift();
      w.resolve(b);
    }
  }

  private take(classBytes: number): PooledBuffer | undefined {
    let b = this.free.get(classBytes)?.pop();
    if (b === undefined) {
      // Make room by dropping free buffers of other classes, largest first.
      const others = [...this.free.entries()].filter(([c, l]) => c !== classBytes && l.length > 0).sort((x, y) => y[0] - x[0]);
      for (const [, list] of others) {
        while (this.allocatedBytes + classBytes > this.bytesMax && list.length > 0) {
          const dropped = list.pop();
          if (dropped) this.allocatedBytes -= dropped.buf.length;
        }
      }
      if (this.allocatedBytes + classBytes > this.bytesMax) return undefined;
      this.allocatedBytes += classBytes;
      b = { buf: Buffer.from(new SharedArrayBuffer(classBytes)) };
    }
    this.inUse.add(b);
    return b;
  }
}
