/** GetObject and HeadObject: conditionals, Range, response-* overrides, streamed body. */
import { once } from 'node:events';
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

function lookup(ctx: RequestContext): { rec: ObjectRecord; headers: Record<string, string> } {
  const found = recordForRead(ctx, ctx.engine.lookup(ctx.bucket, ctx.key, readVersionId(ctx)));
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

export async function headObject(ctx: RequestContext): Promise<void> {
  await serve(ctx, false);
}

export async function getObject(ctx: RequestContext): Promise<void> {
  await serve(ctx, true);
}

async function serve(ctx: RequestContext, withBody: boolean): Promise<void> {
  const { rec, headers } = lookup(ctx);
  for (const [param, header] of responseOverrides) {
    const v = ctx.target.query.get(param);
    if (v !== null) headers[header] = v;
  }
  const rangeHeader = headerValue(ctx.req.headers, 'range');
  const part = selectPart(rec, ctx.target.query.get('partNumber'), rangeHeader);
  const range = part?.partsCount !== undefined ? { kind: 'range' as const, start: part.start, end: part.end } : parseRange(rangeHeader, rec.size);
  if (range.kind === 'unsatisfiable') throw invalidRangeError(rangeHeader ?? '', rec.size);
  const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, rec.size - 1];
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
  try {
    for await (const chunk of ctx.engine.readRange(rec, start, end)) {
      if (closed) {
        releaseReadBuffer(chunk);
        return;
      }
      // A reused read buffer goes back to its pool once the socket has taken the bytes.
      if (!res.write(chunk, () => releaseReadBuffer(chunk))) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  } finally {
    release?.();
  }
  res.end();
}
