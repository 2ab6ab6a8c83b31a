/** AbortMultipartUpload: DELETE /bucket/key?uploadId=id. The upload's parts become dead. */
import type { RequestContext } from '../context.ts';
import { sendEmpty, unwrap } from '../respond.ts';

export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  const uploadId = ctx.target.query.get('uploadId') ?? '';
  unwrap(await ctx.engine.multipart.abort(ctx.actor, ctx.bucket, ctx.key, uploadId), ctx);
  sendEmpty(ctx, 204);
}
