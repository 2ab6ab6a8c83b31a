/** ListParts (GET ?uploadId) and ListMultipartUploads (GET bucket?uploads), with their markers. */
import type { ChecksumType } from '../../events/types.ts';
import { limits } from '../../lib/limits.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { sendXml, unwrap } from '../respond.ts';
import { checksumsXml, readIntParam } from '../write-conditions.ts';
import { listMultipartUploadsXml, listPartsXml } from '../xml/responses.ts';

function checksumType(t: string): ChecksumType | undefined {
  return t === 'COMPOSITE' || t === 'FULL_OBJECT' ? t : undefined;
}

export async function listParts(ctx: RequestContext): Promise<void> {
  const q = ctx.target.query;
  const uploadId = q.get('uploadId') ?? '';
  const maxParts = readIntParam(q.get('max-parts'), 'max-parts', limits.listPartsMax, limits.listPartsMax);
  const marker = readIntParam(q.get('part-number-marker'), 'part-number-marker', 0, limits.multipartPartsMax);
  const page = unwrap(await ctx.engine.multipart.listParts(ctx.bucket, ctx.key, uploadId, marker, maxParts), ctx);
  const u = page.upload;
  sendXml(
    ctx,
    200,
    listPartsXml({
      bucket: ctx.bucket,
      key: ctx.key,
      uploadId,
      partNumberMarker: marker,
      nextPartNumberMarker: page.nextPartNumberMarker,
      maxParts,
      isTruncated: page.isTruncated,
      parts: page.parts.map((p) => ({ partNumber: p.partNumber, lastModifiedMs: p.lastModifiedMs, etag: p.etag, size: p.size, checksums: checksumsXml(p.checksums) })),
      initiator: { id: u.owner, displayName: u.owner },
      owner: { id: ctx.config.ownerId, displayName: ctx.config.ownerName },
      storageClass: u.headers.storageClass || 'STANDARD',
      checksumAlgorithm: u.checksumAlgorithm || undefined,
      checksumType: checksumType(u.checksumType),
    }),
  );
}

export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const q = ctx.target.query;
  const maxUploads = readIntParam(q.get('max-uploads'), 'max-uploads', limits.listUploadsMax, limits.listUploadsMax);
  const rawEncoding = q.get('encoding-type');
  if (rawEncoding !== null && rawEncoding.toLowerCase() !== 'url') {
    throw s3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: rawEncoding });
  }
  const query = {
    bucket: ctx.bucket,
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    keyMarker: q.get('key-marker') ?? '',
    uploadIdMarker: q.get('key-marker') ? (q.get('upload-id-marker') ?? '') : '',
    maxUploads,
  };
  const page = unwrap(await ctx.engine.multipart.listUploads(query), ctx);
  sendXml(
    ctx,
    200,
    listMultipartUploadsXml({
      bucket: ctx.bucket,
      keyMarker: query.keyMarker,
      uploadIdMarker: query.uploadIdMarker,
      nextKeyMarker: page.nextKeyMarker,
      nextUploadIdMarker: page.nextUploadIdMarker,
      prefix: query.prefix,
      delimiter: query.delimiter,
      maxUploads,
      isTruncated: page.isTruncated,
      encodingType: rawEncoding === null ? undefined : 'url',
      uploads: page.uploads.map((u) => ({
        key: u.key,
        uploadId: u.uploadId,
        initiatedMs: u.initiatedMs,
        initiator: { id: u.owner, displayName: u.owner },
        owner: { id: ctx.config.ownerId, displayName: ctx.config.ownerName },
        storageClass: u.headers.storageClass || 'STANDARD',
        checksumAlgorithm: u.checksumAlgorithm || undefined,
        checksumType: checksumType(u.checksumType),
      })),
      commonPrefixes: page.commonPrefixes,
    }),
  );
}
