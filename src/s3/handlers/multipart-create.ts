/** CreateMultipartUpload: POST /bucket/key?uploads. */
import type { ChecksumType } from '../../events/types.ts';
import { checksumTypeAllowed, defaultChecksumType } from '../../gateway/multipart-checksums.ts';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../../lib/checksums.ts';
import type { RequestContext } from '../context.ts';
import { s3Error } from '../errors.ts';
import { readObjectHeaders } from '../object-headers.ts';
import { sendXml, unwrap } from '../respond.ts';
import { initiateMultipartUploadXml } from '../xml/responses.ts';

export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const headers = readObjectHeaders(ctx.req.headers);
  const { algorithm, type } = readChecksumChoice(ctx);
  const out = unwrap(
    await ctx.engine.multipart.create(ctx.actor, { bucket: ctx.bucket, key: ctx.key, headers, checksumAlgorithm: algorithm, checksumType: type }),
    ctx,
  );
  if (algorithm && type) {
    ctx.res.setHeader('x-amz-checksum-algorithm', algorithm);
    ctx.res.setHeader('x-amz-checksum-type', type);
  }
  sendXml(ctx, 200, initiateMultipartUploadXml({ bucket: ctx.bucket, key: ctx.key, uploadId: out.uploadId }));
}

/** x-amz-checksum-algorithm and x-amz-checksum-type, checked against what AWS allows. */
function readChecksumChoice(ctx: RequestContext): { algorithm: ChecksumAlgorithm | undefined; type: ChecksumType | undefined } {
  const rawAlg = ctx.header('x-amz-checksum-algorithm');
  const rawType = ctx.header('x-amz-checksum-type')?.trim().toUpperCase();
  const algorithm = rawAlg === undefined ? undefined : parseChecksumAlgorithm(rawAlg);
  if (rawAlg !== undefined && !algorithm) throw s3Error('InvalidRequest', `Checksum algorithm ${rawAlg} is not supported.`);
  if (rawType !== undefined && rawType !== 'COMPOSITE' && rawType !== 'FULL_OBJECT') throw s3Error('InvalidRequest', `Value for x-amz-checksum-type header is invalid.`);
  if (!algorithm) {
    if (rawType !== undefined) throw s3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return { algorithm: undefined, type: undefined };
  }
  const type: ChecksumType = rawType ?? defaultChecksumType(algorithm);
  if (!checksumTypeAllowed(algorithm, type)) throw s3Error('InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { algorithm, type };
}
