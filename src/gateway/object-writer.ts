/**
 * Streams a request body into shards: body → digests (MD5 for the ETag, the client's declared
 * SHA-256 and flexible checksum) → cut into shards of `shardBytes` → written to a storage node,
 * at most limits.shardWritesInFlightMax shards in flight, so memory per PUT is bounded by about
 * (in-flight + 1) × shardBytes whatever the object's size. The last shard is written with sync,
 * which (group commit on the same segment file; earlier segments are fsync'd when sealed) makes every shard
 * of the object durable before the writer returns. Digests are checked only after that, and the
 * event is published by the caller only if they all match: a mismatch leaves unreferenced shards,
 * which the storage node's log-driven liveness reclaims.
 *
 * With a DigestPool (and a body of at least limits.digestOffloadBytesMin), pooled-body-writer.ts
 * does the same with the hashing on worker threads; this file's loop hashes on the event loop.
 */
import { createHash } from 'node:crypto';
import { createChecksum, type ChecksumAlgorithm } from '../lib/checksums.ts';
import type { DigestPool } from '../lib/digest-pool.ts';
import { newShardId } from '../lib/ids.ts';
import { limits } from '../lib/limits.ts';
import type { ShardRef } from '../events/types.ts';
import { checkDigests } from './body-digests.ts';
import { writeBodyPooled } from './pooled-body-writer.ts';
import { fail, type ChecksumExpectation, type Result, type ShardPlacement } from './types.ts';

export interface WriteBodyInput {
  readonly body: AsyncIterable<Buffer>;
  /** Decoded length the client declared; the body must have exactly this many bytes. */
  readonly expectedLength: number | undefined;
  readonly contentMd5: Buffer | undefined;
  readonly sha256Hex: string | undefined;
  readonly checksum: ChecksumExpectation | undefined;
  /** Algorithm to compute and store even when the client sent no value. */
  readonly defaultChecksum: ChecksumAlgorithm | undefined;
  /** Never carry the body inline (multipart parts: an object is a manifest of shards). */
  readonly noInline?: boolean;
}

export interface WrittenBody {
  readonly size: number;
  readonly md5Hex: string;
  readonly shards: ShardRef[];
  readonly inlineData: Uint8Array | undefined;
  readonly checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

export async function writeBody(placement: ShardPlacement, input: WriteBodyInput, digests?: DigestPool): Promise<Result<WrittenBody>> {
  if (digests !== undefined && input.expectedLength !== undefined && input.expectedLength >= limits.digestOffloadBytesMin) {
    return writeBodyPooled(placement, input, digests);
  }
  return writeBodyInline(placement, input);
}

async function writeBodyInline(placement: ShardPlacement, input: WriteBodyInput): Promise<Result<WrittenBody>> {
  const md5 = createHash('md5');
  const sha256 = input.sha256Hex ? createHash('sha256') : undefined;
  const algorithm = input.checksum?.algorithm ?? input.defaultChecksum;
  const checksum = algorithm ? createChecksum(algorithm) : undefined;
  const shardBytes = placement.shardBytes;
  const shards: ShardRef[] = [];
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Bytes already cut into shards: the next shard's offset. (Not `size - pendingBytes`: `size`
  // already counts the rest of a chunk that is still being cut.)
  let cutBytes = 0;

  const flush = async (sync: boolean): Promise<void> => {
    const data = pending;
    const length = pendingBytes;
    const objectOffset = cutBytes;
    cutBytes += length;
    pending = [];
    pendingBytes = 0;
    const store = placement.forWrite();
    const shardId = newShardId();
    const index = shards.length;
    shards.push({ shardId, objectOffset, length, crc32: 0, nodes: [store.nodeId] });
    while (inFlight.size >= limits.shardWritesInFlightMax) await Promise.race(inFlight);
    // The sync write goes last: it must follow every earlier write of this object.
    if (sync) await Promise.all(inFlight);
    const p = store
      .putShard(shardId, data, { sync })
      .then((r) => {
        shards[index] = { shardId, objectOffset, length, crc32: r.crc32, nodes: r.nodes ?? [r.nodeId] };
      })
      .catch((err: unknown) => {
        firstError ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (sync) await p;
  };

  for await (const chunk of input.body) {
    if (firstError) break;
    size += chunk.length;
    if (size > limits.objectBytesMax) return fail('EntityTooLarge');
    if (input.expectedLength !== undefined && size > input.expectedLength) {
      return fail('IncompleteBody', 'The request body is longer than its declared length.');
    }
    md5.update(chunk);
    sha256?.update(chunk);
    checksum?.update(chunk);
    let rest = chunk;
    // Cut a shard only once a byte beyond it has arrived, so the body's last shard is always
    // written after the loop, with sync.
    while (pendingBytes + rest.length > shardBytes) {
      const take = shardBytes - pendingBytes;
      pending.push(rest.subarray(0, take));
      pendingBytes += take;
      rest = rest.subarray(take);
      await flush(false);
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  await Promise.all(inFlight);
  if (firstError) throw firstError;
  if (input.expectedLength !== undefined && size !== input.expectedLength) return fail('IncompleteBody');

  let inlineData: Uint8Array | undefined;
  if (shards.length === 0 && size <= (input.noInline ? 0 : limits.inlineBytesMax)) {
    // An empty part has no shard at all.
    if (!input.noInline) inlineData = Buffer.concat(pending);
  } else {
    await flush(true);
    if (firstError) throw firstError;
  }

  return checkDigests(input, { size, shards, inlineData }, {
    md5: md5.digest(),
    sha256Hex: sha256?.digest('hex'),
    checksum: checksum?.digest(),
  });
}
