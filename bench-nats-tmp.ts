import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { startEmbeddedNats } from './src/log/nats-server.ts';
import { StorageNode } from './src/storage/node.ts';
import { startNodeService } from './src/storage/node-service.ts';
import { newShardId } from './src/storage/shard-id.ts';
import { NatsShardStore } from './src/storage/shard-store.ts';
const dir = await mkdtemp('/work/main/.bench-');
await writeFile(join(dir, 'n.conf'), 'max_payload: 8MB\n');
const srv = await startEmbeddedNats({ bin: '/usr/sbin/nats-server', configFile: join(dir, 'n.conf'), storeDir: join(dir, 'nats'), host: '127.0.0.1', port: 14999, log: console.error });
const a = await connect({ servers: srv.url }); const b = await connect({ servers: srv.url });
const node = await StorageNode.open({ nodeId: 'b', dataDir: join(dir, 'node') });
const svc = await startNodeService(a, node);
const store = new NatsShardStore(b, 'b');
const data = Buffer.alloc(1 << 20, 3);
for (const [sync, conc] of [[false, 1], [false, 16], [true, 1], [true, 16]] as const) {
  const total = 256; let n = 0; const t = performance.now(); const ids: string[] = [];
  await Promise.all(Array.from({ length: conc }, async () => { while (n < total) { n++; const id = newShardId(); ids.push(id); await store.putShard(id, [data], { sync }); } }));
  const ms = performance.now() - t;
  const t2 = performance.now(); let m = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (m < total) { const id = ids[m++]!; await store.readShard(id, 0, data.length); } }));
  const ms2 = performance.now() - t2;
  console.log(`nats put sync=${sync} conc=${conc}: ${(total / (ms / 1000)).toFixed(0)} MiB/s; read ${(total / (ms2 / 1000)).toFixed(0)} MiB/s`);
}
await svc.stop(); await node.close(); await a.close(); await b.close(); await srv.stop(); await rm(dir, { recursive: true });
