import { describe, expect, it } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  SEGMENT_HEADER_BYTES,
  crc32Of,
  decodeRecord,
  decodeRecordHeader,
  decodeSegmentHeader,
  encodeRecordHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  segmentFileName,
  type RecordHeader,
} from '../../src/storage/segment-format.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';

function record(payload: Buffer, shardId: Buffer = Buffer.alloc(16, 7)): { header: RecordHeader; bytes: Buffer } {
  const header: RecordHeader = {
    type: RecordType.shard,
    shardId,
    payloadBytes: payload.length,
    payloadCrc32: crc32Of([payload]),
    writtenAtMs: 1_700_000_000_123,
  };
  return { header, bytes: Buffer.concat([encodeRecordHeader(header), payload]) };
}

describe('segment header', () => {
  it('round-trips', () => {
    const buf = encodeSegmentHeader({ segmentId: 42, nodeId: 'node-a_1' });
    expect(buf.length).toBe(SEGMENT_HEADER_BYTES);
    expect(buf.subarray(0, 8).toString('ascii')).toBe('STRSEG01');
    expect(decodeSegmentHeader(buf)).toEqual({ kind: 'ok', header: { segmentId: 42, nodeId: 'node-a_1' } });
  });

  it('reports a short header as torn and a damaged one as corrupt', () => {
    const buf = encodeSegmentHeader({ segmentId: 1, nodeId: 'n1' });
    expect(decodeSegmentHeader(buf.subarray(0, 10)).kind).toBe('torn');
    for (const at of [0, 9, 17, 30, 61]) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      expect(decodeSegmentHeader(bad).kind).toBe('corrupt');
    }
  });

  it('refuses node ids that cannot be a NATS subject token', () => {
    expect(() => encodeSegmentHeader({ segmentId: 1, nodeId: 'a.b' })).toThrow();
    expect(() => encodeSegmentHeader({ segmentId: 1, nodeId: 'x'.repeat(33) })).toThrow();
  });
});

describe('records', () => {
  it('round-trip random payloads', () => {
    const rng = createRng(testSeed('segment-format roundtrip'));
    for (let i = 0; i < 50; i++) {
      const payload = randomBuffer(rng, rng.below(70_000));
      const shardId = randomBuffer(rng, 16);
      const { header, bytes } = record(payload, shardId);
      expect(bytes.length).toBe(RECORD_HEADER_BYTES + payload.length);
      const decoded = decodeRecord(bytes);
      expect(decoded.kind).toBe('ok');
      if (decoded.kind !== 'ok') return;
      expect(decoded.header).toEqual(header);
      expect(decoded.payload.equals(payload)).toBe(true);
    }
  });

  it('computes the payload crc over parts as over the whole', () => {
    const whole = Buffer.from('hello, segment world');
    expect(crc32Of([whole.subarray(0, 5), whole.subarray(5, 6), whole.subarray(6)])).toBe(crc32Of([whole]));
  });

  it('reports every cut of a record as torn', () => {
    const { bytes } = record(Buffer.alloc(300, 1));
    for (let cut = 0; cut < bytes.length; cut++) {
      const result = decodeRecord(bytes.subarray(0, cut));
      expect(result.kind, `cut at ${cut}`).toBe('torn');
    }
  });

  it('tells a damaged header (length unknown) from a damaged payload (skippable)', () => {
    const { bytes } = record(Buffer.alloc(100, 2));
    for (let at = 0; at < RECORD_HEADER_BYTES; at++) {
      const bad = Buffer.from(bytes);
      bad[at] = (bad[at] ?? 0) ^ 0x80;
      const result = decodeRecord(bad);
      // Flipping a length bit can make the record look longer than the buffer: torn, also fine.
      expect(['corrupt', 'torn'], `byte ${at}`).toContain(result.kind);
      if (result.kind === 'corrupt') expect(result.recordBytes).toBeUndefined();
    }
    const bad = Buffer.from(bytes);
    bad[RECORD_HEADER_BYTES + 50] = (bad[RECORD_HEADER_BYTES + 50] ?? 0) ^ 0xff;
    expect(decodeRecord(bad)).toEqual({ kind: 'corrupt', reason: 'bad payload crc', recordBytes: RECORD_HEADER_BYTES + 100 });
  });

  it('never throws on garbage', () => {
    const rng = createRng(testSeed('segment-format garbage'));
    for (let i = 0; i < 500; i++) {
      const junk = randomBuffer(rng, rng.below(200));
      expect(['torn', 'corrupt']).toContain(decodeRecord(junk).kind);
      expect(['torn', 'corrupt']).toContain(decodeRecordHeader(junk, junk.length + rng.below(1000)).kind);
    }
    expect(decodeRecord(Buffer.alloc(RECORD_HEADER_BYTES + 10)).kind).toBe('corrupt'); // zeros
  });

  it('asserts on bad input to the encoder', () => {
    const ok = record(Buffer.alloc(1)).header;
    expect(() => encodeRecordHeader({ ...ok, shardId: Buffer.alloc(15) })).toThrow();
    expect(() => encodeRecordHeader({ ...ok, payloadBytes: 4 * 1024 * 1024 + 1 })).toThrow();
    expect(() => encodeRecordHeader({ ...ok, writtenAtMs: -1 })).toThrow();
  });
});

describe('segment file names', () => {
  it('sort like ids and parse back', () => {
    expect(segmentFileName(7)).toBe('00000000000000000007.seg');
    expect(parseSegmentFileName(segmentFileName(123456))).toBe(123456);
    expect(parseSegmentFileName('7.seg')).toBeUndefined();
    expect(parseSegmentFileName('00000000000000000000.seg')).toBeUndefined();
    const names = [10, 9, 100, 1].map(segmentFileName).sort();
    expect(names.map(parseSegmentFileName)).toEqual([1, 9, 10, 100]);
  });
});

describe('seal record payload', () => {
  it('given entries, when encoded and decoded, then round-trips and is found from the tail', async () => {
    const { SealBuilder, decodeSealPayload, sealPayloadBytesFromTail } = await import('../../src/storage/segment-format.ts');
    const entries = Array.from({ length: 5 }, (_, i) => ({
      shardId: Buffer.alloc(16, i + 1),
      offset: 64 + i * 1000,
      payloadBytes: 900 + i,
      payloadCrc32: 0xdead0000 + i,
      writtenAtMs: 1_700_000_000_000 + i,
    }));
    const payload = SealBuilder.from(entries).finish() as Buffer;
    expect(payload.length).toBe(16 + 5 * 40);
    expect(decodeSealPayload(payload)).toEqual(entries);
    expect(sealPayloadBytesFromTail(payload.subarray(payload.length - 8))).toBe(payload.length);
    expect(sealPayloadBytesFromTail(Buffer.from('12345678'))).toBeUndefined();
    const bad = Buffer.from(payload);
    bad.writeUInt32LE(6, 0);
    expect(decodeSealPayload(bad)).toBeUndefined();
  });
});

describe('seal builder', () => {
  /** The seal payload layout written out independently (BigInt u64s), to hold the builder to. */
  function referencePayload(entries: readonly { shardId: Buffer; offset: number; payloadBytes: number; payloadCrc32: number; writtenAtMs: number }[]): Buffer {
    const buf = Buffer.alloc(16 + entries.length * 40);
    buf.writeUInt32LE(entries.length, 0);
    entries.forEach((e, i) => {
      const at = 8 + i * 40;
      e.shardId.copy(buf, at);
      buf.writeBigUInt64LE(BigInt(e.offset), at + 16);
      buf.writeUInt32LE(e.payloadBytes, at + 24);
      buf.writeUInt32LE(e.payloadCrc32, at + 28);
      buf.writeBigUInt64LE(BigInt(e.writtenAtMs), at + 32);
    });
    buf.writeUInt32LE(buf.length, buf.length - 8);
    buf.write('SEAL', buf.length - 4, 'ascii');
    return buf;
  }

  it('given entries added one by one past its first capacity, when finished, then equals the layout and decodes back', async () => {
    const { SealBuilder, decodeSealPayload } = await import('../../src/storage/segment-format.ts');
    const rng = createRng(testSeed('seal builder'));
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      shardId: randomBuffer(rng, 16),
      // Offsets and times past 2^32: the u64 halves must both be right.
      offset: i % 3 === 0 ? 2 ** 33 + rng.below(1_000_000) : rng.below(2 ** 31),
      payloadBytes: rng.below(4 * 1024 * 1024),
      payloadCrc32: rng.below(2 ** 32),
      writtenAtMs: 1_790_000_000_000 + rng.below(1_000_000),
    }));
    const b = new SealBuilder(16);
    for (const e of entries) b.add(e.shardId, e.offset, e.payloadBytes, e.payloadCrc32, e.writtenAtMs);
    expect(b.entries).toBe(3000);
    const payload = b.finish();
    expect(payload?.equals(referencePayload(entries))).toBe(true);
    expect(decodeSealPayload(payload as Buffer)).toEqual(entries);
    expect(new SealBuilder().finish()?.equals(referencePayload([]))).toBe(true);
  });

  it('given more entries than one seal record holds, when finished, then gives no payload', async () => {
    const { SealBuilder, SEAL_ENTRIES_MAX } = await import('../../src/storage/segment-format.ts');
    const b = new SealBuilder();
    const id = Buffer.alloc(16, 7);
    for (let i = 0; i <= SEAL_ENTRIES_MAX; i++) b.add(id, i * 100, 10, 1, 1);
    expect(b.overflowed).toBe(true);
    expect(b.finish()).toBeUndefined();
  });
});
