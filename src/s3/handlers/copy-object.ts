/**
 * CopyObject: PUT /bucket/key with x-amz-copy-source. Metadata only: the new version shares the
 * source's shards (src/gateway/copy.ts), so a copy of any size costs one small event.
 */
import { nullVersionId } from '../../events/types.ts';
import type { ObjectHeaders } from '../../gateway/types.ts';
import type { ObjectRecord } from '../../model/records.ts';
import type { RequestContext } from '../context.ts';
import { evaluateCopySourceConditions, readCopySourceConditions } from '../conditional.ts';
import { s3Error } from '../errors.ts';
import { readObjectHeaders } from '../object-headers.ts';
import { sendXml, unwrap } from '../respond.ts';
import { checksumsXml, parseCopySource, readWriteCondition, type CopySource } from '../write-conditions.ts';
import { copyObjectResultXml } from '../xml/responses.ts';

export interface SourceObject {
  readonly source: CopySource;
  readonly record: ObjectRecord;
  /** Whether the source bucket has versioning: then answers carry x-amz-copy-source-version-id. */
  readonly versioned: boolean;
}

/** The object x-amz-copy-source names, after its x-amz-copy-source-if-* conditions. */
export async function readCopySourceObject(ctx: RequestContext): Promise<SourceObject> {
  const source = parseCopySource(ctx.header('x-amz-copy-source') ?? '');
  await ctx.engine.readFence(source.bucket, source.key);
  const r = ctx.engine.lookup(source.bucket, source.key, source.versionId);
  let found: { record: ObjectRecord; versioned: boolean };
  switch (r.kind) {
    case 'no-bucket':
      throw s3Error('NoSuchBucket', undefined, { BucketName: source.bucket });
    case 'missing':
      throw s3Error('NoSuchKey', undefined, { Key: source.key });
    case 'no-version':
      throw s3Error('NoSuchVersion', undefined, { Key: source.key, VersionId: source.versionId ?? '' });
    case 'delete-marker':
      if (r.explicit) throw s3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
      throw s3Error('NoSuchKey', undefined, { Key: source.key });
    case 'found':
      found = r;
  }
  const cond = evaluateCopySourceConditions(readCopySourceConditions(ctx.req.headers), { etag: found.record.etag, lastModifiedMs: found.record.lastModifiedMs });
  if (cond.kind !== 'ok') throw s3Error('PreconditionFailed', undefined, { Condition: cond.condition });
  return { source, record: found.record, versioned: found.versioned };
}

export function setCopySourceVersion(ctx: RequestContext, src: SourceObject): void {
  if (src.versioned) ctx.res.setHeader('x-amz-copy-source-version-id', src.record.versionId);
}

export async function copyObject(ctx: RequestContext): Promise<void> {
  const src = await readCopySourceObject(ctx);
  const directive = (ctx.header('x-amz-metadata-directive') ?? 'COPY').trim().toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw s3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  }
  const requested = readObjectHeaders(ctx.req.headers);
  const storageClassSet = ctx.header('x-amz-storage-class') !== undefined;
  const headers: ObjectHeaders =
    directive === 'REPLACE'
      ? requested
      : { ...headersOf(src.record), storageClass: storageClassSet ? requested.storageClass : src.record.storageClass };
  const self = src.source.bucket === ctx.bucket && src.source.key === ctx.key && src.source.versionId === undefined;
  if (self && directive === 'COPY' && !storageClassSet) {
    throw s3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const out = unwrap(
    await ctx.engine.copyObject(ctx.actor, { bucket: ctx.bucket, key: ctx.key, source: src.record, headers, condition: readWriteCondition(ctx.req.headers) }),
    ctx,
  );
  setCopySourceVersion(ctx, src);
  const dest = ctx.engine.headBucket(ctx.bucket);
  // As PutObject: a copy that wrote the null version (suspended bucket) announces no version id.
  if (dest && dest.versioning !== 'Unversioned' && out.versionId !== nullVersionId) ctx.res.setHeader('x-amz-version-id', out.versionId);
  const type = out.checksums[0]?.type;
  sendXml(ctx, 200, copyObjectResultXml({ etag: out.etag, lastModifiedMs: out.lastModifiedMs, checksums: checksumsXml(out.checksums), ...(type ? { checksumType: type } : {}) }));
}

function headersOf(rec: ObjectRecord): ObjectHeaders {
  return {
    contentType: rec.contentType,
    contentEncoding: rec.contentEncoding,
    contentDisposition: rec.contentDisposition,
    contentLanguage: rec.contentLanguage,
    cacheControl: rec.cacheControl,
    expires: rec.expires,
    userMetadata: rec.userMetadata,
    storageClass: rec.storageClass,
  };
}
