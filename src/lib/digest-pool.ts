/**
 * A small, bounded pool of worker threads that hash bodies off the event loop: MD5 (the ETag), an
 * optional SHA-256 and flexible checksum, and, without the native CRC code, the crc32 of each
 * shard (handed to the storage node, which then does not compute it again; with the native code
 * the stream computes it on the event loop, see DigestPoolOptions.crcOnEventLoop). Bytes live in
 * SharedArrayBuffer-backed buffers from the pool's SharedBufferPool, so a message carries only
 * where the bytes are, never the bytes.
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
import { crc32, crcImplementation, type ChecksumAlgorithm } from './checksums.ts';
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
   * Worker threads (default: the cores but one, at least 2 so that a body's crc32 and its MD5 run
   * on different workers, at most limits.digestWorkersMax).
   */
  readonly workers?: number;
  /** Shared buffer bytes (default limits.digestBufferPoolBytesMax). */
  readonly bufferBytesMax?: number;
  /**
   * Whether a body's per-shard crc32 is computed on the event loop, as its bytes are handed to the
   * digests worker, rather than by a second worker. Default: when the native CRC code is loaded
   * (lib/checksums.ts; 0.09 ms per MiB, less than the messages to a crc worker cost the event loop).
   */
  readonly crcOnEventLoop?: boolean;
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

  ask(m: DigestRequest & { readonly id: number }, transfer: ArrayBuffer[] = []): Promise<DigestReply> {
    const reply = this.expect(m.id);
    if (this.dead === undefined) this.worker.postMessage(m, transfer);
    return reply;
  }

  /** The answer with this id to a message posted by `ask` (a message may answer two ids). */
  expect(id: number): Promise<DigestReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<DigestReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
    });
  }
}

export class DigestPool {
  /** Shard buffers of PUT bodies. */
  readonly buffers: SharedBufferPool;
  /** Buffers for storage reads, whose crc32 the workers check in place. */
  readonly readBuffers: ReadBufferPool;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private stopped = false;

  private constructor(
    workers: number,
    bufferBytesMax: number,
    private readonly crcOnEventLoop: boolean,
  ) {
    this.buffers = new SharedBufferPool(bufferBytesMax, limits.shardBytesMax);
    this.readBuffers = new ReadBufferPool(limits.readBufferPoolBytesMax, limits.shardBytesMax + 4096);
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn());
  }

  /** Spawns the workers and waits until each has loaded (so the first request does not wait). */
  static async start(opts: DigestPoolOptions = {}): Promise<DigestPool> {
    const workers = opts.workers ?? Math.max(2, Math.min(limits.digestWorkersMax, availableParallelism() - 1));
    assert(workers >= 1 && workers <= limits.digestWorkersMax, `digest workers ${workers} outside 1..${limits.digestWorkersMax}`);
    const pool = new DigestPool(workers, opts.bufferBytesMax ?? limits.digestBufferPoolBytesMax, opts.crcOnEventLoop ?? crcImplementation === 'native');
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

  /**
   * A body's digest stream: its digests on the worker with the fewest open streams (ties go to
   * the first), its per-shard crc32 on the event loop (crcOnEventLoop), or else on the next worker
   * when there are two or more.
   */
  openStream(o: { sha256: boolean; checksum: ChecksumAlgorithm | undefined }): DigestStream {
    assert(!this.stopped, 'digest pool is stopped');
    let at = 0;
    for (let i = 1; i < this.slots.length; i++) if ((this.slots[i]?.openStreams ?? Infinity) < (this.slots[at]?.openStreams ?? Infinity)) at = i;
    const slot = this.slots[at];
    const crcSlot = this.crcOnEventLoop ? undefined : this.slots[(at + 1) % this.slots.length];
    assert(slot !== undefined && (this.crcOnEventLoop || crcSlot !== undefined), 'digest pool has no worker');
    return new DigestStream(slot, crcSlot, this.nextId++, { sha256: o.sha256, checksum: o.checksum ?? null }, () => this.nextId++);
  }

  /** crc32 of `data`, computed by a worker; `data` must be a pooled (shared) buffer. */
  async crc32(data: Buffer): Promise<number> {
    assert(!this.stopped, 'digest pool is stopped');
    const r = await this.leastWaiting().ask({ t: 'crc', id: this.nextId++, bytes: shared(data) });
    assert(r.crc32 !== undefined, 'crc answer without a crc32');
    return r.crc32;
  }

  /** A reused shared buffer for a storage read, or undefined when none is free (read-buffers.ts). */
  lendReadBuffer(bytes: number): Buffer | undefined {
    return this.stopped ? undefined : this.readBuffers.tryLend(bytes);
  }

  /**
   * crc32 of `length` bytes at `offset` of `buffer`, computed by a worker. The buffer is moved to
   * the worker and back (no copy): it is detached meanwhile, and the answer carries it again.
   */
  async crc32Moved(buffer: ArrayBuffer, offset: number, length: number): Promise<{ crc32: number; buffer: ArrayBuffer }> {
    assert(!this.stopped, 'digest pool is stopped');
    const slot = this.leastWaiting();
    const r = await slot.ask({ t: 'crcMoved', id: this.nextId++, buffer, offset, length }, [buffer]);
    assert(r.crc32 !== undefined && r.buffer !== undefined, 'crc answer without a crc32 or the buffer');
    return { crc32: r.crc32, buffer: r.buffer };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.buffers.close();
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private leastWaiting(): Slot {
    let slot = this.slots[0];
    for (const s of this.slots) if (slot === undefined || s.waiting.size < slot.waiting.size) slot = s;
    assert(slot !== undefined, 'digest pool has no worker');
    return slot;
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
 * One body's digests, computed as its bytes arrive: the digests by one worker, and the per-shard
 * crc32 by the same worker, by another one (split), or here on the event loop (`crcSlot`
 * undefined), each fed every update.
 */
export class DigestStream {
  private done = false;
  /** Sent with the stream's first message to each worker, which opens it there. */
  private open: DigestOpen | null;
  private crcOpen: DigestOpen | null;
  /** The crc32 of the current shard's bytes so far, when it is computed here. */
  private localCrc = 0;

  constructor(
    private readonly slot: Slot,
    /** The worker computing the crc32 (may be `slot`), or undefined: computed here. */
    private readonly crcSlot: Slot | undefined,
    private readonly s: number,
    o: { sha256: boolean; checksum: ChecksumAlgorithm | null },
    private readonly newId: () => number,
  ) {
    this.open = { role: crcSlot === slot ? 'both' : 'digests', ...o };
    this.crcOpen = crcSlot !== undefined && crcSlot !== slot ? { role: 'crc', sha256: false, checksum: null } : null;
    slot.openStreams++;
  }

  /** The crc32 on another worker than the digests. */
  private get split(): boolean {
    return this.crcSlot !== undefined && this.slot !== this.crcSlot;
  }

  /** Hashes `data` (a view of a pooled buffer), which must stay unchanged until the next cut's `hashed` or finish's `digests` settles. */
  update(data: Buffer): void {
    assert(!this.done, 'digest stream already finished');
    if (data.length === 0) return;
    const bytes = shared(data);
    this.slot.post({ t: 'update', s: this.s, open: this.takeOpen(), bytes });
    if (this.crcSlot === undefined) this.localCrc = crc32(data, this.localCrc);
    else if (this.split) this.crcSlot.post({ t: 'update', s: this.s, open: this.takeCrcOpen(), bytes });
  }

  /**
   * Ends a shard: `crc32` answers the crc32 of the bytes passed to `update` since the previous
   * cut; `hashed` settles once those bytes are hashed for the digests too, and only then may
   * they change (with the digests on another worker, MD5 can be far behind the crc32).
   */
  cut(): { crc32: Promise<number>; hashed: Promise<void> } {
    assert(!this.done, 'digest stream already finished');
    if (this.crcSlot === undefined) {
      const crc = this.localCrc;
      this.localCrc = 0;
      const hashed = this.slot.ask({ t: 'cut', s: this.s, open: this.takeOpen(), id: this.newId() }).then(() => undefined);
      return { crc32: Promise.resolve(crc), hashed };
    }
    const crc = this.crcSlot
      .ask({ t: 'cut', s: this.s, open: this.split ? this.takeCrcOpen() : this.takeOpen(), id: this.newId() })
      .then((r) => {
        assert(r.crc32 !== undefined, 'cut answer without a crc32');
        return r.crc32;
      });
    if (!this.split) return { crc32: crc, hashed: crc.then(() => undefined) };
    const hashed = this.slot.ask({ t: 'cut', s: this.s, open: this.takeOpen(), id: this.newId() }).then(() => undefined);
    return { crc32: crc, hashed };
  }

  /**
   * Hashes `last` (if given). `crc32` answers the crc32 of the bytes since the previous cut (the
   * last shard's) as soon as it is known, never after the MD5 of `last`, so that the last
   * shard's write can start while MD5 finishes; `digests` answers the body's digests. `last`
   * must stay unchanged until `digests` settles.
   */
  finish(last?: Buffer): { crc32: Promise<number>; digests: Promise<BodyDigests> } {
    assert(!this.done, 'digest stream already finished');
    this.close();
    const bytes = last !== undefined && last.length > 0 ? shared(last) : null;
    let crc: Promise<DigestReply>;
    let reply: Promise<DigestReply>;
    if (this.crcSlot === undefined) {
      const crc32OfShard = last !== undefined && last.length > 0 ? crc32(last, this.localCrc) : this.localCrc;
      crc = Promise.resolve({ id: 0, crc32: crc32OfShard });
      reply = this.slot.ask({ t: 'finish', s: this.s, open: this.takeOpen(), id: this.newId(), crcId: null, bytes });
    } else if (this.split) {
      crc = this.crcSlot.ask({ t: 'finish', s: this.s, open: this.takeCrcOpen(), id: this.newId(), crcId: null, bytes });
      reply = this.slot.ask({ t: 'finish', s: this.s, open: this.takeOpen(), id: this.newId(), crcId: null, bytes });
    } else {
      const crcId = this.newId();
      // Expected before the message goes out, so the waiter exists when the answer comes.
      crc = this.slot.expect(crcId);
      reply = this.slot.ask({ t: 'finish', s: this.s, open: this.takeOpen(), id: this.newId(), crcId, bytes });
    }
    return {
      crc32: crc.then((r) => {
        assert(r.crc32 !== undefined, 'finish answer without a crc32');
        return r.crc32;
      }),
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
    this.close();
    if (this.open === null) this.slot.post({ t: 'drop', s: this.s });
    if (this.split && this.crcOpen === null) this.crcSlot?.post({ t: 'drop', s: this.s });
  }

  private takeOpen(): DigestOpen | null {
    const o = this.open;
    this.open = null;
    return o;
  }

  private takeCrcOpen(): DigestOpen | null {
    const o = this.crcOpen;
    this.crcOpen = null;
    return o;
  }

  private close(): void {
    this.done = true;
    this.slot.openStreams--;
  }
}
