/**
 * Small SDK helpers shared by the versioning tests: create a bucket in a versioning state, PUT a
 * string (checking its ETag) and answer its version id, GET a version as text.
 */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';

export const md5Hex = (s: string): string => createHash('md5').update(s).digest('hex');

/** A version id of the form this store issues that it never issued. */
export const unknownVersionId = `000000001${'0'.repeat(20)}`;

export interface VersionedOps {
  createBucket(name: string, versioning?: 'Enabled' | 'Suspended'): Promise<void>;
  setVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void>;
  /** PUTs `body`, expects its MD5 as the ETag, and answers the version id the server sent. */
  put(bucket: string, key: string, body: string): Promise<string | undefined>;
  getText(bucket: string, key: string, versionId?: string): Promise<{ body: string; versionId: string | undefined; etag: string | undefined }>;
}

export function versionedOps(s3: () => S3Client): VersionedOps {
  const ops: VersionedOps = {
    async createBucket(name, versioning) {
      await s3().send(new CreateBucketCommand({ Bucket: name }));
      if (versioning) await ops.setVersioning(name, versioning);
    },
    async setVersioning(name, status) {
      await s3().send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
    },
    async put(bucket, key, body) {
      const r = await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      expect(r.ETag).toBe(`"${md5Hex(body)}"`);
      return r.VersionId;
    },
    async getText(bucket, key, versionId) {
      const r = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) }));
      return { body: (await r.Body?.transformToString()) ?? '', versionId: r.VersionId, etag: r.ETag };
    },
  };
  return ops;
}
