/**
 * A gateway whose storage nodes are all unreachable answers 503 ServiceUnavailable (an S3 error
 * SDKs retry with backoff), not 500 InternalError, and commits nothing: the object never appears.
 * The gateway runs against a static node list naming a node that does not exist.
 */
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';
import { expectBodilessError, expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, testCredentials, type TestStrata } from '../support/strata.ts';

let h: TestStrata;
let s3: S3Client;
const bucket = 'no-nodes';

beforeAll(async () => {
  h = await startTestStrata({ remoteNodes: ['ghost'] });
  // One attempt: the SDK would otherwise retry the 503 with backoff.
  s3 = new S3Client({ endpoint: h.strata.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: testCredentials, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

describe('storage nodes unreachable', () => {
  it('PUT answers 503 ServiceUnavailable with an XML body and a request id, and leaves nothing behind', async () => {
    const rng = createRng(testSeed('storage-unavailable'));
    // Above the inline threshold, so the body must go to a storage node.
    const body = randomBuffer(rng, 256 * 1024);
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body })), 'ServiceUnavailable', 503);
    await expectBodilessError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })), 404);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount).toBe(0);
  });
});
