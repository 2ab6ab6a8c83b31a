/** Operation → handler. Operations missing here answer NotImplemented. */
import type { RequestContext } from '../context.ts';
import type { S3Operation } from '../route.ts';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './buckets.ts';
import { deleteObject, deleteObjects } from './delete-object.ts';
import { getObject, headObject } from './get-object.ts';
import { listObjectsV1, listObjectsV2 } from './list-objects.ts';
import { putObject } from './put-object.ts';
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './versioning.ts';

export type Handler = (ctx: RequestContext) => Promise<void>;

export const handlers: Partial<Record<S3Operation, Handler>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjectsV2: listObjectsV2,
  ListObjects: listObjectsV1,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  ListObjectVersions: listObjectVersions,
};
