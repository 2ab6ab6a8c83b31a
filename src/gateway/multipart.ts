/**
 * Multipart uploads in the engine: decisions over the read model, committed as events.
 *
 * - Create, UploadPart, Abort publish on the upload's own subject `strata.ev.<bucket>.u.<id>`.
 *   A part's bytes go through the same writer as PutObject (sharded, durable before the event).
 * - Complete validates against this gateway's read model after a fence on the upload subject (so
 *   parts acknowledged by other gateways are seen), builds the object as a manifest of the chosen
 *   parts' shards (no byte is copied) and publishes MultipartCompleted on the object's subject,
 *   so If-None-Match / If-Match completes are race-free like conditional PUTs. The projector
 *   checks the parts again, in log order, and its outcome decides the answer: a completion that
 *   lost a race with an abort, or with a re-upload of one of its parts, is rejected the same way
 *   on every gateway.
 */
import { createHash } from 'node:crypto';
import { bucketSubject, uploadSubject } from '../events/subjects.ts';
import { type ChecksumType, type ChecksumValue, type ObjectPart, type ObjectVersionPutBody, type ShardRef } from '../events/types.ts';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../lib/checksums.ts';
import { crashPoint } from '../lib/crash-points.ts';
import type { DigestPool } from '../lib/digest-pool.ts';
import { newEventId } from '../lib/ids.ts';
import { limits } from '../lib/limits.ts';
import type { BucketRecord, ObjectRecord } from '../model/records.ts';
import type { PartRecord, UploadRecord } from '../model/uploads.ts';
import { listUploads, type UploadListPage, type UploadListQuery } from '../projections/uploads/list.ts';
import { commit, fence, newEvent, type CommitDeps } from './commit.ts';
import { commitToKey, hasCondition, precheckCondition, type WriteCondition } from './conditional-write.ts';
import { copyRange, copySourceTooLargeMessage } from './copy.ts';
import { multipartChecksum } from './multipart-checksums.ts';
import { writeBody, type WriteBodyInput } from './object-writer.ts';
import { fail, failRejected, ok, type Actor, type ObjectHeaders, type Result } from './types.ts';

export interface CreateUploadInput {
  readonly bucket: string;
  readonly key: string;
  readonly headers: ObjectHeaders;
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined;
  readonly checksumType: ChecksumType | undefined;
}

export interface PartTarget {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
}

export interface UploadedPart {
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

export interface CompletePartInput {
  readonly partNumber: number;
  /** Normalized (no quotes). */
  readonly etag: string;
  /** Checksums the client listed for this part, by algorithm. */
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
}

export interface CompleteInput {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly CompletePartInput[];
  readonly condition: WriteCondition | undefined;
  /** A full-object checksum the client sent with the completion (x-amz-checksum-<alg>), to verify. */
  readonly expectedChecksum: { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

export interface CompletedUpload {
  readonly etag: string;
  readonly versionId: string;
  readonly versioned: boolean;
  readonly checksum: ChecksumValue | undefined;
}

export interface PartsPage {
  readonly upload: UploadRecord;
  readonly parts: readonly PartRecord[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker: number | undefined;
}

export class MultipartEngine {
  constructor(
    private readonly d: CommitDeps,
    /** The version id a new version of a key in this bucket gets (the engine's rule). */
    private readonly versionIdFor: (bucket: BucketRecord) => string,
    /** Hashes large part bodies off the event loop, as for PutObject (lib/digest-pool.ts). */
    private readonly digests?: DigestPool,
  ) {}

  async create(actor: Actor, input: CreateUploadInput): Promise<Result<{ uploadId: string }>> {
    if (!(await this.bucketExists(input.bucket))) return fail('NoSuchBucket');
    const uploadId = newEventId(this.d.clock.nowMs());
    const ev = newEvent(this.d.clock, actor, input.bucket, input.key, '', {
      type: 'MultipartUploadCreated',
      uploadId,
      headers: input.headers,
      checksumAlgorithm: input.checksumAlgorithm ?? '',
      checksumType: input.checksumAlgorithm ? (input.checksumType ?? 'COMPOSITE') : '',
    });
    const outcome = await commit(this.d, uploadSubject(input.bucket, uploadId), ev);
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    return outcome.kind === 'applied' ? ok({ uploadId }) : failRejected(outcome.code);
  }

  /** The upload, fencing its subject first when this gateway has not seen it (created elsewhere). */
  async findUpload(bucket: string, key: string, uploadId: string): Promise<Result<UploadRecord>> {
    if (!/^[0-9a-z]{1,64}$/.test(uploadId)) return fail('NoSuchUpload');
    let upload = this.d.store.upload(bucket, key, uploadId);
    if (!upload) {
      await fence(this.d, uploadSubject(bucket, uploadId));
      upload = this.d.store.upload(bucket, key, uploadId);
    }
    if (upload) return ok(upload);
    return (await this.bucketExists(bucket)) ? fail('NoSuchUpload') : fail('NoSuchBucket');
  }

  async uploadPart(actor: Actor, target: PartTarget, body: Omit<WriteBodyInput, 'defaultChecksum' | 'noInline'>): Promise<Result<UploadedPart>> {
    const found = await this.findUpload(target.bucket, target.key, target.uploadId);
    if (!found.ok) return found;
    const upload = found.value;
    const declared = body.checksum?.algorithm;
    const uploadAlg = parseChecksumAlgorithm(upload.checksumAlgorithm);
    if (declared && uploadAlg && declared !== uploadAlg) {
      return fail('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${uploadAlg.toLowerCase()}, actual checksum Type: ${declared.toLowerCase()}`);
    }
    // The upload's algorithm is computed for every part even when the client sent no value: the
    // object's checksum is built from the parts' ones.
    const written = await writeBody(this.d.placement, { ...body, defaultChecksum: uploadAlg, noInline: true }, this.digests);
    if (!written.ok) return written;
    const w = written.value;
    return this.commitPart(actor, target, upload, { size: w.size, etag: w.md5Hex, shards: w.shards, checksum: w.checksum });
  }

  /** UploadPartCopy: the bytes [start, end] of `source` become the part. */
  async uploadPartCopy(actor: Actor, target: PartTarget, source: ObjectRecord, start: number, end: number): Promise<Result<UploadedPart>> {
    const found = await this.findUpload(target.bucket, target.key, target.uploadId);
    if (!found.ok) return found;
    const upload = found.value;
    if (end - start + 1 > limits.copySourceBytesMax) return fail('InvalidRequest', copySourceTooLargeMessage);
    const copied = await copyRange(this.d.placement, source, start, end, parseChecksumAlgorithm(upload.checksumAlgorithm));
    return this.commitPart(actor, target, upload, copied);
  }

  private async commitPart(
    actor: Actor,
    target: PartTarget,
    upload: UploadRecord,
    w: { size: number; etag: string; shards: readonly ShardRef[]; checksum: { algorithm: ChecksumAlgorithm; value: string } | undefined },
  ): Promise<Result<UploadedPart>> {
    const checksums: ChecksumValue[] = w.checksum ? [{ ...w.checksum, type: 'FULL_OBJECT' }] : [];
    const ev = newEvent(this.d.clock, actor, upload.bucket, upload.key, '', {
      type: 'PartUploaded',
      uploadId: upload.uploadId,
      partNumber: target.partNumber,
      size: w.size,
      etag: w.etag,
      shards: w.shards,
      checksums,
    });
    const outcome = await commit(this.d, uploadSubject(upload.bucket, upload.uploadId), ev);
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    if (outcome.kind === 'rejected') return failRejected(outcome.code);
    return ok({ etag: w.etag, lastModifiedMs: ev.timeMs, checksum: w.checksum });
  }

  async complete(actor: Actor, input: CompleteInput): Promise<Result<CompletedUpload>> {
    if (!/^[0-9a-z]{1,64}$/.test(input.uploadId)) return fail('NoSuchUpload');
    // Parts acknowledged by other gateways are in the log: see them all before deciding.
    await fence(this.d, uploadSubject(input.bucket, input.uploadId));
    const found = await this.findUpload(input.bucket, input.key, input.uploadId);
    if (!found.ok) {
      // A retried completion (its answer was lost) finds the upload gone and the key holding
      // exactly the parts it names: answer as the first completion did, as S3 does.
      const done = found.reason === 'NoSuchUpload' ? this.completedBefore(input) : undefined;
      return done ? ok(done) : found;
    }
    if (hasCondition(input.condition)) {
      const pre = await precheckCondition(this.d, input.bucket, input.key, input.condition);
      if (!pre.ok) return pre;
    }
    const built = this.manifest(found.value, input);
    if (!built.ok) return built;
    const object = built.value;
    // The bucket's versioning decides the version id: catch up with its subject first, or a
    // versioning change made through another gateway would be missed (the null version replaced).
    await fence(this.d, bucketSubject(input.bucket));
    const bucket = this.d.store.bucket(input.bucket);
    if (!bucket) return fail('NoSuchBucket');
    const versionId = this.versionIdFor(bucket);
    crashPoint('multipart-complete-before-publish');
    const result = await commitToKey(this.d, input.bucket, input.key, input.condition, () =>
      newEvent(this.d.clock, actor, input.bucket, input.key, versionId, { type: 'MultipartCompleted', uploadId: input.uploadId, object }),
    );
    crashPoint('multipart-complete-after-commit');
    if (!result.ok) return result;
    if (result.value.kind === 'rejected') return failRejected(result.value.code);
    return ok({ etag: object.etag, versionId, versioned: bucket.versioning !== 'Unversioned', checksum: object.checksums[0] });
  }

  private completedBefore(input: CompleteInput): CompletedUpload | undefined {
    const current = this.d.store.object(input.bucket, input.key);
    const bucket = this.d.store.bucket(input.bucket);
    if (!current || !bucket || current.parts.length !== input.parts.length) return undefined;
    const same = current.parts.every((p, i) => p.partNumber === input.parts[i]?.partNumber && p.etag === input.parts[i]?.etag);
    if (!same) return undefined;
    return { etag: current.etag, versionId: current.versionId, versioned: bucket.versioning !== 'Unversioned', checksum: current.checksums[0] };
  }

  /** The completed object: the chosen parts' shards end to end, the multipart ETag and checksum. */
  private manifest(upload: UploadRecord, input: CompleteInput): Result<Omit<ObjectVersionPutBody, 'type'>> {
    const alg = parseChecksumAlgorithm(upload.checksumAlgorithm);
    const checksumType: ChecksumType = upload.checksumType === 'FULL_OBJECT' ? 'FULL_OBJECT' : 'COMPOSITE';
    const parts: ObjectPart[] = [];
    const partChecksums: { value: string; size: number }[] = [];
    const md5s: Buffer[] = [];
    let offset = 0;
    let previous = 0;
    // The list as a whole first (AWS answers InvalidPartOrder before looking at any part).
    for (const want of input.parts) {
      if (want.partNumber < 1 || want.partNumber > limits.multipartPartsMax) return fail('InvalidArgument', `Part number must be an integer between 1 and ${limits.multipartPartsMax}, inclusive`);
      if (want.partNumber <= previous) return fail('InvalidPartOrder');
      previous = want.partNumber;
    }
    for (let i = 0; i < input.parts.length; i++) {
      const want = input.parts[i];
      if (!want) continue;
      const rec = this.d.store.part(upload.uploadId, want.partNumber);
      if (!rec || rec.etag !== want.etag) return fail('InvalidPart');
      for (const [a, v] of want.checksums) {
        const stored = rec.checksums.find((c) => c.algorithm === a);
        if (stored && stored.value !== v) return fail('InvalidPart', `The ${a} checksum of part ${want.partNumber} does not match the uploaded part.`);
      }
      if (i < input.parts.length - 1 && rec.size < limits.multipartPartBytesMin) {
        return fail('EntityTooSmall', `Part ${want.partNumber} is ${rec.size} bytes; every part but the last must be at least ${limits.multipartPartBytesMin} bytes.`);
      }
      const partChecksum = alg ? rec.checksums.find((c) => c.algorithm === alg) : undefined;
      if (alg && !partChecksum) return fail('InvalidRequest', `Part ${want.partNumber} has no ${alg} checksum.`);
      if (partChecksum) partChecksums.push({ value: partChecksum.value, size: rec.size });
      parts.push({ partNumber: rec.partNumber, size: rec.size, etag: rec.etag, objectOffset: offset, checksums: rec.checksums });
      md5s.push(Buffer.from(rec.etag, 'hex'));
      offset += rec.size;
    }
    if (offset > limits.multipartObjectBytesMax) return fail('EntityTooLarge');
    const checksums: ChecksumValue[] = [];
    if (alg) {
      const value = multipartChecksum(alg, checksumType, partChecksums);
      checksums.push({ algorithm: alg, value, type: checksumType });
    }
    const exp = input.expectedChecksum;
    if (exp && checksumType === 'FULL_OBJECT' && exp.algorithm === alg && checksums[0]?.value !== exp.value) {
      return fail('BadDigest', `The ${exp.algorithm} you specified for the object did not match the calculated checksum.`);
    }
    const h = upload.headers;
    return ok({
      size: offset,
      etag: `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}`,
      contentType: h.contentType,
      contentEncoding: h.contentEncoding,
      contentDisposition: h.contentDisposition,
      contentLanguage: h.contentLanguage,
      cacheControl: h.cacheControl,
      expires: h.expires,
      userMetadata: h.userMetadata,
      // The projector assembles the shards from the part records (model/uploads.ts): an event
      // naming every shard of 10,000 parts would not fit in one message.
      shards: [],
      inlineData: undefined,
      checksums,
      storageClass: h.storageClass,
      parts,
    });
  }

  async abort(actor: Actor, bucket: string, key: string, uploadId: string): Promise<Result<void>> {
    const found = await this.findUpload(bucket, key, uploadId);
    if (!found.ok) return found;
    const ev = newEvent(this.d.clock, actor, bucket, key, '', { type: 'MultipartAborted', uploadId });
    const outcome = await commit(this.d, uploadSubject(bucket, uploadId), ev);
    if (outcome === 'conflict') return fail('ServiceUnavailable');
    return outcome.kind === 'applied' ? ok(undefined) : failRejected(outcome.code);
  }

  async listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, maxParts: number): Promise<Result<PartsPage>> {
    const found = await this.findUpload(bucket, key, uploadId);
    if (!found.ok) return found;
    const parts: PartRecord[] = [];
    let isTruncated = false;
    for (const p of this.d.store.uploadParts(uploadId, afterPartNumber)) {
      if (parts.length === maxParts) {
        isTruncated = true;
        break;
      }
      parts.push(p);
    }
    const last = parts[parts.length - 1];
    return ok({ upload: found.value, parts, isTruncated, nextPartNumberMarker: isTruncated && last ? last.partNumber : undefined });
  }

  async listUploads(q: UploadListQuery): Promise<Result<UploadListPage>> {
    if (!(await this.bucketExists(q.bucket))) return fail('NoSuchBucket');
    return ok(listUploads(this.d.store.uploads, q));
  }

  private async bucketExists(bucket: string): Promise<boolean> {
    if (this.d.store.bucket(bucket)) return true;
    await fence(this.d, bucketSubject(bucket));
    return this.d.store.bucket(bucket) !== undefined;
  }
}
