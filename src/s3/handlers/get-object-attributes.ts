/**
 * GetObjectAttributes: GET /bucket/key?attributes with x-amz-object-attributes (ETag, Checksum,
 * ObjectParts, StorageClass, ObjectSize). Only the requested attributes are answered. Parts are
 * listed (paged by x-amz-max-parts / x-amz-part-number-marker) for multipart objects uploaded
 * with checksums, as S3 does; otherwise only their count.
 */
import { limits } from '../../lib/limits.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { formatHttpDate } from '../http-dates.ts';
import { sendXml } from '../respond.ts';
import { readVersionId, recordForRead } from '../versions.ts';
import { checksumsXml, readIntParam } from '../write-conditions.ts';
import { getObjectAttributesXml, type ObjectAttributesParts } from '../xml/responses.ts';

const known = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);

export async function getObjectAttributes(ctx: RequestContext): Promise<void> {
  const wanted = new Set(
    (ctx.header('x-amz-object-attributes') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  if (wanted.size === 0) throw s3Error('InvalidArgument', 'Empty attribute list', { ArgumentName: 'x-amz-object-attributes' });
  for (const w of wanted) if (!known.has(w)) throw s3Error('InvalidArgument', `Invalid attribute name specified: ${w}`, { ArgumentName: 'x-amz-object-attributes', ArgumentValue: w });
  const found = recordForRead(ctx, ctx.engine.lookup(ctx.bucket, ctx.key, readVersionId(ctx)));
  const rec = found.record;
  let objectParts: ObjectAttributesParts | undefined;
  if (wanted.has('ObjectParts') && rec.parts.length > 0) {
    const maxParts = readIntParam(ctx.header('x-amz-max-parts') ?? null, 'max-parts', limits.listPartsMax, limits.listPartsMax);
    const marker = readIntParam(ctx.header('x-amz-part-number-marker') ?? null, 'part-number-marker', 0, limits.multipartPartsMax);
    const withChecksums = rec.parts.every((p) => p.checksums.length > 0);
    const after = rec.parts.filter((p) => p.partNumber > marker);
    const page = after.slice(0, maxParts);
    const isTruncated = after.length > page.length;
    objectParts = {
      totalPartsCount: rec.parts.length,
      partNumberMarker: marker,
      nextPartNumberMarker: page[page.length - 1]?.partNumber ?? marker,
      maxParts,
      isTruncated,
      ...(withChecksums ? { parts: page.map((p) => ({ partNumber: p.partNumber, size: p.size, checksums: checksumsXml(p.checksums) })) } : {}),
    };
  }
  const checksum = rec.checksums[0];
  for (const [k, v] of Object.entries(found.headers)) ctx.res.setHeader(k, v);
  ctx.res.setHeader('Last-Modified', formatHttpDate(rec.lastModifiedMs));
  sendXml(
    ctx,
    200,
    getObjectAttributesXml({
      ...(wanted.has('ETag') ? { etag: rec.etag } : {}),
      ...(wanted.has('Checksum') && checksum ? { checksums: checksumsXml(rec.checksums), checksumType: checksum.type } : {}),
      ...(objectParts ? { objectParts } : {}),
      ...(wanted.has('StorageClass') ? { storageClass: rec.storageClass || 'STANDARD' } : {}),
      ...(wanted.has('ObjectSize') ? { objectSize: rec.size } : {}),
    }),
  );
}
