/**
 * ListObjectsV2 and ListObjects (v1). Continuation tokens are opaque to clients: the base64url of
 * a version tag and the last key or common prefix returned. A position, not a snapshot, so a
 * token stays valid however the bucket changes between pages.
 */
import { limits } from '../../lib/limits.ts';
import type { ListPage } from '../../projections/listing/list.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { sendXml, unwrap } from '../respond.ts';
import { listObjectsV1Xml, listObjectsV2Xml, type ListedObject } from '../xml/responses.ts';

const tokenVersion = '1:';

export function encodeContinuationToken(last: string): string {
  return Buffer.from(tokenVersion + last, 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): string | undefined {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(tokenVersion) || Buffer.from(text, 'utf8').toString('base64url') !== token) return undefined;
  return text.slice(tokenVersion.length);
}

export function readMaxKeys(ctx: RequestContext): number {
  const raw = ctx.target.query.get('max-keys');
  if (raw === null) return limits.listKeysMax;
  if (!/^\d+$/.test(raw)) throw s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw });
  return Math.min(Number(raw), limits.listKeysMax);
}

export function readEncodingType(ctx: RequestContext): 'url' | undefined {
  const raw = ctx.target.query.get('encoding-type');
  if (raw === null || raw === '') return undefined;
  if (raw.toLowerCase() !== 'url') throw s3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: raw });
  return 'url';
}

function listed(page: ListPage, withOwner: boolean, ctx: RequestContext): ListedObject[] {
  // One object of one shape per entry (a page has up to a thousand), the owner shared by all.
  const owner = withOwner ? { id: ctx.config.ownerId, displayName: ctx.config.ownerName } : undefined;
  return page.contents.map(({ key, record }) => {
    const checksummed = record.checksumAlgorithms.length > 0;
    return {
      key,
      lastModifiedMs: record.lastModifiedMs,
      etag: record.etag,
      size: record.size,
      storageClass: record.storageClass || 'STANDARD',
      owner,
      checksumAlgorithms: checksummed ? record.checksumAlgorithms : undefined,
      checksumType: checksummed ? (record.checksumType === 'COMPOSITE' ? ('COMPOSITE' as const) : ('FULL_OBJECT' as const)) : undefined,
    };
  });
}

export async function listObjectsV2(ctx: RequestContext): Promise<void> {
  const q = ctx.target.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = readMaxKeys(ctx);
  const encodingType = readEncodingType(ctx);
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? '';
  let after = startAfter;
  if (token !== null) {
    const decoded = token === '' ? undefined : decodeContinuationToken(token);
    if (decoded === undefined) throw s3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    after = decoded;
  }
  const page = unwrap(ctx.engine.list({ bucket: ctx.bucket, prefix, delimiter, after, maxKeys }), ctx);
  const fetchOwner = q.get('fetch-owner') === 'true';
  sendXml(
    ctx,
    200,
    listObjectsV2Xml({
      bucket: ctx.bucket,
      prefix,
      delimiter,
      maxKeys,
      isTruncated: page.isTruncated,
      encodingType,
      commonPrefixes: page.commonPrefixes,
      continuationToken: token ?? undefined,
      nextContinuationToken: page.isTruncated && page.last !== undefined ? encodeContinuationToken(page.last) : undefined,
      startAfter: q.has('start-after') ? startAfter : undefined,
      fetchOwner,
      contents: listed(page, fetchOwner, ctx),
    }),
  );
}

export async function listObjectsV1(ctx: RequestContext): Promise<void> {
  const q = ctx.target.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = readMaxKeys(ctx);
  const encodingType = readEncodingType(ctx);
  const marker = q.get('marker') ?? '';
  const page = unwrap(ctx.engine.list({ bucket: ctx.bucket, prefix, delimiter, after: marker, maxKeys }), ctx);
  sendXml(
    ctx,
    200,
    listObjectsV1Xml({
      bucket: ctx.bucket,
      prefix,
      delimiter,
      maxKeys,
      isTruncated: page.isTruncated,
      encodingType,
      commonPrefixes: page.commonPrefixes,
      marker,
      nextMarker: page.isTruncated && delimiter !== '' ? page.last : undefined,
      contents: listed(page, true, ctx),
    }),
  );
}
