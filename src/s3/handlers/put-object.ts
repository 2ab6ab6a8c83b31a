/** PutObject: stream the body to storage, check every digest, commit the ObjectVersionPut event. */
import { nullVersionId } from '../../events/types.ts';
import { limits } from '../../lib/limits.ts';
import { checksumHeaderName, type ChecksumAlgorithm } from '../../lib/checksums.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { readContentMd5, readDeclaredChecksum, readObjectHeaders } from '../object-headers.ts';
import { sendEmpty, unwrap } from '../respond.ts';
import { readWriteCondition } from '../write-conditions.ts';

export async function putObject(ctx: RequestContext): Promise<void> {
  const length = ctx.declaredLength;
  if (length === undefined) throw s3Error('MissingContentLength');
  if (length > limits.objectBytesMax) {
    throw s3Error('EntityTooLarge', undefined, { ProposedSize: String(length), MaxSizeAllowed: String(limits.objectBytesMax) });
  }
  const headers = readObjectHeaders(ctx.req.headers);
  const condition = readWriteCondition(ctx.req.headers);
  const contentMd5 = readContentMd5(ctx.req.headers);
  const declared = readDeclaredChecksum(ctx.req.headers);
  const checksum = declared
    ? {
        algorithm: declared.algorithm,
        expected: declared.source === 'header' ? () => declared.value : () => ctx.trailer(declared.header),
      }
    : undefined;
  const result = await ctx.engine.putObject(ctx.actor, {
    bucket: ctx.bucket,
    key: ctx.key,
    headers,
    // The engine compares the checksum it computes with the declared one (trailer included).
    body: ctx.body({ checksumComparedByReader: true }),
    expectedLength: length,
    contentMd5,
    // The x-amz-content-sha256 value is checked by the body stream itself (server.ts).
    sha256Hex: undefined,
    checksum,
    defaultChecksum: undefined,
    ...(condition ? { condition } : {}),
  });
  const out = unwrap(result, ctx);
  ctx.res.setHeader('ETag', `"${out.etag}"`);
  // Only a new real version is announced: AWS's PutObject sample for a versioning-suspended
  // bucket (which writes the null version) carries no x-amz-version-id.
  if (out.versioned && out.versionId !== nullVersionId) ctx.res.setHeader('x-amz-version-id', out.versionId);
  if (out.checksum) {
    ctx.res.setHeader(checksumHeaderName(out.checksum.algorithm as ChecksumAlgorithm), out.checksum.value);
    ctx.res.setHeader('x-amz-checksum-type', 'FULL_OBJECT');
  }
  sendEmpty(ctx, 200);
}
