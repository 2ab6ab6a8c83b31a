/**
 * A small, bounded pool of worker threads that hash bodies off the event loop: MD5 (the ETag) and
 * an optional SHA-256 and flexible checksum. The crc32 of each shard (handed to the storage node,
 * which then does not compute it again) is computed by the stream itself on the event loop as the
 * bytes go to the worker: lib/checksums.ts's native code does a MiB in 0.09 ms, less than the
 * messages to a worker cost. Bytes live in SharedArrayBuffer-backed buffers from the pool's
 * SharedBufferPool, so a message carries only where the bytes are, never the bytes. The pool also
 * lends the storage node reusable read buffers (read-buffers.ts).
 *
 * A body is a stream pinned to one worker (its hash state lives there); messages to a worker are
 * handled in order, so a `cut` or `finish` answer covers every update posted before it. The
 * caller keeps the bytes it passed to `update` unchanged until the next `cut`/`finish` answers.
 *
 * The app owns the pool: `DigestPool.start` spawns the workers, `stop` terminates them and fails
 * whatever is still waiting. A worker that dies fails its waiting requests and is replaced.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assert } from './assert.ts';
import { crc32, type ChecksumAlgorithm } from './checksums.ts';
import type { DigestOpen, DigestReply, DigestRequest, SharedRange } from './digest-protocol.ts';
import { limits } from './limits.ts';
import { ReadBufferPool } from './read-buffers.ts';
import { SharedBufferPool } from './shared-buffers.ts';

export interface BodyDigests {
  readonly md5: Buffer;
  readonly sha256Hex: string | undefined;
  readonly checksum: Buffer | undefined;
}

export interface DigestPoolOptions {
  /**
   * Worker threads (default: the cores but one, at least 2 so that one body's MD5 does not queue
   * behind another's, at most limits.digestWorkersMax).
   */
  readonly workers?: number;
  /** Shared buffer bytes (default limits.digestBufferPoolBytesMax). */
  readonly bufferBytesMax?: number;
}

interface Waiting {
  readonly resolve: (r: DigestReply) => void;
  readonly reject: (err: Error) => void;
}

class Slot {
  readonly worker: Worker;
  readonly waiting = new Map<number, Waiting>();
  readonly ready: Promise<void>;
  openStreams = 0;
  dead: Error | undefined;

  constructor(onDeath: (slot: Slot) => void) {
    // Not the parent's flags (its tsx hooks would load twice; the entry registers them), except
    // --cpu-prof*, so that a profiled process (bench --profile) profiles its workers too.
    const execArgv = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
    this.worker = new Worker(new URL('./digest-worker-entry.mjs', import.meta.url), { execArgv });
    let markReady: () => void = () => {};
    let failReady: (err: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (r: DigestReply) => {
      if (r.ready) return markReady();
      const w = this.waiting.get(r.id);
      if (w === undefined) return;
      this.waiting.delete(r.id);
      if (r.error !== undefined) w.reject(new Error(`digest worker: ${r.error}`));
      else w.resolve(r);
    });
    const die = (err: Error): void => {
      if (this.dead) return;
      this.dead = err;
      failReady(err);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      onDeath(this);
    };
    this.worker.on('error', (err) => die(err));
    this.worker.on('exit', (code) => die(new Error(`digest worker exited (code ${code})`)));
  }

  post(m: DigestRequest): void {
    if (this.dead === undefined) this.worker.postMessage(m);
  }

  ask(m: DigestRequest & { readonly id: number }): Promise<DigestReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<DigestReply>((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.worker.postMessage(m);
    });
  }
}

export class DigestPool {
  /** Shard buffers of PUT bodies. */
  readonly buffers: SharedBufferPool;
  /** Reused buffers for large storage reads. */
  readonly readBuffers: ReadBufferPool;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private stopped = false;

  private constructor(workers: number, bufferBytesMax: number) {
    this.buffers = new SharedBufferPool(bufferBytesMax, limits.shardBytesMax);
    this.readBuffers = new ReadBufferPool(limits.readBufferPoolBytesMax, limits.shardBytesMax + 4096);
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn());
  }

  /** Spawns the workers and waits until each has loaded (so the first request does not wait). */
  static async start(opts: DigestPoolOptions = {}): Promise<DigestPool> {
    const workers = opts.workers ?? Math.max(2, Math.min(limits.digestWorkersMax, availableParallelism() - 1));
    assert(workers >= 1 && workers <= limits.digestWorkersMax, `digest workers ${workers} outside 1..${limits.digestWorkersMax}`);
    const pool = new DigestPool(workers, opts.bufferBytesMax ?? limits.digestBufferPoolBytesMax);
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** A body's digest stream, on the worker with the fewest open streams (ties go to the first). */
  openStream(o: { sha256: boolean; checksum: ChecksumAlgorithm | undefined }): DigestStream {
    assert(!this.stopped, 'digest pool is stopped');
    let slot = this.slots[0];
    for (const s of this.slots) if (slot === undefined || s.openStreams < slot.openStreams) slot = s;
    assert(slot !== undefined, 'digest pool has no worker');
    return new DigestStream(slot, this.nextId++, { sha256: o.sha256, checksum: o.checksum ?? null }, () => this.nextId++);
  }

  /** A reused buffer for a storage read, or undefined when none is free (read-buffers.ts). */
  lendReadBuffer(bytes: number): Buffer | undefined {
    return this.stopped ? undefined : this.readBuffers.tryLend(bytes);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.buffers.close();
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    return new Slot((dead) => {
      const i = this.slots.indexOf(dead);
      if (i >= 0 && !this.stopped) this.slots[i] = this.spawn();
    });
  }
}

/** A view of a pooled buffer as the worker protocol names it. */
function shared(data: Buffer): SharedRange {
  const sab = data.buffer;
  assert(sab instanceof SharedArrayBuffer, 'digest offload needs a shared buffer');
  return { sab, offset: data.byteOffset, length: data.length };
}

/**
 * One body's digests, computed by one worker as its bytes arrive, and the crc32 of each of its
 * shards, computed here as the bytes go to the worker.
 */
export class DigestStream {
  private done = false;
  /** Sent with the stream's first message, which opens it in the worker. */
  private open: DigestOpen | null;
  /** The crc32 of the current shard's bytes so far. */
  private shardCrc32 = 0;

  constructor(
    private readonly slot: Slot,
    private readonly s: number,
    open: DigestOpen,
    private readonly newId: () => number,
  ) {
    this.open = open;
    slot.openStreams++;
  }

  /** Hashes `data` (a view of a pooled buffer), which must stay unchanged until the next cut's `hashed` or finish's `digests` settles. */
  update(data: Buffer): void {
    assert(!this.done, 'digest stream already finished');
    if (data.length === 0) return;
    this.slot.post({ t: 'update', s: this.s, open: this.takeOpen(), bytes: shared(data) });
    this.shardCrc32 = crc32(data, this.shardCrc32);
  }

  /**
   * Ends a shard: `crc32` is the crc32 of the bytes passed to `update` since the previous cut;
   * `hashed` settles once the worker has hashed those bytes for the digests, and only then may
   * they change (MD5 can be far behind the body).
   */
  cut(): { crc32: number; hashed: Promise<void> } {
    assert(!this.done, 'digest stream already finished');
    const crc = this.shardCrc32;
    this.shardCrc32 = 0;
    const hashed = this.slot.ask({ t: 'cut', s: this.s, open: this.takeOpen(), id: this.newId() }).then(() => undefined);
    return { crc32: crc, hashed };
  }

  /**
   * Hashes `last` (if given). `crc32` is the crc32 of the bytes since the previous cut (the last
   * shard's), known at once, so that the last shard's write can start while MD5 finishes;
   * `digests` answers the body's digests. `last` must stay unchanged until `digests` settles.
   */
  finish(last?: Buffer): { crc32: number; digests: Promise<BodyDigests> } {
    assert(!this.done, 'digest stream already finished');
    const open = this.takeOpen();
    this.close();
    const tail = last !== undefined && last.length > 0 ? last : undefined;
    const crc = tail === undefined ? this.shardCrc32 : crc32(tail, this.shardCrc32);
    const reply = this.slot.ask({ t: 'finish', s: this.s, open, id: this.newId(), bytes: tail === undefined ? null : shared(tail) });
    return {
      crc32: crc,
      digests: reply.then((r) => {
        assert(r.md5 !== undefined, 'finish answer without an MD5');
        return {
          md5: Buffer.from(r.md5.buffer, r.md5.byteOffset, r.md5.byteLength),
          sha256Hex: r.sha256Hex,
          checksum: r.checksum === undefined ? undefined : Buffer.from(r.checksum.buffer, r.checksum.byteOffset, r.checksum.byteLength),
        };
      }),
    };
  }

  /** Forgets the stream (the body failed). Idempotent. */
  drop(): void {
    if (this.done) return;
    const opened = this.open === null;
    this.close();
    if (opened) this.slot.post({ t: 'drop', s: this.s });
  }

  private takeOpen(): DigestOpen | null {
    const o = this.open;
    this.open = null;
    return o;
  }

  private close(): void {
    this.done = true;
    this.slot.openStreams--;
  }
}
