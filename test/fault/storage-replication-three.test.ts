/**
 * Three `strata node` processes, RF 3 (the case): one is stopped with SIGKILL, reads and
 * writes go on (writes land on the two live nodes); started again, it pulls the shards written
 * while it was away, so every shard is back on all three nodes, and no node keeps more.
 */
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/app/config.ts';
import { startStrata, type Strata } from '../../src/app/strata.ts';
import type { ShardRef } from '../../src/events/types.ts';
import { NatsShardStore } from '../../src/storage/shard-store.ts';
import { startNodeCluster, waitFor, type NodeCluster } from '../support/node-cluster.ts';
import { freePort } from '../support/ports.ts';
import { createRng, hashStream, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';
import { testCredentials } from '../support/strata.ts';

const MiB = 1024 * 1024;
const ids = ['t1', 't2', 't3'];
let cluster: NodeCluster;
let gw: Strata;
let s3: S3Client;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await startNodeCluster(ids, { STRATA_REPAIR_INTERVAL_MS: '1000', STRATA_SCRUB_BYTES_PER_SEC: '0' });
  const config = configFromEnv(
    {},
    {
      dataDir: join(cluster.dir, 'gateway'),
      port: await freePort(),
      natsUrl: cluster.nats.url,
      rootUser: testCredentials.accessKeyId,
      rootPassword: testCredentials.secretAccessKey,
    },
  );
  gw = await startStrata(config, { embeddedNode: false, log: () => {} });
  s3 = new S3Client({ endpoint: gw.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: testCredentials });
  nc = await connect({ servers: cluster.nats.url });
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await nc?.close();
  await gw?.stop();
  await cluster?.stop();
});

async function holders(shard: ShardRef): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    try {
      const data = await new NatsShardStore(nc, id, { timeoutMs: 2000 }).readShard(shard.shardId, 0, shard.length);
      if (data.length === shard.length) out.push(id);
    } catch {
      // not there, or the node is down
    }
  }
  return out;
}

describe('three nodes, RF 3, one stopped and started again', () => {
  it('keeps serving, and restores every shard to three copies when the node returns', async () => {
    const rng = createRng(testSeed('storage-replication-three'));
    await waitFor('three live nodes', () => gw.placement.replicationFactor() === 3);
    const bucket = 'three';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const expected = new Map<string, string>();
    const put = async (key: string): Promise<void> => {
      const body = randomBuffer(rng, 64 * 1024 + rng.below(3 * MiB));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      expected.set(key, sha256Hex(body));
    };
    const getAll = async (): Promise<void> => {
      for (const [key, sha] of expected) {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect((await hashStream(r.Body as AsyncIterable<Uint8Array>)).sha256, key).toBe(sha);
      }
    };
    const shards = (): ShardRef[] => [...expected.keys()].flatMap((k) => gw.store.object(bucket, k)?.shards ?? []);
    for (let i = 0; i < 6; i++) await put(`before-${i}`);
    for (const s of shards()) expect([...s.nodes].sort()).toEqual(ids);

    const stopped = cluster.nodes[2]!;
    await stopped.kill();
    await getAll();
    for (let i = 0; i < 6; i++) await put(`during-${i}`);
    for (const k of [...expected.keys()].filter((key) => key.startsWith('during-'))) {
      for (const s of gw.store.object(bucket, k)?.shards ?? []) expect(s.nodes).not.toContain(stopped.id);
    }
    await getAll();

    await stopped.start();
    await waitFor(
      'every shard on all three nodes again',
      async () => {
        for (const s of shards()) if ((await holders(s)).length !== 3) return false;
        return true;
      },
      90_000,
    );
    await getAll();
  });
});
