/**
 * Server-side copies. No copy routes an object's bytes through the gateway's memory as a whole:
 *
 * - CopyObject is metadata only: the new version's event names the source's shards (and inline
 *   bytes, parts, checksums, ETag); the storage node's liveness counts the extra reference, so
 *   the shards live as long as either object does. A 1 GiB copy costs one small event.
 * - UploadPartCopy shares every source shard that lies wholly inside the range; the at most two
 *   shards cut by the range's ends are read and their slices written as new shards. The part's
 *   ETag is the MD5 of its bytes, so the range is read once to hash it, one shard at a time
 *   (one fetched ahead) — unless the range is a whole single-part object whose ETag and checksum
 *   are already known, which is free.
 */
import { createHash } from 'node:crypto';
import type { ChecksumValue, ShardRef } from '../events/types.ts';
import { createChecksum, type ChecksumAlgorithm } from '../lib/checksums.ts';
import { newShardId } from '../lib/ids.ts';
import { limits } from '../lib/limits.ts';
import type { ObjectRecord } from '../model/records.ts';
import { newEvent, type CommitDeps } from './commit.ts';
import { commitToKey, hasCondition, precheckCondition, type WriteCondition } from './conditional-write.ts';
import { readObjectRange } from './object-reader.ts';
import { fail, failRejected, ok, type Actor, type ObjectHeaders, type Result, type ShardPlacement } from './types.ts';

export interface CopiedRange {
  readonly size: number;
  /** Hex MD5 of the range's bytes. */
  readonly etag: string;
  /** objectOffset relative to the range's first byte. */
  readonly shards: readonly ShardRef[];
  readonly checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  /** Bytes written as new shards (the cut edges); the rest is shared. */
  readonly bytesWritten: number;
}

/** The bytes [start, end] of `source` as shards of a new part. */
export async function copyRange(placement: ShardPlacement, source: ObjectRecord, start: number, end: number, checksumAlg: ChecksumAlgorithm | undefined): Promise<CopiedRange> {
  const size = end - start + 1;
  const whole = start === 0 && end === source.size - 1;
  const known = checksumAlg ? source.checksums.find((c) => c.algorithm === checksumAlg && c.type === 'FULL_OBJECT') : undefined;
  if (whole && !source.inlineData && !source.etag.includes('-') && (!checksumAlg || known)) {
    return { size, etag: source.etag, shards: source.shards, checksum: known && checksumAlg ? { algorithm: checksumAlg, value: known.value } : undefined, bytesWritten: 0 };
  }
  const md5 = createHash('md5');
  const checksum = checksumAlg ? createChecksum(checksumAlg) : undefined;
  const shards: ShardRef[] = [];
  let bytesWritten = 0;
  const writeNew = async (data: Buffer, objectOffset: number): Promise<void> => {
    const store = placement.forWrite();
    const r = await store.putShard(newShardId(), [data], { sync: true });
    shards.push({ shardId: r.shardId, objectOffset, length: data.length, crc32: r.crc32, nodes: r.nodes ?? [r.nodeId] });
    bytesWritten += data.length;
  };
  if (source.inlineData) {
    const data = Buffer.from(source.inlineData.buffer, source.inlineData.byteOffset, source.inlineData.byteLength).subarray(start, end + 1);
    md5.update(data);
    checksum?.update(data);
    if (data.length > 0) await writeNew(data, 0);
  } else if (size > 0) {
    // readObjectRange yields exactly one buffer per overlapping shard, in this order.
    const overlapping = source.shards.filter((s) => s.objectOffset + s.length > start && s.objectOffset <= end);
    let i = 0;
    for await (const piece of readObjectRange(placement, source, start, end)) {
      const s = overlapping[i++];
      if (!s) throw new Error('copy: more pieces than shards');
      md5.update(piece);
      checksum?.update(piece);
      const pieceStart = Math.max(start, s.objectOffset);
      if (piece.length === s.length) shards.push({ ...s, objectOffset: s.objectOffset - start });
      else await writeNew(piece, pieceStart - start);
    }
  }
  return {
    size,
    etag: md5.digest('hex'),
    shards,
    checksum: checksum && checksumAlg ? { algorithm: checksumAlg, value: checksum.digest().toString('base64') } : undefined,
    bytesWritten,
  };
}

export interface CopyObjectInput {
  readonly bucket: string;
  readonly key: string;
  readonly source: ObjectRecord;
  /** The new object's headers: the source's (COPY) or the request's (REPLACE). */
  readonly headers: ObjectHeaders;
  readonly condition: WriteCondition | undefined;
}

export interface CopiedObject {
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly versionId: string;
  readonly checksums: readonly ChecksumValue[];
}

/** CopyObject: a new version of the destination key sharing the source's bytes. */
/** S3's answer to a copy of more than limits.copySourceBytesMax in one request. */
export const copySourceTooLargeMessage = `The specified copy source is larger than the maximum allowable size for a copy source: ${limits.copySourceBytesMax}`;

export async function copyObject(d: CommitDeps, actor: Actor, input: CopyObjectInput, versionId: string): Promise<Result<CopiedObject>> {
  // Larger objects are copied by UploadPartCopy ranges, as on S3.
  if (input.source.size > limits.copySourceBytesMax) return fail('InvalidRequest', copySourceTooLargeMessage);
  if (hasCondition(input.condition)) {
    const pre = await precheckCondition(d, input.bucket, input.key, input.condition);
    if (!pre.ok) return pre;
  }
  const src = input.source;
  const h = input.headers;
  let timeMs = 0;
  const result = await commitToKey(d, input.bucket, input.key, input.condition, () => {
    const ev = newEvent(d.clock, actor, input.bucket, input.key, versionId, {
      type: 'ObjectVersionPut',
      size: src.size,
      etag: src.etag,
      contentType: h.contentType,
      contentEncoding: h.contentEncoding,
      contentDisposition: h.contentDisposition,
      contentLanguage: h.contentLanguage,
      cacheControl: h.cacheControl,
      expires: h.expires,
      userMetadata: h.userMetadata,
      shards: src.shards,
      inlineData: src.inlineData,
      checksums: src.checksums,
      storageClass: h.storageClass,
      parts: src.parts,
    });
    timeMs = ev.timeMs;
    return ev;
  });
  if (!result.ok) return result;
  if (result.value.kind === 'rejected') return failRejected(result.value.code);
  return ok({ etag: src.etag, lastModifiedMs: timeMs, versionId, checksums: src.checksums });
}
