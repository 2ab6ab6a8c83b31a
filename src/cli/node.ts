/** `strata node --id N --data DIR`: a storage node as its own process, serving shards over NATS. */
import { resolve } from 'node:path';
import { configFromEnv } from '../app/config.ts';
import { nodeTuningFromEnv } from '../app/node-tuning.ts';
import { ensureStream } from '../log/stream.ts';
import { connectNats } from '../app/strata.ts';
import { hostNode } from '../storage/node-host.ts';
import { flag, stopOnSignals } from './signals.ts';

export async function runNode(args: string[]): Promise<void> {
  const id = flag(args, 'id') ?? process.env['STRATA_NODE_ID'];
  const data = flag(args, 'data') ?? process.env['STRATA_DATA_DIR'];
  const url = process.env['NATS_URL'];
  if (!id || !data || !url) {
    console.error('usage: NATS_URL=nats://host:port strata node --id NODE_ID --data DIR');
    process.exit(2);
  }
  const nc = await connectNats(url, `strata-node-${id}`);
  // The node follows the log from its first event, so the stream must exist even before any gateway.
  await ensureStream(nc, { replicas: configFromEnv(process.env).streamReplicas, duplicateWindowMs: 2 * 60 * 1000, maxMsgBytes: 1024 * 1024 });
  const hosted = await hostNode(nc, { nodeId: id, dataDir: resolve(data), log: (l) => console.error(l), ...nodeTuningFromEnv() });
  stopOnSignals(async () => {
    await hosted.stop();
    await nc.drain();
  });
  console.log(`storage node ${id} serving on ${url}, data in ${resolve(data)}`);
}
