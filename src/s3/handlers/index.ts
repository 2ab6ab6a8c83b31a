/** Operation → handler. Operations missing here answer NotImplemented. */
import type { RequestContext } from '../context.ts';
import type { S3Operation } from '../route.ts';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './buckets.ts';
import { deleteObject, deleteObjects } from './delete-object.ts';
import { getObject, headObject } from './get-object.ts';
import { listObjectsV1, listObjectsV2 } from './list-objects.ts';
import { putObject } from './put-object.ts';
import { getBucketVersioning, listObjectVersions, putBucketVersioning } from './versioning.ts';
import { copyObject } from './copy-object.ts';
import { getObjectAttributes } from './get-object-attributes.ts';
import { abortMultipartUpload } from './multipart-abort.ts';
import { completeMultipartUpload } from './multipart-complete.ts';
import { createMultipartUpload } from './multipart-create.ts';
import { listMultipartUploads, listParts } from './multipart-list.ts';
import { uploadPart, uploadPartCopy } from './multipart-upload-part.ts';

export type Handler = (ctx: RequestContext) => Promise<void>;

/** Reads of one key wait for the key's last committed event (read-after-write across gateways). */
const keyFenced =
  (h: Handler): Handler =>
  async (ctx) => {
    await ctx.engine.readFence(ctx.bucket, ctx.key);
    await h(ctx);
  };

/** Listings wait for everything committed before they arrived (list-after-write). */
const streamFenced =
  (h: Handler): Handler =>
  async (ctx) => {
    await ctx.engine.readFence(ctx.bucket);
    await h(ctx);
  };

export const handlers: Partial<Record<S3Operation, Handler>> = {
  ListBuckets: streamFenced(listBuckets),
  CreateBucket: createBucket,
  HeadBucket: streamFenced(headBucket),
  DeleteBucket: deleteBucket,
  GetBucketLocation: streamFenced(getBucketLocation),
  ListObjectsV2: streamFenced(listObjectsV2),
  ListObjects: streamFenced(listObjectsV1),
  PutObject: putObject,
  // GetObject fences itself, overlapping the fence with its first read (get-object.ts).
  GetObject: getObject,
  HeadObject: keyFenced(headObject),
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  GetBucketVersioning: streamFenced(getBucketVersioning),
  PutBucketVersioning: putBucketVersioning,
  ListObjectVersions: streamFenced(listObjectVersions),
  // Multipart operations fence the upload's own subject in the engine.
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: streamFenced(listMultipartUploads),
  // CopyObject and UploadPartCopy fence the source key themselves.
  CopyObject: copyObject,
  GetObjectAttributes: keyFenced(getObjectAttributes),
};
