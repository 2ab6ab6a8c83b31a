import { describe, expect, it } from 'vitest';
import $protobuf from 'protobufjs/minimal.js';
import { decodeEvent, decodeLoggedEvent, encodeEvent } from '../../src/events/codec.ts';
import { strata } from '../../src/events/generated/events.js';
import type { EventBody, StrataEvent } from '../../src/events/types.ts';
import { bucketFromToken, bucketSubject, bucketToken, keyFromToken, keyToken, objectSubject } from '../../src/events/subjects.ts';

const meta = {
  eventId: 'e-1',
  timeMs: 1_795_000_000_123,
  bucket: 'my.bucket',
  key: 'a/b c+d%e?f#g',
  versionId: 'null',
  actor: 'AK',
  requestId: 'RID',
  sourceAddress: '127.0.0.1',
};

const object = {
  size: 2 ** 40,
  etag: '0123456789abcdef0123456789abcdef',
  contentType: 'text/plain',
  contentEncoding: 'gzip',
  contentDisposition: 'attachment',
  contentLanguage: 'en',
  cacheControl: 'no-cache',
  expires: 'Thu, 01 Dec 2094 16:00:00 GMT',
  userMetadata: { a: '1', 'b-c': 'x y' },
  shards: [{ shardId: '00112233445566778899aabbccddeeff', objectOffset: 2 ** 33, length: 4194304, crc32: 0xffffffff, nodes: ['n1', 'n2'] }],
  inlineData: undefined,
  checksums: [{ algorithm: 'CRC32', value: 'AAAAAA==', type: 'FULL_OBJECT' as const }],
  storageClass: 'STANDARD',
  parts: [{ partNumber: 1, size: 5 * 2 ** 20, etag: 'ab', objectOffset: 0, checksums: [] }],
};

const bodies: EventBody[] = [
  { type: 'BucketCreated', region: 'us-east-1', owner: 'AK' },
  { type: 'BucketDeleted' },
  { type: 'ObjectVersionPut', ...object },
  { type: 'ObjectVersionPut', ...object, shards: [], inlineData: new Uint8Array([1, 2, 3]), parts: [] },
  { type: 'ObjectDeleted' },
  { type: 'DeleteMarkerPut' },
  { type: 'BucketVersioningConfigured', status: 'Enabled' },
  { type: 'BucketVersioningConfigured', status: 'Suspended' },
  {
    type: 'MultipartUploadCreated',
    uploadId: 'u1',
    headers: { contentType: 'x', contentEncoding: '', contentDisposition: '', contentLanguage: '', cacheControl: '', expires: '', userMetadata: { k: 'v' }, storageClass: 'STANDARD' },
    checksumAlgorithm: 'CRC32C',
    checksumType: 'COMPOSITE',
  },
  { type: 'PartUploaded', uploadId: 'u1', partNumber: 10000, size: 5 * 2 ** 30, etag: 'ff', shards: object.shards, checksums: [] },
  { type: 'MultipartCompleted', uploadId: 'u1', object },
  { type: 'MultipartAborted', uploadId: 'u1' },
  { type: 'ShardCorrupted', shardId: '00112233445566778899aabbccddeeff', nodeId: 'n1', detail: 'crc' },
  { type: 'ShardRepaired', shardId: '00112233445566778899aabbccddeeff', nodeId: 'n1', sourceNodeId: 'n2' },
];

describe('event codec', () => {
  it.each(bodies.map((b, i) => [`${i}:${b.type}`, b] as const))('round-trips %s exactly', (_name, body) => {
    const ev: StrataEvent = { ...meta, body };
    const back = decodeEvent(encodeEvent(ev));
    expect(back.ok).toBe(true);
    if (back.ok) expect(back.event).toEqual(ev);
  });

  it('round-trips a bucket guard, and decodes an event without one without the field', () => {
    const guarded: StrataEvent = { ...meta, bucketGuard: { createdSeq: 2 ** 40, versioning: 'Suspended' }, body: { type: 'ObjectVersionPut', ...object } };
    const back = decodeEvent(encodeEvent(guarded));
    expect(back.ok && back.event).toEqual(guarded);
    const plain = decodeLoggedEvent(encodeEvent({ ...meta, body: { type: 'ObjectVersionPut', ...object } }), 7);
    expect(plain.ok && 'bucketGuard' in plain.event).toBe(false);
  });

  it('rejects sizes that are not safe integers instead of truncating', () => {
    expect(() => encodeEvent({ ...meta, body: { type: 'ObjectVersionPut', ...object, size: 2 ** 53 } })).toThrow(/safe/);
  });

  it('refuses to decode 64-bit fields past the safe integers instead of truncating them', () => {
    // protobufjs takes a Long for 64-bit fields (its typings say number).
    const u64 = (n: bigint): number => new $protobuf.util.Long(Number(n & 0xffff_ffffn) | 0, Number(n >> 32n) | 0, true) as unknown as number;
    for (const size of [2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
      const bytes = strata.events.v1.Envelope.encode({ eventId: 'e', type: 'ObjectVersionPut', timeMs: 1, objectVersionPut: { size: u64(size) } }).finish();
      expect(() => decodeEvent(bytes)).toThrow(/safe integer/);
    }
    const edge = strata.events.v1.Envelope.encode({ eventId: 'e', type: 'ObjectVersionPut', timeMs: 1, objectVersionPut: { size: u64(2n ** 53n - 1n) } }).finish();
    const ok = decodeEvent(edge);
    expect(ok.ok && ok.event.body.type === 'ObjectVersionPut' && ok.event.body.size).toBe(2 ** 53 - 1);
  });

  it('decodes a logged event with its sequence, equal to the plain decode plus seq', () => {
    const ev: StrataEvent = { ...meta, body: { type: 'ObjectVersionPut', ...object } };
    const plain = decodeEvent(encodeEvent(ev));
    const logged = decodeLoggedEvent(encodeEvent(ev), 42);
    expect(plain.ok && logged.ok).toBe(true);
    if (plain.ok && logged.ok) expect(logged.event).toEqual({ ...plain.event, seq: 42 });
    expect(decodeLoggedEvent(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 1).ok).toBe(false);
  });

  it('reports garbage as malformed, not as an event', () => {
    const r = decodeEvent(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(r.ok).toBe(false);
  });

  it('reports an envelope without a known body as unknown-type', () => {
    const r = decodeEvent(new Uint8Array([0x12, 0x03, 0x46, 0x6f, 0x6f])); // field 2 "Foo"
    expect(r).toEqual({ ok: false, reason: 'unknown-type', detail: 'Foo' });
  });
});

describe('subjects', () => {
  it('encodes bucket and key into single subject tokens, reversibly', () => {
    for (const key of ['a.b', 'x y', '*', '>', 'ü/ß', '/lead', 'a//b']) {
      const t = keyToken(key);
      expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(keyFromToken(t)).toBe(key);
    }
    expect(bucketToken('a.b.c')).toBe('a~b~c');
    expect(bucketFromToken('a~b~c')).toBe('a.b.c');
    expect(bucketSubject('a.b')).toBe('strata.ev.a~b.b');
    expect(objectSubject('a.b', 'k.1')).toBe(`strata.ev.a~b.o.${Buffer.from('k.1').toString('base64url')}`);
  });
});
