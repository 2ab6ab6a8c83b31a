/** Small helpers shared by handlers: answering XML, mapping engine reasons to S3 errors. */
import type { Result } from '../gateway/types.ts';
import type { RequestContext } from './context.ts';
import { s3Error, type S3Error } from './errors.ts';
import { limits } from '../lib/limits.ts';

export function sendXml(ctx: RequestContext, status: number, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  ctx.res.statusCode = status;
  ctx.res.setHeader('Content-Type', 'application/xml');
  ctx.res.setHeader('Content-Length', body.length);
  ctx.res.end(body);
}

export function sendEmpty(ctx: RequestContext, status: number): void {
  ctx.res.statusCode = status;
  if (status !== 204 && status !== 304) ctx.res.setHeader('Content-Length', 0);
  ctx.res.end();
}

/** The one function that turns an engine reason into the S3 error to send. */
export function reasonError(r: Extract<Result<unknown>, { ok: false }>, ctx: RequestContext): S3Error {
  const extra: Record<string, string> = {};
  if (r.reason === 'NoSuchBucket' || r.reason === 'BucketNotEmpty' || r.reason === 'BucketAlreadyOwnedByYou') extra['BucketName'] = ctx.bucket;
  if (r.reason === 'NoSuchKey') extra['Key'] = ctx.key;
  if (r.reason === 'NoSuchUpload') extra['UploadId'] = ctx.target.query.get('uploadId') ?? '';
  return s3Error(r.reason, r.message, extra);
}

export function unwrap<T>(r: Result<T>, ctx: RequestContext): T {
  if (!r.ok) throw reasonError(r, ctx);
  return r.value;
}

/** Reads a small request body (XML), refusing more than limits.xmlBodyBytesMax before reading it. */
export async function readSmallBody(ctx: RequestContext): Promise<Buffer> {
  const declared = ctx.declaredLength;
  if (declared !== undefined && declared > limits.xmlBodyBytesMax) throw s3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed.');
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.body()) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limits.xmlBodyBytesMax) throw s3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed.');
    parts.push(b);
  }
  return Buffer.concat(parts);
}
