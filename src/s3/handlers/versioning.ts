/** GetBucketVersioning, PutBucketVersioning and ListObjectVersions. */
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { readSmallBody, sendEmpty, sendXml, unwrap } from '../respond.ts';
import { parseVersioningConfiguration } from '../xml/requests.ts';
import { listObjectVersionsXml, versioningConfigurationXml } from '../xml/responses.ts';
import { readEncodingType, readMaxKeys } from './list-objects.ts';

export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  const b = ctx.engine.headBucket(ctx.bucket);
  if (!b) throw s3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  sendXml(ctx, 200, versioningConfigurationXml(b.versioning === 'Unversioned' ? {} : { status: b.versioning }));
}

export async function putBucketVersioning(ctx: RequestContext): Promise<void> {
  const conf = parseVersioningConfiguration(await readSmallBody(ctx));
  if (conf.mfaDelete === 'Enabled') throw s3Error('NotImplemented', 'MFA Delete is not implemented by Strata.');
  if (conf.status === undefined) throw s3Error('MalformedXML');
  unwrap(await ctx.engine.putBucketVersioning(ctx.actor, ctx.bucket, conf.status), ctx);
  sendEmpty(ctx, 200);
}

export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const q = ctx.target.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const versionIdMarker = q.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw s3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  const maxKeys = readMaxKeys(ctx);
  const encodingType = readEncodingType(ctx);
  const marker = versionIdMarker === '' ? undefined : ctx.engine.lookup(ctx.bucket, keyMarker, versionIdMarker);
  const markerSeq = marker?.kind === 'found' ? marker.record.seq : marker?.kind === 'delete-marker' ? ctx.engine.versionSeq(ctx.bucket, keyMarker, versionIdMarker) : undefined;
  const page = unwrap(ctx.engine.listVersions({ bucket: ctx.bucket, prefix, delimiter, keyMarker, versionIdMarker, maxKeys, markerSeq }), ctx);
  const owner = { id: ctx.config.ownerId, displayName: ctx.config.ownerName };
  sendXml(
    ctx,
    200,
    listObjectVersionsXml({
      bucket: ctx.bucket,
      prefix,
      delimiter,
      maxKeys,
      isTruncated: page.isTruncated,
      encodingType,
      commonPrefixes: page.commonPrefixes,
      keyMarker,
      versionIdMarker,
      nextKeyMarker: page.nextKeyMarker,
      nextVersionIdMarker: page.nextVersionIdMarker,
      entries: page.entries.map(({ key, record, isLatest }) =>
        record.deleteMarker
          ? { kind: 'delete-marker' as const, key, versionId: record.versionId, isLatest, lastModifiedMs: record.lastModifiedMs, owner }
          : {
              kind: 'version' as const,
              key,
              versionId: record.versionId,
              isLatest,
              lastModifiedMs: record.lastModifiedMs,
              owner,
              etag: record.etag,
              size: record.size,
              storageClass: record.storageClass || 'STANDARD',
            },
      ),
    }),
  );
}
