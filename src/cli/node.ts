/** `strata node --id N --data DIR`: a storage node as its own process, serving shards over NATS. */
import { resolve } from 'node:path';
import { connectNats } from '../app/strata.ts';
import { StorageNode } from '../storage/node.ts';
import { startNodeService } from '../storage/node-service.ts';
import { flag, stopOnSignals } from './signals.ts';

export async function runNode(args: string[]): Promise<void> {
  const id = flag(args, 'id') ?? process.env['STRATA_NODE_ID'];
  const data = flag(args, 'data') ?? process.env['STRATA_DATA_DIR'];
  const url = process.env['NATS_URL'];
  if (!id || !data || !url) {
    console.error('usage: NATS_URL=nats://host:port strata node --id NODE_ID --data DIR');
    process.exit(2);
  }
  const segment = process.env['STRATA_SEGMENT_BYTES'];
  const node = await StorageNode.open({ nodeId: id, dataDir: resolve(data), ...(segment ? { segmentBytesMax: Number(segment) } : {}) });
  const nc = await connectNats(url, `strata-node-${id}`);
  const service = await startNodeService(nc, node);
  stopOnSignals(async () => {
    await service.stop();
    await nc.drain();
    await node.close();
  });
  console.log(`storage node ${id} serving on ${url}, data in ${resolve(data)}`);
}
