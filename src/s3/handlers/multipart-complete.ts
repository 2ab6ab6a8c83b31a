/**
 * CompleteMultipartUpload: POST /bucket/key?uploadId=id with the chosen parts. The object becomes
 * a manifest of the parts' shards; If-None-Match / If-Match make it a conditional write.
 */
import type { CompletePartInput } from '../../gateway/multipart.ts';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../lib/checksums.ts';
import type { RequestContext } from '../context.ts';
import { normalizeEtag } from '../conditional.ts';
import { readDeclaredChecksum } from '../object-headers.ts';
import { readSmallBody, sendXml, unwrap } from '../respond.ts';
import { checksumsXml, readWriteCondition } from '../write-conditions.ts';
import { parseCompleteMultipartUpload } from '../xml/requests.ts';
import { completeMultipartUploadXml } from '../xml/responses.ts';
import { s3UrlEncode } from '../xml/write.ts';

export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const uploadId = ctx.target.query.get('uploadId') ?? '';
  const condition = readWriteCondition(ctx.req.headers);
  const declared = readDeclaredChecksum(ctx.req.headers);
  const request = parseCompleteMultipartUpload(await readSmallBody(ctx));
  const parts: CompletePartInput[] = request.parts.map((p) => {
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const [name, value] of Object.entries(p.checksums)) {
      const alg = parseChecksumAlgorithm(name.slice('Checksum'.length));
      if (alg && typeof value === 'string') checksums.set(alg, value);
    }
    return { partNumber: p.partNumber, etag: normalizeEtag(p.etag), checksums };
  });
  const out = unwrap(
    await ctx.engine.multipart.complete(ctx.actor, {
      bucket: ctx.bucket,
      key: ctx.key,
      uploadId,
      parts,
      condition,
      expectedChecksum: declared?.source === 'header' ? { algorithm: declared.algorithm, value: declared.value } : undefined,
    }),
    ctx,
  );
  if (out.versioned) ctx.res.setHeader('x-amz-version-id', out.versionId);
  const host = ctx.req.headers.host ?? '127.0.0.1';
  const location = ctx.target.style === 'virtual-host' ? `http://${host}/${s3UrlEncode(ctx.key)}` : `http://${host}/${ctx.bucket}/${s3UrlEncode(ctx.key)}`;
  sendXml(
    ctx,
    200,
    completeMultipartUploadXml({
      location,
      bucket: ctx.bucket,
      key: ctx.key,
      etag: out.etag,
      checksums: out.checksum ? checksumsXml([out.checksum]) : undefined,
      checksumType: out.checksum?.type,
    }),
  );
}
