import { describe, expect, it } from 'vitest';
import type { EventBody, LoggedEvent } from '../../src/events/types.ts';
import { evolve, type ModelOp, type ModelView } from '../../src/model/evolve.ts';
import type { BucketRecord, ObjectRecord } from '../../src/model/records.ts';

/** A map-backed view, to drive the pure evolve step by step. */
class MemoryModel implements ModelView {
  buckets = new Map<string, BucketRecord>();
  objects = new Map<string, ObjectRecord>();
  bucket(n: string) {
    return this.buckets.get(n);
  }
  object(b: string, k: string) {
    return this.objects.get(`${b}\0${k}`);
  }
  bucketIsEmpty(n: string) {
    return ![...this.objects.keys()].some((k) => k.startsWith(`${n}\0`));
  }
  apply(ops: readonly ModelOp[]) {
    for (const op of ops) {
      if (op.kind === 'put-bucket') this.buckets.set(op.record.name, op.record);
      if (op.kind === 'del-bucket') this.buckets.delete(op.name);
      if (op.kind === 'put-object') this.objects.set(`${op.bucket}\0${op.key}`, op.record);
      if (op.kind === 'del-object') this.objects.delete(`${op.bucket}\0${op.key}`);
    }
  }
}

let seq = 0;
function ev(bucket: string, key: string, body: EventBody, versionId = 'null'): LoggedEvent {
  seq++;
  return { seq, eventId: `e${seq}`, timeMs: 1000 + seq, bucket, key, versionId, actor: 'AK', requestId: 'r', sourceAddress: '', body };
}
const put = (size: number): EventBody => ({
  type: 'ObjectVersionPut', size, etag: 'e', contentType: '', contentEncoding: '', contentDisposition: '', contentLanguage: '',
  cacheControl: '', expires: '', userMetadata: {}, shards: [], inlineData: new Uint8Array(size), checksums: [], storageClass: 'STANDARD', parts: [],
});

describe('read model evolve', () => {
  it('given no bucket, when an object is put, then the put is rejected with NoSuchBucket and nothing changes', () => {
    const m = new MemoryModel();
    const r = evolve(m, ev('b', 'k', put(1)));
    expect(r.outcome).toEqual({ kind: 'rejected', code: 'NoSuchBucket' });
    expect(r.ops).toEqual([]);
  });

  it('given a bucket, when a key is put twice, then the second replaces the first and reports it', () => {
    const m = new MemoryModel();
    m.apply(evolve(m, ev('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' })).ops);
    const first = evolve(m, ev('b', 'k', put(1)));
    m.apply(first.ops);
    const second = evolve(m, ev('b', 'k', put(2)));
    expect(second.outcome.kind).toBe('applied');
    expect(second.outcome.kind === 'applied' && second.outcome.replaced?.size).toBe(1);
    m.apply(second.ops);
    expect(m.object('b', 'k')?.size).toBe(2);
  });

  it('given a non-empty bucket, when it is deleted, then BucketNotEmpty; after the object goes, the delete applies', () => {
    const m = new MemoryModel();
    m.apply(evolve(m, ev('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' })).ops);
    m.apply(evolve(m, ev('b', 'k', put(1))).ops);
    expect(evolve(m, ev('b', '', { type: 'BucketDeleted' })).outcome).toEqual({ kind: 'rejected', code: 'BucketNotEmpty' });
    m.apply(evolve(m, ev('b', 'k', { type: 'ObjectDeleted' })).ops);
    const del = evolve(m, ev('b', '', { type: 'BucketDeleted' }));
    expect(del.outcome.kind).toBe('applied');
    m.apply(del.ops);
    expect(m.bucket('b')).toBeUndefined();
  });

  it('given an existing bucket, when it is created again, then BucketAlreadyOwnedByYou', () => {
    const m = new MemoryModel();
    m.apply(evolve(m, ev('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' })).ops);
    expect(evolve(m, ev('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' })).outcome).toEqual({ kind: 'rejected', code: 'BucketAlreadyOwnedByYou' });
  });

  it('given a deleted key, when it is deleted again, then nothing changes', () => {
    const m = new MemoryModel();
    m.apply(evolve(m, ev('b', '', { type: 'BucketCreated', region: 'r', owner: 'o' })).ops);
    expect(evolve(m, ev('b', 'nope', { type: 'ObjectDeleted' }))).toEqual({ ops: [], outcome: { kind: 'applied' } });
  });
});
