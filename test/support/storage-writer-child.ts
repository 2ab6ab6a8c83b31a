/**
 * A storage node writing shards until it is killed, for test/fault/storage-kill.test.ts.
 *
 *   node --import tsx test/support/storage-writer-child.ts <dataDir> <seed> <segmentBytesMax> <concurrency>
 *
 * Prints `ready <recovery report JSON>` once open, then `ack <shardId> <sha256>` for every shard
 * whose sync put resolved. stdout to a pipe is synchronous on Linux, so a line the parent read is
 * a promise the node made before it died.
 */
import { StorageNode } from '../../src/storage/node.ts';
import { newShardId } from '../../src/storage/shard-id.ts';
import { createRng, randomBuffer, sha256Hex } from './prng.ts';

const [dataDir, seedArg, segmentArg, concurrencyArg] = process.argv.slice(2);
if (dataDir === undefined || seedArg === undefined || segmentArg === undefined || concurrencyArg === undefined) {
  console.error('usage: storage-writer-child.ts <dataDir> <seed> <segmentBytesMax> <concurrency>');
  process.exit(2);
}
const rng = createRng(Number(seedArg));
const node = await StorageNode.open({ nodeId: 'fault-node', dataDir, segmentBytesMax: Number(segmentArg) });
process.stdout.write(`ready ${JSON.stringify(node.recovery)}\n`);

async function worker(): Promise<never> {
  for (;;) {
    const id = newShardId((n) => randomBuffer(rng, n));
    // Mostly small shards, now and then a large one, so records straddle segment ends.
    const size = rng.below(8) === 0 ? rng.below(1024 * 1024) : rng.below(64 * 1024);
    const data = randomBuffer(rng, size);
    await node.putShard(id, [data], { sync: true });
    process.stdout.write(`ack ${id} ${sha256Hex(data)}\n`);
  }
}

await Promise.all(Array.from({ length: Number(concurrencyArg) }, () => worker()));
