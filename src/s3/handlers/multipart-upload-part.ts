/**
 * UploadPart (PUT ?partNumber&uploadId, body streamed into shards like PutObject) and
 * UploadPartCopy (the same with x-amz-copy-source and optionally x-amz-copy-source-range).
 */
import { checksumHeaderName } from '../../lib/checksums.ts';
import { limits } from '../../lib/limits.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { readContentMd5, readDeclaredChecksum } from '../object-headers.ts';
import { parseCopySourceRange } from '../range.ts';
import { sendEmpty, sendXml, unwrap } from '../respond.ts';
import { checksumsXml, readPartNumber } from '../write-conditions.ts';
import { copyPartResultXml } from '../xml/responses.ts';
import { readCopySourceObject, setCopySourceVersion } from './copy-object.ts';

function target(ctx: RequestContext): { bucket: string; key: string; uploadId: string; partNumber: number } {
  return { bucket: ctx.bucket, key: ctx.key, uploadId: ctx.target.query.get('uploadId') ?? '', partNumber: readPartNumber(ctx.target.query.get('partNumber')) };
}

export async function uploadPart(ctx: RequestContext): Promise<void> {
  const t = target(ctx);
  const length = ctx.declaredLength;
  if (length === undefined) throw s3Error('MissingContentLength');
  if (length > limits.objectBytesMax) {
    throw s3Error('EntityTooLarge', undefined, { ProposedSize: String(length), MaxSizeAllowed: String(limits.objectBytesMax) });
  }
  const contentMd5 = readContentMd5(ctx.req.headers);
  const declared = readDeclaredChecksum(ctx.req.headers);
  const checksum = declared
    ? { algorithm: declared.algorithm, expected: declared.source === 'header' ? () => declared.value : () => ctx.trailer(declared.header) }
    : undefined;
  const out = unwrap(
    await ctx.engine.multipart.uploadPart(ctx.actor, t, { body: ctx.body({ checksumComparedByReader: true }), expectedLength: length, contentMd5, sha256Hex: undefined, checksum }),
    ctx,
  );
  ctx.res.setHeader('ETag', `"${out.etag}"`);
  if (out.checksum) ctx.res.setHeader(checksumHeaderName(out.checksum.algorithm), out.checksum.value);
  sendEmpty(ctx, 200);
}

export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const t = target(ctx);
  const src = await readCopySourceObject(ctx);
  const rangeHeader = ctx.header('x-amz-copy-source-range');
  let start = 0;
  let end = src.record.size - 1;
  if (rangeHeader !== undefined) {
    const range = parseCopySourceRange(rangeHeader, src.record.size);
    if (!range.ok) throw range.error;
    start = range.start;
    end = range.end;
  }
  const out = unwrap(await ctx.engine.multipart.uploadPartCopy(ctx.actor, t, src.record, start, end), ctx);
  setCopySourceVersion(ctx, src);
  const checksums = out.checksum ? checksumsXml([{ ...out.checksum, type: 'FULL_OBJECT' }]) : undefined;
  sendXml(ctx, 200, copyPartResultXml({ etag: out.etag, lastModifiedMs: out.lastModifiedMs, checksums }));
}
