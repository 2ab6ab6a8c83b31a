/**
 * `strata <command>`: one file per command under src/cli/.
 *   server    the embedded default: nats-server, storage node, projector and S3 gateway
 *   gateway   an S3 gateway only, against NATS_URL and the storage nodes in STRATA_NODES
 *   node      a storage node only, serving shards over NATS (--id, --data)
 *   replay    --rebuild [--projection NAME]: rebuild the read model from the log
 *   compact   compact a storage node's segments now (--node)
 *   repair    re-replicate the shards of a lost node now (--node)
 */
import { runGateway, runServer } from './server.ts';
import { runCompact } from './compact.ts';
import { runNode } from './node.ts';
import { runRepair } from './repair.ts';
import { runReplay } from './replay.ts';
import { EmbeddedNatsError } from '../log/nats-server.ts';

const commands: Record<string, (args: string[]) => Promise<void>> = {
  server: runServer,
  gateway: runGateway,
  node: runNode,
  replay: runReplay,
  compact: runCompact,
  repair: runRepair,
};

const [name = 'server', ...args] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  console.error(`unknown command ${name}; commands: ${Object.keys(commands).join(', ')}`);
  process.exit(2);
}
try {
  await command(args);
} catch (err) {
  // What an operator can fix (a port another process holds) is said in a line, not a stack.
  if (err instanceof EmbeddedNatsError || (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')) {
    console.error(`strata ${name}: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
