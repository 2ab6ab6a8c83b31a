/** GetObject and HeadObject: conditionals, Range, response-* overrides, streamed body. */
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../context.ts';
import { evaluateConditions, readConditions } from '../conditional.ts';
import { s3Error } from '../errors.ts';
import { objectResponseHeaders, responseOverrides } from '../object-headers.ts';
import { contentRange, invalidRangeError, parseRange } from '../range.ts';
import { readVersionId, recordForRead } from '../versions.ts';
import { headerValue } from '../route.ts';
import { selectPart } from '../part-number.ts';
import { admitLargeGet } from '../large-gets.ts';
import { limits } from '../../lib/limits.ts';
import { checksumHeaderName, parseChecksumAlgorithm } from '../../lib/checksums.ts';
import { releaseReadBuffer } from '../../lib/read-buffers.ts';
import type { ObjectRecord } from '../../model/records.ts';
import type { Lookup } from '../../gateway/engine.ts';

type FoundLookup = Extract<Lookup, { kind: 'found' }>;

/** The record to answer with, from `fenced` (a lookup already as new as the read fence) or a lookup now. */
function lookup(ctx: RequestContext, fenced?: Lookup): { rec: ObjectRecord; headers: Record<string, string> } {
  const found = recordForRead(ctx, fenced ?? ctx.engine.lookup(ctx.bucket, ctx.key, readVersionId(ctx)));
  const rec = found.record;
  const headers = { ...objectResponseHeaders(rec, headerValue(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED'), ...found.headers };
  const cond = evaluateConditions(readConditions(ctx.req.headers), { etag: rec.etag, lastModifiedMs: rec.lastModifiedMs });
  if (cond.kind === 'not-modified') {
    // 304 carries the validators but no body.
    throw s3Error('NotModified', undefined, {}, { ETag: headers['ETag'] ?? '', 'Last-Modified': headers['Last-Modified'] ?? '' });
  }
  if (cond.kind === 'precondition-failed') throw s3Error('PreconditionFailed', undefined, { Condition: cond.condition });
  return { rec, headers };
}

/** HeadObject reads nothing: it waits for the key's read fence (handlers/index.ts), then answers. */
export async function headObject(ctx: RequestContext): Promise<void> {
  await serve(ctx, false, undefined);
}

/**
 * GetObject overlaps the read fence with the body's first read: the shards of the record the
 * model holds now are fetched while the fence asks JetStream for the key's last sequence. After
 * the fence, the record is looked up again, and the early read is used only when that lookup
 * names the same version (same log sequence) and range; otherwise it is dropped and the read
 * starts over. Shards never change once written, so a read of the same version is the read the
 * fenced lookup would have made. (Not wrapped in keyFenced: it fences itself.)
 *
 * The second lookup is skipped when the fence's sequence is one the model had applied already
 * when the early lookup was made (read in the same synchronous stretch, so from the same LMDB
 * snapshot): that lookup then is a fenced one. This is the common case, a read of a key nobody
 * is writing right now. It holds for whatever the early lookup found: an inline body, a missing
 * key or bucket start no read, but their lookup is reused the same way.
 */
export async function getObject(ctx: RequestContext): Promise<void> {
  const fenced = ctx.engine.readFence(ctx.bucket, ctx.key);
  const appliedAtEarlyLookup = ctx.engine.appliedSeq;
  const looked = earlyLookup(ctx);
  const early = looked?.kind === 'found' ? startEarlyRead(ctx, looked) : undefined;
  try {
    const fencedSeq = await fenced;
    await serve(ctx, true, early, looked !== undefined && fencedSeq <= appliedAtEarlyLookup ? looked : undefined);
  } finally {
    // Released here only if serve never took it over: once taken, its chunks belong to serve's
    // loop (each released when the socket took it), even when serve fails halfway.
    if (early !== undefined && !early.taken) abandonEarlyRead(early);
  }
}

/** A body read started before the read fence answered. */
interface EarlyRead {
  /** The lookup the read was started from (its record's log sequence names the version read). */
  readonly found: FoundLookup;
  readonly start: number;
  readonly end: number;
  readonly chunks: AsyncGenerator<Buffer>;
  readonly first: Promise<IteratorResult<Buffer>>;
  /** Set by serve when it streams these chunks (it then owns their read buffers). */
  taken: boolean;
}

/** The bytes a GET of `rec` answers with, or an unsatisfiable range. */
function planRange(ctx: RequestContext, rec: ObjectRecord) {
  const rangeHeader = headerValue(ctx.req.headers, 'range');
  const part = selectPart(rec, ctx.target.query.get('partNumber'), rangeHeader);
  const range = part?.partsCount !== undefined ? { kind: 'range' as const, start: part.start, end: part.end } : parseRange(rangeHeader, rec.size);
  // The inclusive byte range answered (meaningless when the range is unsatisfiable).
  const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, rec.size - 1];
  return { rangeHeader, part, range, start, end };
}

/**
 * The lookup made before the fence answered, whatever it found (a missing key or bucket is an
 * answer too, reused like a found record); undefined when it failed, so the fenced lookup decides.
 */
function earlyLookup(ctx: RequestContext): Lookup | undefined {
  try {
    return ctx.engine.lookup(ctx.bucket, ctx.key, readVersionId(ctx));
  } catch {
    return undefined;
  }
}

function startEarlyRead(ctx: RequestContext, found: FoundLookup): EarlyRead | undefined {
  const rec = found.record;
  let start: number;
  let end: number;
  try {
    const plan = planRange(ctx, rec);
    if (plan.range.kind === 'unsatisfiable') return undefined;
    ({ start, end } = plan);
  } catch {
    return undefined; // the fenced lookup decides what to answer
  }
  // Inline bodies cost no read; large ones wait for their admission (large-gets.ts) as before.
  if (rec.inlineData !== undefined || end < start || end - start + 1 > limits.shardBytesMax) return undefined;
  const chunks = ctx.engine.readRange(rec, start, end);
  const first = chunks.next();
  first.catch(() => undefined); // surfaces when used; dropped otherwise
  return { found, start, end, chunks, first, taken: false };
}

function abandonEarlyRead(e: EarlyRead): void {
  void e.first
    .then(
      (r) => {
        if (r.done !== true) releaseReadBuffer(r.value);
      },
      () => undefined,
    )
    .finally(() => e.chunks.return(undefined).catch(() => undefined));
}

async function* continueEarlyRead(e: EarlyRead): AsyncGenerator<Buffer> {
  const first = await e.first;
  if (first.done === true) return;
  yield first.value;
  yield* e.chunks;
}

/** Resolves on 'drain' or 'close', leaving no listener behind (a long body waits many times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Answers a GET or HEAD, streaming `early`'s chunks (and marking it taken) when they are the ones
 * to send; `fenced` is a lookup already as new as the read fence, if there is one.
 */
async function serve(ctx: RequestContext, withBody: boolean, early: EarlyRead | undefined, fenced?: Lookup): Promise<void> {
  const { rec, headers } = lookup(ctx, fenced);
  for (const [param, header] of responseOverrides) {
    const v = ctx.target.query.get(param);
    if (v !== null) headers[header] = v;
  }
  const { rangeHeader, part, range, start, end } = planRange(ctx, rec);
  if (range.kind === 'unsatisfiable') throw invalidRangeError(rangeHeader ?? '', rec.size);
  const reuse = early !== undefined && early.found.record.seq === rec.seq && early.start === start && early.end === end;
  const res = ctx.res;
  for (const [k, v] of Object.entries(headers)) {
    // A whole-object checksum does not describe a part of the body: S3 leaves it out of a ranged
    // answer, and SDKs that validate it would reject every correct range.
    if (range.kind === 'range' && k.toLowerCase().startsWith('x-amz-checksum-')) continue;
    res.setHeader(k, v);
  }
  res.setHeader('Content-Length', Math.max(0, end - start + 1));
  if (range.kind === 'range') res.setHeader('Content-Range', contentRange(start, end, rec.size));
  if (part?.partsCount !== undefined) {
    res.setHeader('x-amz-mp-parts-count', part.partsCount);
    if (headerValue(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      for (const c of part.checksums) {
        const alg = parseChecksumAlgorithm(c.algorithm);
        if (alg) res.setHeader(checksumHeaderName(alg), c.value);
      }
    }
  }
  res.statusCode = range.kind === 'range' ? 206 : 200;
  if (!withBody || rec.size === 0) {
    res.end();
    return;
  }
  let closed = false;
  res.once('close', () => (closed = true));
  const release = end - start + 1 > limits.shardBytesMax ? await admitLargeGet() : undefined;
  if (reuse) early.taken = true;
  const chunks = reuse ? continueEarlyRead(early) : ctx.engine.readRange(rec, start, end);
  try {
    for await (const chunk of chunks) {
      if (closed) {
        releaseReadBuffer(chunk);
        return;
      }
      // A reused read buffer goes back to its pool once the socket has taken the bytes.
      if (!res.write(chunk, () => releaseReadBuffer(chunk))) await drainedOrClosed(res);
    }
  } finally {
    release?.();
  }
  res.end();
}
