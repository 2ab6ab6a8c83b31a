/**
 * A storage node that writes a seeded data set (half of it dead), then compacts it; run with
 * STRATA_CRASH_POINT set, it dies with SIGKILL at that point of the compaction
 * (test/fault/storage-compaction-crash.test.ts).
 *
 *   node --import tsx test/support/storage-compact-child.ts <dataDir> <seed>
 *
 * Prints `written` after the data set is durable, `compacted <summary JSON>` if it lives.
 */
import { StorageNode } from '../../src/storage/node.ts';
import { compactDataset, datasetLiveness, segmentBytesForCompactTest } from './compact-dataset.ts';

const [dataDir, seedArg] = process.argv.slice(2);
if (dataDir === undefined || seedArg === undefined) {
  console.error('usage: storage-compact-child.ts <dataDir> <seed>');
  process.exit(2);
}
const data = compactDataset(Number(seedArg));
const node = await StorageNode.open({ nodeId: 'compact-node', dataDir, segmentBytesMax: segmentBytesForCompactTest, log: () => {} });
for (const s of data) await node.putShard(s.id, [s.data], { sync: false });
await node.sync();
process.stdout.write('written\n');
node.attachLiveness(datasetLiveness(data));
const summary = await node.compact({ deadRatioMin: 0.3 });
await node.close();
process.stdout.write(`compacted ${JSON.stringify(summary)}\n`);
