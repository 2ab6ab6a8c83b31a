/**
 * The pure parts of multipart uploads: upload events through `evolve` (on a map-backed view),
 * the multipart checksums as AWS defines them, and the body writer's shard offsets when chunks
 * do not line up with shard boundaries.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventBody, LoggedEvent, ObjectVersionPutBody, ShardRef } from '../../src/events/types.ts';
import { multipartChecksum } from '../../src/gateway/multipart-checksums.ts';
import { writeBody } from '../../src/gateway/object-writer.ts';
import type { ShardPlacement, ShardStoreLike } from '../../src/gateway/types.ts';
import { checksumOf } from '../../src/lib/checksums.ts';
import { evolve, type ModelOp, type ModelView } from '../../src/model/evolve.ts';
import type { BucketRecord, ObjectRecord, VersionRecord } from '../../src/model/records.ts';
import type { PartRecord, UploadRecord } from '../../src/model/uploads.ts';

class MemoryModel implements ModelView {
  buckets = new Map<string, BucketRecord>();
  /** Latest version of each key (enough for unversioned buckets). */
  versions = new Map<string, VersionRecord>();
  uploads = new Map<string, UploadRecord>();
  parts = new Map<string, PartRecord>();
  bucket(n: string) {
    return this.buckets.get(n);
  }
  object(b: string, k: string): ObjectRecord | undefined {
    const v = this.versions.get(`${b}\0${k}`);
    return v && !v.deleteMarker ? v : undefined;
  }
  listed(b: string, k: string) {
    return this.object(b, k) !== undefined;
  }
  latestVersion(b: string, k: string): VersionRecord | undefined {
    return this.versions.get(`${b}\0${k}`);
  }
  version(b: string, k: string, v: string): VersionRecord | undefined {
    const o = this.latestVersion(b, k);
    return o?.versionId === v ? o : undefined;
  }
  versionBefore(): VersionRecord | undefined {
    return undefined;
  }
  bucketIsEmpty(n: string) {
    return ![...this.versions.keys(), ...[...this.uploads.values()].map((u) => `${u.bucket}\0`)].some((k) => k.startsWith(`${n}\0`));
  }
  upload(b: string, k: string, id: string) {
    return this.uploads.get(`${b}\0${k}\0${id}`);
  }
  part(id: string, n: number) {
    return this.parts.get(`${id}\0${n}`);
  }
  uploadParts(id: string, after = 0) {
    return [...this.parts.values()].filter((p) => p.uploadId === id && p.partNumber > after).sort((x, y) => x.partNumber - y.partNumber);
  }
  apply(ops: readonly ModelOp[]) {
    for (const op of ops) {
      if (op.kind === 'put-bucket') this.buckets.set(op.record.name, op.record);
      if (op.kind === 'put-version') this.versions.set(`${op.bucket}\0${op.key}`, op.record);
      if (op.kind === 'del-version') this.versions.delete(`${op.bucket}\0${op.key}`);
      if (op.kind === 'put-upload') this.uploads.set(`${op.record.bucket}\0${op.record.key}\0${op.record.uploadId}`, op.record);
      if (op.kind === 'del-upload') this.uploads.delete(`${op.bucket}\0${op.key}\0${op.uploadId}`);
      if (op.kind === 'put-part') this.parts.set(`${op.record.uploadId}\0${op.record.partNumber}`, op.record);
      if (op.kind === 'del-part') this.parts.delete(`${op.uploadId}\0${op.partNumber}`);
    }
  }
}

let seq = 0;
function ev(key: string, body: EventBody): LoggedEvent {
  seq++;
  return { seq, eventId: `e${seq}`, timeMs: 1000 + seq, bucket: 'b', key, versionId: 'null', actor: 'AK', requestId: 'r', sourceAddress: '', body };
}
const shard = (id: string, objectOffset: number, length: number): ShardRef => ({ shardId: id.padEnd(32, '0'), objectOffset, length, crc32: 1, nodes: ['n1'] });
const headers = { contentType: '', contentEncoding: '', contentDisposition: '', contentLanguage: '', cacheControl: '', expires: '', userMetadata: {}, storageClass: 'STANDARD' };
const part = (n: number, size: number, id: string): EventBody => ({ type: 'PartUploaded', uploadId: 'u1', partNumber: n, size, etag: `etag${n}`, shards: [shard(id, 0, size)], checksums: [] });
function object(parts: { n: number; size: number; id: string }[]): Omit<ObjectVersionPutBody, 'type'> {
  let off = 0;
  const ps = parts.map((p) => {
    const r = { partNumber: p.n, size: p.size, etag: `etag${p.n}`, objectOffset: off, checksums: [] };
    off += p.size;
    return r;
  });
  return {
    ...headers,
    size: off,
    etag: 'x-2',
    shards: parts.map((p, i) => shard(p.id, ps[i]?.objectOffset ?? 0, p.size)),
    inlineData: undefined,
    checksums: [],
    parts: ps,
  };
}

function step(m: MemoryModel, e: LoggedEvent) {
  const r = evolve(m, e);
  m.apply(r.ops);
  return r;
}

describe('upload events', () => {
  it('given an upload with three parts, when completed with two, then the object holds their shards and every part record goes', () => {
    const m = new MemoryModel();
    step(m, ev('', { type: 'BucketCreated', region: 'r', owner: 'o' }));
    expect(step(m, ev('k', { type: 'MultipartUploadCreated', uploadId: 'u1', headers, checksumAlgorithm: '', checksumType: '' })).outcome.kind).toBe('applied');
    step(m, ev('k', part(1, 10, 'a')));
    step(m, ev('k', part(2, 20, 'b')));
    step(m, ev('k', part(3, 30, 'c')));
    const done = step(m, ev('k', { type: 'MultipartCompleted', uploadId: 'u1', object: object([{ n: 1, size: 10, id: 'a' }, { n: 3, size: 30, id: 'c' }]) }));
    expect(done.outcome.kind).toBe('applied');
    // The version first, then the part records (so chosen shards never lose their last reference).
    const kinds = done.ops.map((o) => o.kind);
    expect(kinds.indexOf('put-version')).toBeLessThan(kinds.indexOf('del-part'));
    expect(kinds.filter((k) => k === 'del-part')).toHaveLength(3);
    expect(m.object('b', 'k')?.shards.map((s) => [s.objectOffset, s.length])).toEqual([[0, 10], [10, 30]]);
    expect(m.parts.size).toBe(0);
    expect(m.uploads.size).toBe(0);
  });

  it('given a completion without shard refs (as the gateway sends it), then the projector assembles them from the parts', () => {
    const m = new MemoryModel();
    step(m, ev('', { type: 'BucketCreated', region: 'r', owner: 'o' }));
    step(m, ev('k', { type: 'MultipartUploadCreated', uploadId: 'u1', headers, checksumAlgorithm: '', checksumType: '' }));
    step(m, ev('k', part(1, 10, 'a')));
    step(m, ev('k', part(2, 5, 'b')));
    const r = step(m, ev('k', { type: 'MultipartCompleted', uploadId: 'u1', object: { ...object([{ n: 1, size: 10, id: 'a' }, { n: 2, size: 5, id: 'b' }]), shards: [] } }));
    expect(r.outcome.kind).toBe('applied');
    expect(m.object('b', 'k')?.shards.map((s) => [s.shardId.slice(0, 1), s.objectOffset, s.length])).toEqual([['a', 0, 10], ['b', 10, 5]]);
  });

  it('given a completion whose part was re-uploaded before it in the log, then it is rejected with InvalidPart', () => {
    const m = new MemoryModel();
    step(m, ev('', { type: 'BucketCreated', region: 'r', owner: 'o' }));
    step(m, ev('k', { type: 'MultipartUploadCreated', uploadId: 'u1', headers, checksumAlgorithm: '', checksumType: '' }));
    step(m, ev('k', part(1, 10, 'a')));
    step(m, ev('k', { ...part(1, 12, 'z'), etag: 'etag1' } as EventBody));
    const r = step(m, ev('k', { type: 'MultipartCompleted', uploadId: 'u1', object: object([{ n: 1, size: 10, id: 'a' }]) }));
    expect(r.outcome).toEqual({ kind: 'rejected', code: 'InvalidPart' });
    expect(m.object('b', 'k')).toBeUndefined();
  });

  it('given an aborted upload, then a part or a completion for it is rejected with NoSuchUpload', () => {
    const m = new MemoryModel();
    step(m, ev('', { type: 'BucketCreated', region: 'r', owner: 'o' }));
    step(m, ev('k', { type: 'MultipartUploadCreated', uploadId: 'u1', headers, checksumAlgorithm: '', checksumType: '' }));
    step(m, ev('k', part(1, 10, 'a')));
    const aborted = step(m, ev('k', { type: 'MultipartAborted', uploadId: 'u1' }));
    expect(aborted.ops.map((o) => o.kind)).toEqual(['del-part', 'del-upload']);
    expect(step(m, ev('k', part(2, 10, 'b'))).outcome).toEqual({ kind: 'rejected', code: 'NoSuchUpload' });
    expect(step(m, ev('k', { type: 'MultipartCompleted', uploadId: 'u1', object: object([{ n: 1, size: 10, id: 'a' }]) })).outcome).toEqual({ kind: 'rejected', code: 'NoSuchUpload' });
  });
});

describe('multipart checksums', () => {
  const parts = [Buffer.from('hello '), Buffer.from('multipart '), Buffer.from('world')];
  const whole = Buffer.concat(parts);
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`FULL_OBJECT ${alg} equals the checksum of the whole object`, () => {
      const v = multipartChecksum(alg, 'FULL_OBJECT', parts.map((p) => ({ value: checksumOf(alg, p).toString('base64'), size: p.length })));
      expect(v).toBe(checksumOf(alg, whole).toString('base64'));
    });
  }
  it('COMPOSITE is the checksum of the concatenated part digests, suffixed with the part count', () => {
    const digests = parts.map((p) => createHash('sha256').update(p).digest());
    const v = multipartChecksum('SHA256', 'COMPOSITE', digests.map((d, i) => ({ value: d.toString('base64'), size: parts[i]?.length ?? 0 })));
    expect(v).toBe(`${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-3`);
  });
});

describe('writeBody', () => {
  it('gives shards their true offsets when body chunks do not line up with shard boundaries', async () => {
    const stored = new Map<string, Buffer>();
    const store: ShardStoreLike = {
      nodeId: 'n1',
      putShard: async (shardId, data) => {
        const b = Buffer.concat(data);
        stored.set(shardId, b);
        return { shardId, nodeId: 'n1', size: b.length, crc32: 0 };
      },
      readShard: async (shardId, offset, length) => (stored.get(shardId) ?? Buffer.alloc(0)).subarray(offset, offset + length),
    };
    const placement: ShardPlacement = { forWrite: () => store, forNode: () => store, shardBytes: 1000 };
    const body = Buffer.from(Array.from({ length: 3500 }, (_, i) => i % 251));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let at = 0; at < body.length; at += 700) yield body.subarray(at, at + 700);
    }
    const r = await writeBody(placement, { body: chunks(), expectedLength: body.length, contentMd5: undefined, sha256Hex: undefined, checksum: undefined, defaultChecksum: undefined });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.shards.map((s) => [s.objectOffset, s.length])).toEqual([[0, 1000], [1000, 1000], [2000, 1000], [3000, 500]]);
    for (const s of r.value.shards) expect(stored.get(s.shardId)?.equals(body.subarray(s.objectOffset, s.objectOffset + s.length))).toBe(true);
  });
});
