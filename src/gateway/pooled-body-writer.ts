/**
 * writeBody with the hashing on worker threads (lib/digest-pool.ts). The event loop only moves
 * bytes: each body chunk is copied once into a pooled shared buffer of one shard; every
 * limits.digestStepBytes the new bytes are handed to the body's digest worker (MD5, SHA-256 and
 * the flexible checksum when asked for), which hashes them while more of the body arrives, and
 * added to the shard's crc32 here (lib/checksums.ts's native code). A full shard is cut and goes
 * to the storage node from the same buffer with `crc32OfData` (the node trusts it instead of a
 * second pass); the buffer returns to the pool once the write settled and the worker has hashed
 * its bytes (MD5 can be far behind the write).
 *
 * Same contract as object-writer.ts: at most limits.shardWritesInFlightMax shard writes in flight
 * plus the shard being filled, the last shard written with sync after all the others, digests
 * compared only once every shard is durable. Memory is bounded by the pool's byte limit too: a
 * writer waits for a buffer when the pool is full (it holds none it could still fill meanwhile).
 */
import type { ShardRef } from '../events/types.ts';
import type { DigestPool, DigestStream } from '../lib/digest-pool.ts';
import { newShardId } from '../lib/ids.ts';
import { limits } from '../lib/limits.ts';
import { copyIntoShared, type PooledBuffer } from '../lib/shared-buffers.ts';
import { bodyChunks } from './body-chunks.ts';
import { checkDigests } from './body-digests.ts';
import type { WriteBodyInput, WrittenBody } from './object-writer.ts';
import { fail, type Result, type ShardPlacement } from './types.ts';

export async function writeBodyPooled(placement: ShardPlacement, input: WriteBodyInput, pool: DigestPool): Promise<Result<WrittenBody>> {
  const algorithm = input.checksum?.algorithm ?? input.defaultChecksum;
  const stream = pool.openStream({ sha256: Boolean(input.sha256Hex), checksum: algorithm });
  const w = new ShardFiller(placement, input, pool, stream);
  try {
    return await w.run();
  } finally {
    w.releaseCurrent();
    stream.drop();
  }
}

class ShardFiller {
  readonly shards: ShardRef[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private firstError: unknown;
  private size = 0;
  /** Bytes already cut into shards: the next shard's object offset. */
  private cutBytes = 0;
  private current: PooledBuffer | undefined;
  /** Bytes of the current shard: its target length, how many arrived, how many were sent to hashing. */
  private target = 0;
  private filled = 0;
  private hashed = 0;

  constructor(
    private readonly placement: ShardPlacement,
    private readonly input: WriteBodyInput,
    private readonly pool: DigestPool,
    private readonly stream: DigestStream,
  ) {}

  async run(): Promise<Result<WrittenBody>> {
    const { input } = this;
    for await (const chunk of bodyChunks(input.body)) {
      if (this.firstError) break;
      this.size += chunk.length;
      if (this.size > limits.objectBytesMax) return fail('EntityTooLarge');
      if (input.expectedLength !== undefined && this.size > input.expectedLength) {
        return fail('IncompleteBody', 'The request body is longer than its declared length.');
      }
      let rest = chunk;
      while (rest.length > 0) {
        // Cut a shard only once a byte beyond it has arrived, so the body's last shard is always
        // written after the loop, with sync.
        if (this.current !== undefined && this.filled === this.target) await this.cut(false);
        const buf = this.current ?? (await this.acquire());
        const n = Math.min(rest.length, this.target - this.filled);
        copyIntoShared(rest.subarray(0, n), buf.buf, this.filled);
        this.filled += n;
        rest = rest.subarray(n);
        if (this.filled - this.hashed >= limits.digestStepBytes) this.hashPending();
      }
    }
    await Promise.all(this.inFlight);
    if (this.firstError) throw this.firstError;
    if (input.expectedLength !== undefined && this.size !== input.expectedLength) return fail('IncompleteBody');

    // The last bytes are hashed; the last shard's write (and its fsync) starts at once and
    // overlaps what remains of the MD5.
    const unhashed = this.current?.buf.subarray(this.hashed, this.filled);
    this.hashed = this.filled;
    const finished = this.stream.finish(unhashed);
    finished.digests.catch(() => undefined);
    let inlineData: Uint8Array | undefined;
    if (this.shards.length === 0 && this.size <= (input.noInline ? 0 : limits.inlineBytesMax)) {
      // An empty part has no shard at all.
      if (!input.noInline) inlineData = Buffer.from(this.current?.buf.subarray(0, this.filled) ?? Buffer.alloc(0));
    } else if (this.current !== undefined) {
      await this.cut(true, { crc32: finished.crc32, hashed: finished.digests });
      if (this.firstError) throw this.firstError;
    }
    const digests = await finished.digests;
    return checkDigests(input, { size: this.size, shards: this.shards, inlineData }, digests);
  }

  /** Gives the current buffer back (the body failed). The worker may still read it: harmless, its stream is dropped. */
  releaseCurrent(): void {
    if (this.current !== undefined) this.pool.buffers.release(this.current);
    this.current = undefined;
  }

  private async acquire(): Promise<PooledBuffer> {
    const remaining = this.input.expectedLength === undefined ? Infinity : this.input.expectedLength - this.cutBytes;
    this.target = Math.max(1, Math.min(this.placement.shardBytes, remaining));
    this.filled = 0;
    this.hashed = 0;
    const b = await this.pool.buffers.acquire(this.target);
    this.current = b;
    return b;
  }

  private hashPending(): void {
    if (this.current === undefined || this.filled === this.hashed) return;
    this.stream.update(this.current.buf.subarray(this.hashed, this.filled));
    this.hashed = this.filled;
  }

  /**
   * Writes the current shard: its crc32 and the barrier of its hashing come from `last` (the
   * body's finish), or from a cut of the digest stream. The buffer goes back to the pool once the
   * write settled and the bytes are hashed for the body's digests: MD5 may still be reading them
   * when the write is done, and a reused buffer would change what it hashes.
   */
  private async cut(sync: boolean, last?: { readonly crc32: number; readonly hashed: Promise<unknown> }): Promise<void> {
    const buf = this.current;
    if (buf === undefined) return;
    if (last === undefined) this.hashPending();
    const { crc32: crc32OfData, hashed } = last ?? this.stream.cut();
    const length = this.filled;
    const objectOffset = this.cutBytes;
    this.cutBytes += length;
    this.current = undefined;
    // Awaited once the write settled; kept from being an unhandled rejection meanwhile.
    hashed.catch(() => undefined);
    const store = this.placement.forWrite();
    const shardId = newShardId();
    const index = this.shards.length;
    this.shards.push({ shardId, objectOffset, length, crc32: 0, nodes: [store.nodeId] });
    const inFlight = this.inFlight;
    try {
      while (inFlight.size >= limits.shardWritesInFlightMax) await Promise.race(inFlight);
      // The sync write goes last: it must follow every earlier write of this object.
      if (sync) await Promise.all(inFlight);
    } catch (err) {
      this.pool.buffers.release(buf);
      throw err;
    }
    const p = Promise.resolve()
      .then(() => store.putShard(shardId, [buf.buf.subarray(0, length)], { sync, crc32OfData }))
      .then((r) => {
        this.shards[index] = { shardId, objectOffset, length, crc32: r.crc32, nodes: r.nodes ?? [r.nodeId] };
      })
      .catch((err: unknown) => {
        this.firstError ??= err;
      })
      .finally(async () => {
        inFlight.delete(p);
        await hashed.catch(() => undefined);
        this.pool.buffers.release(buf);
      });
    inFlight.add(p);
    if (sync) await p;
  }
}
