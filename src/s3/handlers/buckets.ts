/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import type { RequestContext } from '../context.ts';
import { validateBucketName } from '../bucket-name.ts';
import { s3Error } from '../errors.ts';
import { readSmallBody, sendEmpty, sendXml, unwrap } from '../respond.ts';
import { parseCreateBucketConfiguration } from '../xml/requests.ts';
import { listAllMyBucketsXml, locationConstraintXml } from '../xml/responses.ts';

export async function listBuckets(ctx: RequestContext): Promise<void> {
  const buckets = ctx.engine.listBuckets().map((b) => ({ name: b.name, creationDateMs: b.createdMs, region: b.region }));
  sendXml(ctx, 200, listAllMyBucketsXml({ owner: { id: ctx.config.ownerId, displayName: ctx.config.ownerName }, buckets }));
}

export async function createBucket(ctx: RequestContext): Promise<void> {
  const invalid = validateBucketName(ctx.bucket);
  if (invalid) throw invalid;
  const body = await readSmallBody(ctx);
  const conf = parseCreateBucketConfiguration(body.toString('utf8'));
  if (conf.locationConstraint !== undefined && conf.locationConstraint !== '' && conf.locationConstraint !== ctx.config.region) {
    throw s3Error('InvalidArgument', `The ${conf.locationConstraint} location constraint is incompatible with the region ${ctx.config.region}.`, { ArgumentName: 'LocationConstraint' });
  }
  unwrap(await ctx.engine.createBucket(ctx.actor, ctx.bucket), ctx);
  ctx.res.setHeader('Location', `/${ctx.bucket}`);
  sendEmpty(ctx, 200);
}

export async function headBucket(ctx: RequestContext): Promise<void> {
  const b = ctx.engine.headBucket(ctx.bucket);
  if (!b) throw s3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  ctx.res.setHeader('x-amz-bucket-region', b.region);
  sendEmpty(ctx, 200);
}

export async function deleteBucket(ctx: RequestContext): Promise<void> {
  unwrap(await ctx.engine.deleteBucket(ctx.actor, ctx.bucket), ctx);
  sendEmpty(ctx, 204);
}

export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  const b = ctx.engine.headBucket(ctx.bucket);
  if (!b) throw s3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  // us-east-1 is reported as an empty LocationConstraint, as AWS does.
  sendXml(ctx, 200, locationConstraintXml(b.region === 'us-east-1' ? undefined : b.region));
}
