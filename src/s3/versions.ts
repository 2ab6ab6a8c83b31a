/** The versionId query parameter and the answers S3 gives for versions and delete markers. */
import type { Lookup } from '../gateway/engine.ts';
import { isWellFormedVersionId } from '../lib/ids.ts';
import type { ObjectRecord } from '../model/records.ts';
import type { RequestContext } from './context.ts';
import { s3Error } from './errors.ts';
import { formatHttpDate } from './http-dates.ts';

/** `?versionId=`: undefined when absent; InvalidArgument when it cannot be one of ours. */
export function readVersionId(ctx: RequestContext): string | undefined {
  const v = ctx.target.query.get('versionId');
  if (v === null) return undefined;
  if (!isWellFormedVersionId(v)) throw s3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: v });
  return v;
}

/**
 * The record GET/HEAD serve, or the error S3 answers: a latest version that is a delete marker is
 * 404 NoSuchKey with `x-amz-delete-marker: true`; asking for a delete marker by version id is 405.
 */
export function recordForRead(ctx: RequestContext, r: Lookup): { record: ObjectRecord; headers: Record<string, string> } {
  switch (r.kind) {
    case 'no-bucket':
      throw s3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
    case 'missing':
      throw s3Error('NoSuchKey', undefined, { Key: ctx.key });
    case 'no-version':
      throw s3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: ctx.target.query.get('versionId') ?? '' });
    case 'delete-marker': {
      const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': r.versionId, 'Last-Modified': formatHttpDate(r.lastModifiedMs) };
      if (r.explicit) throw s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.req.method ?? 'GET', ResourceType: 'DeleteMarker' }, { ...headers, Allow: 'DELETE' });
      throw s3Error('NoSuchKey', undefined, { Key: ctx.key }, headers);
    }
    case 'found':
      return { record: r.record, headers: r.versioned ? { 'x-amz-version-id': r.record.versionId } : {} };
  }
}
