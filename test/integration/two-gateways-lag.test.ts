/**
 * Two gateways on one log with B's projector held back (test/support/lag.ts), so that any read or
 * decision missing its fence answers from a stale model and shows: B must still give zero stale
 * reads, while C (lagging alike, no read fence) visibly does not; and bucket state (existence,
 * versioning, emptiness) written through A must govern B's very next read or write.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/lib/limits.ts';
import { testSeed } from '../support/prng.ts';
import { expectS3Error } from '../support/s3-errors.ts';
import { lagProjector } from '../support/lag.ts';
import { startGateways, writeThenRead, type Gateways } from '../support/two-gateways.ts';
import { testCredentials, type TestStrata } from '../support/strata.ts';

let g: Gateways;
let a: TestStrata;
let b: TestStrata;
let c: TestStrata;
let s3a: S3Client;
let s3b: S3Client;
let s3c: S3Client;

beforeAll(async () => {
  g = await startGateways();
  ({ a, b, c, s3a, s3b, s3c } = g);
});

afterAll(async () => {
  await g?.stop();
});

describe('with lagging projectors', () => {
  it('the fence still gives B zero stale reads, while the unfenced C, lagging alike, serves stale ones', async () => {
    const seed = testSeed('two gateways, lagging projectors');
    await s3a.send(new CreateBucketCommand({ Bucket: 'raw-lag' }));
    const undo = [lagProjector(b.strata.store, 30), lagProjector(c.strata.store, 30)];
    try {
      const fenced = await writeThenRead('lag-b', 'raw-lag', false, s3a, s3b, 100, seed);
      expect(fenced.stale.slice(0, 10)).toEqual([]);
      // The same check through C: proves it does see stale reads when the fence is off.
      const unfenced = await writeThenRead('lag-c', 'raw-lag', false, s3a, s3c, 30, seed + 1);
      console.log(`lagging by 30 ms per batch: fenced B ${fenced.stale.length} stale reads in 100 iterations, unfenced C ${unfenced.stale.length} in 30`);
      expect(unfenced.stale.length).toBeGreaterThan(0);
    } finally {
      for (const u of undo) u();
    }
  });
});

describe('bucket state across gateways (B lagging)', () => {
  /** Runs `body` with B's projector held back, so a fence that is missing shows as a stale answer. */
  async function withLaggingB(body: () => Promise<void>): Promise<void> {
    const undo = lagProjector(b.strata.store, 30);
    try {
      await body();
    } finally {
      undo();
    }
  }
  /** Waits until B has applied everything A has (before the part of a test that needs B current). */
  const bCaughtUp = async (): Promise<void> => {
    await b.strata.projector.waitApplied(a.strata.store.checkpoint());
  };

  it('GET through B of a key in a bucket just created through A is NoSuchKey, and NoSuchBucket once deleted', async () => {
    await withLaggingB(async () => {
      for (let i = 0; i < 5; i++) {
        const name = `lag-created-${i}`;
        await s3a.send(new CreateBucketCommand({ Bucket: name }));
        await expect(s3b.send(new GetObjectCommand({ Bucket: name, Key: 'nothing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
        await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
        await s3a.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
        await s3a.send(new DeleteBucketCommand({ Bucket: name }));
        await expect(s3b.send(new GetObjectCommand({ Bucket: name, Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      }
    });
  });

  it('versioning enabled through A governs the next PUT, DELETE and GET through B (no null version overwritten)', async () => {
    for (let i = 0; i < 3; i++) {
      const name = `lag-versioning-${i}`;
      await s3a.send(new CreateBucketCommand({ Bucket: name }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'put-me', Body: 'original' }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'delete-me', Body: 'original' }));
      await bCaughtUp();
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        // GET: the pre-existing object is now the null version of a versioned bucket.
        const got = await s3b.send(new GetObjectCommand({ Bucket: name, Key: 'put-me' }));
        await got.Body?.transformToString();
        expect(got.VersionId).toBe('null');
      });
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        const put = await s3b.send(new PutObjectCommand({ Bucket: name, Key: 'put-me', Body: 'new' }));
        expect(put.VersionId).toMatch(/^[0-9a-z]{29}$/);
      });
      await withLaggingB(async () => {
        await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
        const del = await s3b.send(new DeleteObjectCommand({ Bucket: name, Key: 'delete-me' }));
        expect(del.DeleteMarker).toBe(true);
      });
      // Nothing was lost: both originals are still there as null versions.
      for (const key of ['put-me', 'delete-me']) {
        const r = await s3a.send(new GetObjectCommand({ Bucket: name, Key: key, VersionId: 'null' }));
        expect(await r.Body?.transformToString()).toBe('original');
      }
    }
  });

  it('DeleteBucket through B right after the last object was deleted through A succeeds', async () => {
    for (let i = 0; i < 3; i++) {
      const name = `lag-emptied-${i}`;
      await s3a.send(new CreateBucketCommand({ Bucket: name }));
      await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
      await bCaughtUp();
      await withLaggingB(async () => {
        await s3a.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
        const del = await s3b.send(new DeleteBucketCommand({ Bucket: name }));
        expect(del.$metadata.httpStatusCode).toBe(204);
      });
    }
  });

  it('bucket reads through B (HeadBucket, ListBuckets, GetBucketVersioning) see bucket writes just made through A', async () => {
    await withLaggingB(async () => {
      for (let i = 0; i < 3; i++) {
        const name = `lag-bucket-reads-${i}`;
        await s3a.send(new CreateBucketCommand({ Bucket: name }));
        expect((await s3b.send(new HeadBucketCommand({ Bucket: name }))).$metadata.httpStatusCode).toBe(200);
        expect((await s3b.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name)).toContain(name);
        for (const status of ['Enabled', 'Suspended', 'Enabled'] as const) {
          await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
          expect((await s3b.send(new GetBucketVersioningCommand({ Bucket: name }))).Status).toBe(status);
        }
        await s3a.send(new DeleteBucketCommand({ Bucket: name }));
        await expect(s3b.send(new HeadBucketCommand({ Bucket: name }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      }
    });
  });

  it('CopyObject through B of a source just overwritten through A copies the new bytes', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-copy' }));
    await s3a.send(new PutObjectCommand({ Bucket: 'lag-copy', Key: 'src', Body: 'old' }));
    await bCaughtUp();
    await withLaggingB(async () => {
      for (let i = 0; i < 3; i++) {
        await s3a.send(new PutObjectCommand({ Bucket: 'lag-copy', Key: 'src', Body: `new ${i}` }));
        await s3b.send(new CopyObjectCommand({ Bucket: 'lag-copy', Key: `dst-${i}`, CopySource: 'lag-copy/src' }));
        const got = await s3a.send(new GetObjectCommand({ Bucket: 'lag-copy', Key: `dst-${i}` }));
        expect(await got.Body?.transformToString()).toBe(`new ${i}`);
      }
    });
  });

  it('GET through B of an object just overwritten through A returns the new bytes (the read B started before its fence is dropped)', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-get' }));
    // Stored in shards (above the inline limit), so B's GET starts reading before its fence answers.
    const version = (i: number): Buffer => Buffer.alloc(64 * 1024 + i, `version ${i} `);
    await s3a.send(new PutObjectCommand({ Bucket: 'lag-get', Key: 'k', Body: version(0) }));
    await bCaughtUp();
    await withLaggingB(async () => {
      for (let i = 1; i <= 5; i++) {
        await s3a.send(new PutObjectCommand({ Bucket: 'lag-get', Key: 'k', Body: version(i) }));
        // B's model still holds version i-1 when the GET arrives (its projector lags 30 ms).
        expect(b.strata.store.object('lag-get', 'k')?.size, `B is behind at ${i}`).toBe(version(i - 1).length);
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'lag-get', Key: 'k' }));
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
        expect(bytes.equals(version(i)), `GET through B after overwrite ${i}`).toBe(true);
      }
    });
  });

  it('GET through B of a key nobody is writing looks B\'s model up once (its early lookup is already fenced), and twice when the fence had to wait', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-once' }));
    const body = Buffer.alloc(64 * 1024 + 1, 'quiet ');
    await s3a.send(new PutObjectCommand({ Bucket: 'lag-once', Key: 'k', Body: body }));
    await bCaughtUp();
    const engine = b.strata.engine;
    const original = engine.lookup;
    let lookups = 0;
    engine.lookup = (...args: Parameters<typeof original>) => {
      if (args[0] === 'lag-once') lookups++;
      return original.apply(engine, args);
    };
    try {
      for (let i = 0; i < 3; i++) {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'lag-once', Key: 'k' }));
        expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true);
      }
      expect(lookups).toBe(3);
      // Overwritten through A while B lags: B's early lookup is older than the fence, so it looks again.
      const newer = Buffer.alloc(64 * 1024 + 2, 'newer ');
      await withLaggingB(async () => {
        await s3a.send(new PutObjectCommand({ Bucket: 'lag-once', Key: 'k', Body: newer }));
        lookups = 0;
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'lag-once', Key: 'k' }));
        expect(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(newer)).toBe(true);
        expect(lookups).toBe(2);
      });
    } finally {
      engine.lookup = original;
    }
  });

  it('PUT through B right after versioning was enabled through A gets a version id, though B still saw the bucket unversioned', async () => {
    // B does not fence a bucket it knows before a PUT: its event names the bucket state it assumed
    // (a bucket guard), and the projection rejects it when that is stale; B then fences and
    // commits again. Without the guard, B would write a "null" version over the original.
    const name = 'lag-guard-versioning';
    await s3a.send(new CreateBucketCommand({ Bucket: name }));
    await s3a.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'original' }));
    await bCaughtUp();
    const undo = lagProjector(b.strata.store, 300);
    try {
      await s3a.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
      expect(b.strata.store.bucket(name)?.versioning, 'B still sees the bucket unversioned').toBe('Unversioned');
      const single = new S3Client({ endpoint: b.strata.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: testCredentials, maxAttempts: 1 });
      try {
        const put = await single.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'new' }));
        expect(put.VersionId).toMatch(/^[0-9a-z]{29}$/);
      } finally {
        single.destroy();
      }
    } finally {
      undo();
    }
    const original = await s3a.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: 'null' }));
    expect(await original.Body?.transformToString()).toBe('original');
    const latest = await s3a.send(new GetObjectCommand({ Bucket: name, Key: 'k' }));
    expect(await latest.Body?.transformToString()).toBe('new');
  });

  it('PUT through B into a bucket just deleted through A is NoSuchBucket, though B still knew the bucket', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-put-gone' }));
    await bCaughtUp();
    // A long lag, so that B still holds the bucket when the PUT arrives and streams the body
    // while its fence waits for the deletion.
    const undo = lagProjector(b.strata.store, 1000);
    try {
      await s3a.send(new DeleteBucketCommand({ Bucket: 'lag-put-gone' }));
      expect(b.strata.store.bucket('lag-put-gone'), 'B still has the bucket').toBeDefined();
      // Above the inline limit: the body goes to the storage node while B's fence is answered.
      // One attempt: a retry would arrive after B caught up and prove nothing.
      const single = new S3Client({ endpoint: b.strata.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: testCredentials, maxAttempts: 1 });
      try {
        await expectS3Error(single.send(new PutObjectCommand({ Bucket: 'lag-put-gone', Key: 'k', Body: Buffer.alloc(100_000, 1) })), 'NoSuchBucket', 404);
      } finally {
        single.destroy();
      }
    } finally {
      undo();
    }
    await expectS3Error(s3a.send(new HeadBucketCommand({ Bucket: 'lag-put-gone' })), 'NotFound', 404);
  });

  it('a read through B while its model is far behind the log answers 503 ServiceUnavailable once the fence gives up', async () => {
    await s3a.send(new CreateBucketCommand({ Bucket: 'lag-far' }));
    await bCaughtUp();
    const limitsMutable = limits as { projectionWaitMs: number };
    const waitMs = limitsMutable.projectionWaitMs;
    limitsMutable.projectionWaitMs = 300;
    const undo = lagProjector(b.strata.store, 3000);
    const single = new S3Client({ endpoint: b.strata.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: testCredentials, maxAttempts: 1 });
    try {
      await s3a.send(new PutObjectCommand({ Bucket: 'lag-far', Key: 'k', Body: 'v' }));
      await expectS3Error(single.send(new GetObjectCommand({ Bucket: 'lag-far', Key: 'k' })), 'ServiceUnavailable', 503);
    } finally {
      single.destroy();
      undo();
      limitsMutable.projectionWaitMs = waitMs;
    }
    await bCaughtUp();
    const got = await s3b.send(new GetObjectCommand({ Bucket: 'lag-far', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('v');
  });

  it('DeleteObjects through B in a bucket just created through A', async () => {
    await withLaggingB(async () => {
      await s3a.send(new CreateBucketCommand({ Bucket: 'lag-batch' }));
      const r = await s3b.send(new DeleteObjectsCommand({ Bucket: 'lag-batch', Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }));
      expect(r.Errors).toBeUndefined();
      expect(r.Deleted?.map((d) => d.Key).sort()).toEqual(['a', 'b']);
    });
  });
});
