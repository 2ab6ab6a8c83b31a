/**
 * Encodes and decodes events: domain `StrataEvent` ⇄ protobuf `Envelope` bytes. Pure.
 * 64-bit fields are checked to be safe integers on the way in and out, never truncated.
 */
import { assert } from '../lib/assert.ts';
import { strata } from './generated/events.js';
import type { BucketGuard, ChecksumType, ChecksumValue, EventBody, LoggedEvent, ObjectHeadersValue, ObjectPart, ObjectVersionPutBody, ShardRef, StrataEvent } from './types.ts';

const pb = strata.events.v1;
type IObjectVersionPut = strata.events.v1.IObjectVersionPut;

type LongLike = number | { toNumber(): number; toString(): string };

function safeNumber(v: LongLike | null | undefined, field: string): number {
  if (v === null || v === undefined) return 0;
  // toNumber is exact for safe integers and gives a value that is not a safe integer otherwise,
  // so the check below still refuses every truncation (toString was the slow part of a decode).
  const n = typeof v === 'number' ? v : v.toNumber();
  // The message only on failure: building it calls Long.toString, which was a visible share of a replay.
  if (!Number.isSafeInteger(n)) assert(false, `event field ${field} is not a safe integer: ${String(v)}`);
  return n;
}

function safeIn(n: number, field: string): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) assert(false, `${field} must be a safe non-negative integer`);
  return n;
}

// ---- encoding ---------------------------------------------------------------------------

const encShard = (s: ShardRef): strata.events.v1.IShardRef => ({
  shardId: Buffer.from(s.shardId, 'hex'),
  objectOffset: safeIn(s.objectOffset, 'objectOffset'),
  length: s.length,
  crc32: s.crc32,
  nodes: [...s.nodes],
});
const encChecksum = (c: ChecksumValue): strata.events.v1.IChecksum => ({ algorithm: c.algorithm, value: c.value, type: c.type });
const encPart = (p: ObjectPart): strata.events.v1.IObjectPart => ({
  partNumber: p.partNumber,
  size: safeIn(p.size, 'part size'),
  etag: p.etag,
  objectOffset: safeIn(p.objectOffset, 'part offset'),
  checksums: p.checksums.map(encChecksum),
});
const encHeaders = (h: ObjectHeadersValue): strata.events.v1.IObjectHeaders => ({ ...h, userMetadata: { ...h.userMetadata } });

function encObject(b: Omit<ObjectVersionPutBody, 'type'>): IObjectVersionPut {
  return {
    size: safeIn(b.size, 'size'),
    etag: b.etag,
    contentType: b.contentType,
    contentEncoding: b.contentEncoding,
    contentDisposition: b.contentDisposition,
    contentLanguage: b.contentLanguage,
    cacheControl: b.cacheControl,
    expires: b.expires,
    userMetadata: { ...b.userMetadata },
    shards: b.shards.map(encShard),
    inlineData: b.inlineData ?? new Uint8Array(0),
    checksums: b.checksums.map(encChecksum),
    storageClass: b.storageClass,
    parts: b.parts.map(encPart),
  };
}

function encBody(env: strata.events.v1.IEnvelope, b: EventBody): void {
  switch (b.type) {
    case 'BucketCreated':
      env.bucketCreated = { region: b.region, owner: b.owner };
      return;
    case 'BucketDeleted':
      env.bucketDeleted = {};
      return;
    case 'ObjectDeleted':
      env.objectDeleted = {};
      return;
    case 'DeleteMarkerPut':
      env.deleteMarkerPut = {};
      return;
    case 'ObjectVersionPut':
      env.objectVersionPut = encObject(b);
      return;
    case 'BucketVersioningConfigured':
      env.bucketVersioningConfigured = { status: b.status };
      return;
    case 'MultipartUploadCreated':
      env.multipartUploadCreated = { uploadId: b.uploadId, headers: encHeaders(b.headers), checksumAlgorithm: b.checksumAlgorithm, checksumType: b.checksumType };
      return;
    case 'PartUploaded':
      env.partUploaded = {
        uploadId: b.uploadId,
        partNumber: b.partNumber,
        size: safeIn(b.size, 'part size'),
        etag: b.etag,
        shards: b.shards.map(encShard),
        checksums: b.checksums.map(encChecksum),
      };
      return;
    case 'MultipartCompleted':
      env.multipartCompleted = { uploadId: b.uploadId, object: encObject(b.object) };
      return;
    case 'MultipartAborted':
      env.multipartAborted = { uploadId: b.uploadId };
      return;
    case 'ShardCorrupted':
      env.shardCorrupted = { shardId: Buffer.from(b.shardId, 'hex'), nodeId: b.nodeId, detail: b.detail };
      return;
    case 'ShardRepaired':
      env.shardRepaired = { shardId: Buffer.from(b.shardId, 'hex'), nodeId: b.nodeId, sourceNodeId: b.sourceNodeId };
      return;
  }
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
    ...(ev.bucketGuard === undefined ? {} : { bucketGuard: { createdSeq: ev.bucketGuard.createdSeq, versioning: ev.bucketGuard.versioning } }),
  };
  encBody(env, ev.body);
  return pb.Envelope.encode(env).finish();
}

// ---- decoding ---------------------------------------------------------------------------

const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('hex');

const decShard = (s: strata.events.v1.IShardRef): ShardRef => ({
  shardId: hex(s.shardId),
  objectOffset: safeNumber(s.objectOffset, 'objectOffset'),
  length: s.length ?? 0,
  crc32: s.crc32 ?? 0,
  nodes: [...(s.nodes ?? [])],
});
const decChecksum = (c: strata.events.v1.IChecksum): ChecksumValue => ({
  algorithm: c.algorithm ?? '',
  value: c.value ?? '',
  type: (c.type === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT') satisfies ChecksumType,
});
const decPart = (p: strata.events.v1.IObjectPart): ObjectPart => ({
  partNumber: p.partNumber ?? 0,
  size: safeNumber(p.size, 'part size'),
  etag: p.etag ?? '',
  objectOffset: safeNumber(p.objectOffset, 'part offset'),
  checksums: (p.checksums ?? []).map(decChecksum),
});
const decHeaders = (h: strata.events.v1.IObjectHeaders | null | undefined): ObjectHeadersValue => ({
  contentType: h?.contentType ?? '',
  contentEncoding: h?.contentEncoding ?? '',
  contentDisposition: h?.contentDisposition ?? '',
  contentLanguage: h?.contentLanguage ?? '',
  cacheControl: h?.cacheControl ?? '',
  expires: h?.expires ?? '',
  userMetadata: { ...(h?.userMetadata ?? {}) },
  storageClass: h?.storageClass ?? '',
});

function decObject(p: IObjectVersionPut | null | undefined): Omit<ObjectVersionPutBody, 'type'> {
  assert(p, 'object body missing');
  const inline = p.inlineData && p.inlineData.length > 0 ? Uint8Array.from(p.inlineData) : undefined;
  return {
    size: safeNumber(p.size, 'size'),
    etag: p.etag ?? '',
    contentType: p.contentType ?? '',
    contentEncoding: p.contentEncoding ?? '',
    contentDisposition: p.contentDisposition ?? '',
    contentLanguage: p.contentLanguage ?? '',
    cacheControl: p.cacheControl ?? '',
    expires: p.expires ?? '',
    userMetadata: { ...(p.userMetadata ?? {}) },
    shards: (p.shards ?? []).map(decShard),
    inlineData: inline,
    checksums: (p.checksums ?? []).map(decChecksum),
    storageClass: p.storageClass ?? '',
    parts: (p.parts ?? []).map(decPart),
  };
}

function decodeBody(env: strata.events.v1.Envelope): EventBody | undefined {
  switch (env.body) {
    case 'bucketCreated':
      return { type: 'BucketCreated', region: env.bucketCreated?.region ?? '', owner: env.bucketCreated?.owner ?? '' };
    case 'bucketDeleted':
      return { type: 'BucketDeleted' };
    case 'objectDeleted':
      return { type: 'ObjectDeleted' };
    case 'deleteMarkerPut':
      return { type: 'DeleteMarkerPut' };
    case 'objectVersionPut':
    {
      // The type added to the object decObject built, not spread into a copy of it (the copy of
      // ~15 fields was a visible share of a replay's allocations).
      const body = decObject(env.objectVersionPut) as Omit<ObjectVersionPutBody, 'type'> & { type?: 'ObjectVersionPut' };
      body.type = 'ObjectVersionPut';
      return body as ObjectVersionPutBody;
    }
    case 'bucketVersioningConfigured': {
      const status = env.bucketVersioningConfigured?.status;
      return { type: 'BucketVersioningConfigured', status: status === 'Enabled' ? 'Enabled' : 'Suspended' };
    }
    case 'multipartUploadCreated': {
      const m = env.multipartUploadCreated;
      return {
        type: 'MultipartUploadCreated',
        uploadId: m?.uploadId ?? '',
        headers: decHeaders(m?.headers),
        checksumAlgorithm: m?.checksumAlgorithm ?? '',
        checksumType: m?.checksumType ?? '',
      };
    }
    case 'partUploaded': {
      const p = env.partUploaded;
      return {
        type: 'PartUploaded',
        uploadId: p?.uploadId ?? '',
        partNumber: p?.partNumber ?? 0,
        size: safeNumber(p?.size, 'part size'),
        etag: p?.etag ?? '',
        shards: (p?.shards ?? []).map(decShard),
        checksums: (p?.checksums ?? []).map(decChecksum),
      };
    }
    case 'multipartCompleted':
      return { type: 'MultipartCompleted', uploadId: env.multipartCompleted?.uploadId ?? '', object: decObject(env.multipartCompleted?.object) };
    case 'multipartAborted':
      return { type: 'MultipartAborted', uploadId: env.multipartAborted?.uploadId ?? '' };
    case 'shardCorrupted':
      return { type: 'ShardCorrupted', shardId: hex(env.shardCorrupted?.shardId), nodeId: env.shardCorrupted?.nodeId ?? '', detail: env.shardCorrupted?.detail ?? '' };
    case 'shardRepaired':
      return {
        type: 'ShardRepaired',
        shardId: hex(env.shardRepaired?.shardId),
        nodeId: env.shardRepaired?.nodeId ?? '',
        sourceNodeId: env.shardRepaired?.sourceNodeId ?? '',
      };
    default:
      // A body case this build does not know (written by a newer build): readers skip it.
      return undefined;
  }
}

type DecodeFailure = { ok: false; reason: 'unknown-type' | 'malformed'; detail: string };

export type DecodeResult = { ok: true; event: StrataEvent } | DecodeFailure;

export type LoggedDecodeResult = { ok: true; event: LoggedEvent } | DecodeFailure;

function decodeEnvelope(bytes: Uint8Array): { env: strata.events.v1.Envelope; body: EventBody } | DecodeFailure {
  let env: strata.events.v1.Envelope;
  try {
    env = pb.Envelope.decode(bytes);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: String(err) };
  }
  const body = decodeBody(env);
  if (!body) return { ok: false, reason: 'unknown-type', detail: env.type ?? '' };
  return { env, body };
}

export function decodeEvent(bytes: Uint8Array): DecodeResult {
  const d = decodeEnvelope(bytes);
  if (!('env' in d)) return d;
  return { ok: true, event: eventOf(d.env, d.body) };
}

/** decodeEvent for a message read from the stream at `seq`: the event built once, with its sequence. */
export function decodeLoggedEvent(bytes: Uint8Array, seq: number): LoggedDecodeResult {
  const d = decodeEnvelope(bytes);
  if (!('env' in d)) return d;
  // Adding the sequence to the event just built, rather than copying it into a new object.
  const event = eventOf(d.env, d.body) as StrataEvent & { seq: number };
  event.seq = seq;
  return { ok: true, event };
}

function eventOf(env: strata.events.v1.Envelope, body: EventBody): StrataEvent {
  const event: { -readonly [K in keyof StrataEvent]: StrataEvent[K] } = {
    eventId: env.eventId ?? '',
    timeMs: safeNumber(env.timeMs, 'timeMs'),
    bucket: env.bucket ?? '',
    key: env.key ?? '',
    versionId: env.versionId ?? '',
    actor: env.actor ?? '',
    requestId: env.requestId ?? '',
    sourceAddress: env.sourceAddress ?? '',
    body,
  };
  // Added only when present, so the events of a replay without guards keep one shape.
  if (env.bucketGuard != null) event.bucketGuard = decBucketGuard(env.bucketGuard);
  return event;
}

function decBucketGuard(g: strata.events.v1.IBucketGuard): BucketGuard {
  return { createdSeq: safeNumber(g.createdSeq, 'bucketGuard.createdSeq'), versioning: g.versioning ?? '' };
}
