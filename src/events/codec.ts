/**
 * Encodes and decodes events: domain `StrataEvent` ⇄ protobuf `Envelope` bytes. Pure.
 * 64-bit fields are checked to be safe integers on the way in and out, never truncated.
 */
import { assert } from '../lib/assert.ts';
import { strata } from './generated/events.js';
import type { ChecksumType, EventBody, ShardRef, StrataEvent } from './types.ts';

const pb = strata.events.v1;

type LongLike = number | { toNumber(): number; toString(): string };

function safeNumber(v: LongLike | null | undefined, field: string): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v.toString());
  assert(Number.isSafeInteger(n), `event field ${field} is not a safe integer: ${String(v)}`);
  return n;
}

export function encodeEvent(ev: StrataEvent): Uint8Array {
  assert(Number.isSafeInteger(ev.timeMs), 'timeMs must be a safe integer');
  const env: strata.events.v1.IEnvelope = {
    eventId: ev.eventId,
    type: ev.body.type,
    timeMs: ev.timeMs,
    bucket: ev.bucket,
    key: ev.key,
    versionId: ev.versionId,
    actor: ev.actor,
    requestId: ev.requestId,
    sourceAddress: ev.sourceAddress,
  };
  const b = ev.body;
  switch (b.type) {
    case 'BucketCreated':
      env.bucketCreated = { region: b.region, owner: b.owner };
      break;
    case 'BucketDeleted':
      env.bucketDeleted = {};
      break;
    case 'ObjectDeleted':
      env.objectDeleted = {};
      break;
    case 'DeleteMarkerPut':
      env.deleteMarkerPut = {};
      break;
    case 'ObjectVersionPut':
      assert(Number.isSafeInteger(b.size) && b.size >= 0, 'size must be a safe non-negative integer');
      env.objectVersionPut = {
        size: b.size,
        etag: b.etag,
        contentType: b.contentType,
        contentEncoding: b.contentEncoding,
        contentDisposition: b.contentDisposition,
        contentLanguage: b.contentLanguage,
        cacheControl: b.cacheControl,
        expires: b.expires,
        userMetadata: { ...b.userMetadata },
        shards: b.shards.map((s) => ({
          shardId: Buffer.from(s.shardId, 'hex'),
          objectOffset: s.objectOffset,
          length: s.length,
          crc32: s.crc32,
          nodes: [...s.nodes],
        })),
        inlineData: b.inlineData ?? new Uint8Array(0),
        checksums: b.checksums.map((c) => ({ ...c })),
        storageClass: b.storageClass,
      };
      break;
  }
  return pb.Envelope.encode(env).finish();
}

function decodeBody(env: strata.events.v1.Envelope): EventBody {
  switch (env.body) {
    case 'bucketCreated':
      return { type: 'BucketCreated', region: env.bucketCreated?.region ?? '', owner: env.bucketCreated?.owner ?? '' };
    case 'bucketDeleted':
      return { type: 'BucketDeleted' };
    case 'objectDeleted':
      return { type: 'ObjectDeleted' };
    case 'deleteMarkerPut':
      return { type: 'DeleteMarkerPut' };
    case 'objectVersionPut': {
      const p = env.objectVersionPut;
      assert(p, 'objectVersionPut body missing');
      const shards: ShardRef[] = (p.shards ?? []).map((s) => ({
        shardId: Buffer.from(s.shardId ?? new Uint8Array(0)).toString('hex'),
        objectOffset: safeNumber(s.objectOffset, 'objectOffset'),
        length: s.length ?? 0,
        crc32: s.crc32 ?? 0,
        nodes: [...(s.nodes ?? [])],
      }));
      const inline = p.inlineData && p.inlineData.length > 0 ? Uint8Array.from(p.inlineData) : undefined;
      return {
        type: 'ObjectVersionPut',
        size: safeNumber(p.size, 'size'),
        etag: p.etag ?? '',
        contentType: p.contentType ?? '',
        contentEncoding: p.contentEncoding ?? '',
        contentDisposition: p.contentDisposition ?? '',
        contentLanguage: p.contentLanguage ?? '',
        cacheControl: p.cacheControl ?? '',
        expires: p.expires ?? '',
        userMetadata: { ...(p.userMetadata ?? {}) },
        shards,
        inlineData: inline,
        checksums: (p.checksums ?? []).map((c) => ({
          algorithm: c.algorithm ?? '',
          value: c.value ?? '',
          type: (c.type === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT') satisfies ChecksumType,
        })),
        storageClass: p.storageClass ?? '',
      };
    }
    default:
      // An event type this build does not know: a newer writer added it. Readers skip it.
      return { type: 'Unknown' } as never;
  }
}

export type DecodeResult = { ok: true; event: StrataEvent } | { ok: false; reason: 'unknown-type' | 'malformed'; detail: string };

export function decodeEvent(bytes: Uint8Array): DecodeResult {
  let env: strata.events.v1.Envelope;
  try {
    env = pb.Envelope.decode(bytes);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: String(err) };
  }
  if (!env.body) return { ok: false, reason: 'unknown-type', detail: env.type ?? '' };
  const body = decodeBody(env);
  return {
    ok: true,
    event: {
      eventId: env.eventId ?? '',
      timeMs: safeNumber(env.timeMs, 'timeMs'),
      bucket: env.bucket ?? '',
      key: env.key ?? '',
      versionId: env.versionId ?? '',
      actor: env.actor ?? '',
      requestId: env.requestId ?? '',
      sourceAddress: env.sourceAddress ?? '',
      body,
    },
  };
}
