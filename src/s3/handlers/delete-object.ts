/** DeleteObject and DeleteObjects (batch, quiet mode). */
import { createHash } from 'node:crypto';
import { checksumOf } from '../../lib/checksums.ts';
import { limits } from '../../lib/limits.ts';
import type { RequestContext } from '../context.ts';
import { s3Error, s3ErrorTable } from '../errors.ts';
import { readContentMd5, readDeclaredChecksum } from '../object-headers.ts';
import { readSmallBody, sendEmpty, sendXml } from '../respond.ts';
import { readVersionId } from '../versions.ts';
import { isWellFormedVersionId } from '../../lib/ids.ts';
import { parseDeleteRequest } from '../xml/requests.ts';
import { deleteResultXml, type DeleteErrorEntry, type DeletedEntry } from '../xml/responses.ts';

export async function deleteObject(ctx: RequestContext): Promise<void> {
  const r = await ctx.engine.deleteObject(ctx.actor, ctx.bucket, ctx.key, readVersionId(ctx));
  if (!r.ok) throw s3Error(r.reason, r.message, r.reason === 'NoSuchBucket' ? { BucketName: ctx.bucket } : {});
  if (r.value.versionId !== undefined) ctx.res.setHeader('x-amz-version-id', r.value.versionId);
  if (r.value.deleteMarker) ctx.res.setHeader('x-amz-delete-marker', 'true');
  sendEmpty(ctx, 204);
}

/** Checks Content-MD5 / x-amz-checksum-* of a small buffered body (DeleteObjects requires one). */
function verifySmallBody(ctx: RequestContext, body: Buffer): void {
  const md5 = readContentMd5(ctx.req.headers);
  const declared = readDeclaredChecksum(ctx.req.headers);
  if (md5 && !md5.equals(createHash('md5').update(body).digest())) throw s3Error('BadDigest');
  if (declared) {
    const expected = declared.source === 'header' ? declared.value : ctx.trailer(declared.header);
    if (expected === undefined) throw s3Error('InvalidRequest', `${declared.source === 'trailer' ? declared.header : 'checksum'} is missing.`);
    if (checksumOf(declared.algorithm, body).toString('base64') !== expected) throw s3Error('BadDigest');
  }
  if (!md5 && !declared) throw s3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 or x-amz-checksum-*');
}

/** Deletes run with bounded concurrency; each key's outcome is reported on its own. */
const deleteConcurrencyMax = 16;

export async function deleteObjects(ctx: RequestContext): Promise<void> {
  const body = await readSmallBody(ctx);
  verifySmallBody(ctx, body);
  const request = parseDeleteRequest(body.toString('utf8'));
  if (request.objects.length > limits.deleteObjectsKeysMax) throw s3Error('MalformedXML');
  if (!(await ctx.engine.bucketForWrite(ctx.bucket))) throw s3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  const deleted: (DeletedEntry | undefined)[] = new Array(request.objects.length);
  const errors: (DeleteErrorEntry | undefined)[] = new Array(request.objects.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < request.objects.length) {
      const i = next++;
      const o = request.objects[i];
      if (!o) continue;
      if (o.versionId !== undefined && !isWellFormedVersionId(o.versionId)) {
        errors[i] = { key: o.key, versionId: o.versionId, code: 'InvalidArgument', message: 'Invalid version id specified' };
        continue;
      }
      try {
        const r = await ctx.engine.deleteObject(ctx.actor, ctx.bucket, o.key, o.versionId);
        if (r.ok) {
          const v = r.value;
          // A delete marker created by this request is reported as DeleteMarkerVersionId; one
          // removed by version id as VersionId + DeleteMarker, and DeleteMarkerVersionId naming
          // the removed marker ("the version ID of the object version deleted", as AWS sends).
          deleted[i] =
            o.versionId === undefined
              ? { key: o.key, ...(v.deleteMarker ? { deleteMarker: true, deleteMarkerVersionId: v.versionId } : {}) }
              : { key: o.key, versionId: o.versionId, ...(v.deleteMarker ? { deleteMarker: true, deleteMarkerVersionId: o.versionId } : {}) };
        } else errors[i] = { key: o.key, code: r.reason, message: r.message ?? r.reason };
      } catch {
        errors[i] = { key: o.key, code: 'InternalError', message: s3ErrorTable.InternalError.message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deleteConcurrencyMax, request.objects.length) }, worker));
  sendXml(
    ctx,
    200,
    deleteResultXml({
      deleted: request.quiet ? [] : deleted.filter((d): d is DeletedEntry => d !== undefined),
      errors: errors.filter((e): e is DeleteErrorEntry => e !== undefined),
    }),
  );
}
