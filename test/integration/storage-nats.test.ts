/**
 * The storage node over NATS: a real nats-server on a temp dir, NatsShardStore on one connection
 * and the node service on another. The same shard-store suite also runs against LocalShardStore.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limits } from '../../src/lib/limits.ts';
import { startEmbeddedNats, type EmbeddedNats } from '../../src/log/nats-server.ts';
import { NodeOverloadedError, NodeUnavailableError, ShardNotFoundError, ShardRangeError, ShardTooLargeError } from '../../src/storage/errors.ts';
import { StorageNode } from '../../src/storage/node.ts';
import { NodeHeader, nodeSubjects, replyStatus, requestHeaders } from '../../src/storage/node-protocol.ts';
import { startNodeService, type NodeService } from '../../src/storage/node-service.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { LocalShardStore, NatsShardStore, maxShardBytes, type ShardStore } from '../../src/storage/shard-store.ts';
import { freePort } from '../support/ports.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';

const MiB = 1024 * 1024;

async function startServer(dir: string, maxPayload: string): Promise<EmbeddedNats> {
  const configFile = join(dir, `nats-${maxPayload}.conf`);
  await writeFile(configFile, `max_payload: ${maxPayload}\n`);
  return startEmbeddedNats({
    bin: '/usr/sbin/nats-server',
    configFile,
    storeDir: join(dir, `nats-${maxPayload}`),
    host: '127.0.0.1',
    port: await freePort(),
    log: (l) => console.error(l),
  });
}

let dir: string;
let server: EmbeddedNats;
let serverNc: NatsConnection;
let clientNc: NatsConnection;
let node: StorageNode;
let service: NodeService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-storage-nats-'));
  server = await startServer(dir, '8MB');
  serverNc = await connect({ servers: server.url });
  clientNc = await connect({ servers: server.url });
  node = await StorageNode.open({ nodeId: 'node-a', dataDir: join(dir, 'node-a'), log: () => {} });
  service = await startNodeService(serverNc, node);
});

afterAll(async () => {
  await service.stop();
  await node.close();
  await clientNc.close();
  await serverNc.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const implementations: [string, () => ShardStore][] = [
  ['LocalShardStore', () => new LocalShardStore(node)],
  ['NatsShardStore', () => new NatsShardStore(clientNc, 'node-a')],
];

describe.each(implementations)('%s', (_name, makeStore) => {
  it('round-trips a 4 MiB shard and serves range reads', async () => {
    const rng = createRng(testSeed('storage-nats 4MiB'));
    const store = makeStore();
    expect(store.nodeId).toBe('node-a');
    const data = randomBuffer(rng, limits.shardBytesMax);
    const id = newShardId();
    const put = await store.putShard(id, [data.subarray(0, 1000), data.subarray(1000)], { sync: true });
    expect(put).toMatchObject({ shardId: id, nodeId: 'node-a', size: data.length });
    expect((await store.readShard(id, 0, data.length)).equals(data)).toBe(true);
    for (let i = 0; i < 20; i++) {
      const offset = rng.below(data.length);
      const length = rng.below(Math.min(data.length - offset, 3 * MiB) + 1);
      expect((await store.readShard(id, offset, length)).equals(data.subarray(offset, offset + length))).toBe(true);
    }
    await expect(store.readShard(id, data.length - 1, 2)).rejects.toBeInstanceOf(ShardRangeError);
    await expect(store.readShard(newShardId(), 0, 1)).rejects.toBeInstanceOf(ShardNotFoundError);
  });

  it('takes concurrent puts', async () => {
    const rng = createRng(testSeed('storage-nats concurrent'));
    const store = makeStore();
    const shards = Array.from({ length: 48 }, () => ({ id: newShardId(), data: randomBuffer(rng, rng.below(MiB)) }));
    // Fewer in flight than the node allows, so none is turned away as overloaded.
    const results = await Promise.all(shards.map((s, i) => store.putShard(s.id, [s.data], { sync: i % 2 === 0 })));
    expect(results.map((r) => r.size)).toEqual(shards.map((s) => s.data.length));
    const back = await Promise.all(shards.map((s) => store.readShard(s.id, 0, s.data.length)));
    back.forEach((b, i) => expect(b.equals(shards[i]?.data ?? Buffer.alloc(0))).toBe(true));
  });
});

describe('NatsShardStore', () => {
  it('sizes shards from the server max_payload', async () => {
    expect(maxShardBytes(clientNc)).toBe(limits.shardBytesMax);
    const small = await startServer(dir, '1MB');
    const nc = await connect({ servers: small.url });
    try {
      const max = maxShardBytes(nc);
      expect(max).toBe(MiB - limits.natsPayloadHeadroomBytes);
      const store = new NatsShardStore(nc, 'node-a');
      await expect(store.putShard(newShardId(), [Buffer.alloc(max + 1)], { sync: false })).rejects.toBeInstanceOf(ShardTooLargeError);
    } finally {
      await nc.close();
      await small.stop();
    }
  });

  it('reports a node nobody serves as unavailable', async () => {
    const store = new NatsShardStore(clientNc, 'node-nobody', { timeoutMs: 2000 });
    await expect(store.readShard(newShardId(), 0, 1)).rejects.toBeInstanceOf(NodeUnavailableError);
  });

  it('refuses a payload damaged in transit', async () => {
    const h = requestHeaders({ [NodeHeader.shardId]: newShardId(), [NodeHeader.crc32]: 12345, [NodeHeader.sync]: '1' });
    const reply = await clientNc.request(nodeSubjects('node-a').put, Buffer.from('not what the crc says'), { headers: h, timeout: 5000 });
    expect(replyStatus(reply.headers)).toMatchObject({ kind: 'error', code: 'checksum-mismatch' });
    const bad = await clientNc.request(nodeSubjects('node-a').read, undefined, { headers: requestHeaders({ [NodeHeader.shardId]: 'xyz' }), timeout: 5000 });
    expect(replyStatus(bad.headers)).toMatchObject({ kind: 'error', code: 'bad-request' });
  });

  it('answers info with the node stats', async () => {
    const reply = await clientNc.request(nodeSubjects('node-a').info, undefined, { timeout: 5000 });
    expect(reply.json<{ nodeId: string }>().nodeId).toBe('node-a');
  });

  it('turns requests beyond its in-flight limit away as overloaded, then stops cleanly', async () => {
    const rng = createRng(testSeed('storage-nats overload'));
    const other = await StorageNode.open({ nodeId: 'node-b', dataDir: join(dir, 'node-b'), log: () => {} });
    const svc = await startNodeService(serverNc, other, { requestsInFlightMax: 1 });
    try {
      const store = new NatsShardStore(clientNc, 'node-b');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 16 }, () => store.putShard(newShardId(), [randomBuffer(rng, MiB)], { sync: true })),
      );
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(NodeOverloadedError);
      expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
      await svc.stop();
      expect(svc.inFlight()).toBe(0);
      await expect(new NatsShardStore(clientNc, 'node-b', { timeoutMs: 2000 }).readShard(newShardId(), 0, 1)).rejects.toBeInstanceOf(
        NodeUnavailableError,
      );
    } finally {
      await svc.stop();
      await other.close();
    }
  });
});
