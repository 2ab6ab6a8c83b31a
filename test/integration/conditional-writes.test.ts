/**
 * Conditional writes: If-None-Match: * (create only) and If-Match (compare-and-swap) on PutObject,
 * CompleteMultipartUpload and CopyObject; and the race: two gateways sharing one NATS (the second
 * with its own read model and no storage of its own, writing to the first's node over NATS), two
 * clients putting the same new key with If-None-Match: * at the same moment, 100 times — exactly
 * one wins each time, the other gets 412 (or 409), and both gateways then serve the winner.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectS3Error } from '../support/s3-errors.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

let a: TestStrata;
let b: TestStrata;
let s3a: S3Client;
let s3b: S3Client;
const bucket = 'conditional';

async function text(client: S3Client, key: string): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (r.Body as { transformToString(): Promise<string> }).transformToString();
}

beforeAll(async () => {
  a = await startTestStrata();
  b = await startTestStrata({ natsUrl: a.strata.natsUrl, gatewayId: 'gw2', remoteNodes: [a.config.nodeId] });
  s3a = a.client();
  s3b = b.client();
  await s3a.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3a?.destroy();
  s3b?.destroy();
  await b?.stop();
  await a?.stop();
});

describe('conditional PutObject', () => {
  it('creates only when absent (If-None-Match: *) and swaps only on the current ETag (If-Match)', async () => {
    const key = 'cas/one';
    const v1 = await s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1', IfNoneMatch: '*' }));
    await expectS3Error(s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'again', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    const v2 = await s3b.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v2', IfMatch: v1.ETag ?? '' }));
    await expectS3Error(s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'stale', IfMatch: v1.ETag ?? '' })), 'PreconditionFailed', 412);
    expect(await text(s3a, key)).toBe('v2');
    await s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfMatch: v2.ETag ?? '' }));
    await expectS3Error(s3a.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas/missing', Body: 'x', IfMatch: v1.ETag ?? '' })), 'NoSuchKey', 404);
    expect(await text(s3b, key)).toBe('v3');
  });

  it('two gateways racing If-None-Match: * on the same key: exactly one succeeds, 100 times', async () => {
    let conflicts = 0;
    for (let i = 0; i < 100; i++) {
      const key = `race/${i}`;
      // 64 KiB bodies (sharded, not inline) keep both writers busy long enough that both usually
      // pass the early check and race at the publish, where JetStream decides.
      const results = await Promise.allSettled([
        s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `from-a-${i}`.padEnd(65536, 'a'), IfNoneMatch: '*' })),
        s3b.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `from-b-${i}`.padEnd(65536, 'b'), IfNoneMatch: '*' })),
      ]);
      const winners = results.flatMap((r, at) => (r.status === 'fulfilled' ? [at === 0 ? 'a' : 'b'] : []));
      expect(winners, `round ${i}: ${JSON.stringify(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).name) : 'ok')))}`).toHaveLength(1);
      for (const r of results) {
        if (r.status !== 'rejected') continue;
        const e = r.reason as { name: string; $metadata?: { httpStatusCode?: number } };
        expect([412, 409]).toContain(e.$metadata?.httpStatusCode);
        if (e.$metadata?.httpStatusCode === 409) conflicts++;
      }
      const w = winners[0] ?? '';
      const want = `from-${w}-${i}`.padEnd(65536, w);
      expect(await text(s3a, key)).toBe(want);
      expect(await text(s3b, key)).toBe(want);
    }
    console.log(`[race] 100 rounds, ${conflicts} answered 409 ConditionalRequestConflict, the rest 412`);
  });
});

describe('conditional CompleteMultipartUpload and CopyObject', () => {
  it('refuses to complete or copy over an existing key with If-None-Match: *', async () => {
    const key = 'cond/mp';
    await s3a.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'existing' }));
    const c = await s3a.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const p = await s3b.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', PartNumber: 1, Body: 'part' }));
    const complete = (client: S3Client, cond: { IfNoneMatch?: string; IfMatch?: string }): Promise<unknown> =>
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId ?? '', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag ?? '' }] }, ...cond }),
      );
    await expectS3Error(complete(s3a, { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
    await expectS3Error(complete(s3b, { IfMatch: '"0123456789abcdef0123456789abcdef"' }), 'PreconditionFailed', 412);
    expect(await text(s3a, key)).toBe('existing');
    const head = await s3a.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await head.Body?.transformToString();
    await complete(s3b, { IfMatch: head.ETag ?? '' });
    expect(await text(s3a, key)).toBe('part');

    await expectS3Error(
      s3a.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/cas/one`, IfNoneMatch: '*' })),
      'PreconditionFailed',
      412,
    );
    await s3a.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond/copy-new', CopySource: `${bucket}/cas/one`, IfNoneMatch: '*' }));
    expect(await text(s3b, 'cond/copy-new')).toBe('v3');
  });
});
