/**
 * `strata repair --node N`: re-replicate now the shards the log placed on node N (lost, or being
 * retired). Asks every other live node (from the registry) to pull the copies it is now ranked
 * for, and prints what each did. Nodes also do this by themselves when the set of live nodes
 * changes; this is the on-demand form.
 */
import { connectNats } from '../app/strata.ts';
import { systemClock } from '../lib/clock.ts';
import { nodeSubjects, replyStatus } from '../storage/node-protocol.ts';
import { NodeDirectory } from '../storage/registry.ts';
import type { ReplicaReport } from '../storage/repair.ts';
import { flag } from './signals.ts';

export async function runRepair(args: string[]): Promise<void> {
  const lost = flag(args, 'node');
  const url = process.env['NATS_URL'];
  if (!lost || !url) {
    console.error('usage: NATS_URL=nats://host:port strata repair --node NODE_ID');
    process.exit(2);
  }
  const nc = await connectNats(url, `strata-repair-${lost}`);
  const directory = await NodeDirectory.open(nc, systemClock);
  const peers = directory.live().filter((id) => id !== lost);
  await directory.stop();
  if (peers.length === 0) {
    console.error('no live storage node to repair onto');
    await nc.close();
    process.exit(1);
  }
  let failed = false;
  const started = Date.now();
  await Promise.all(
    peers.map(async (id) => {
      const reply = await nc.request(nodeSubjects(id).repair, JSON.stringify({ lostNodeId: lost }), { timeout: 6 * 3600 * 1000 });
      const status = replyStatus(reply.headers);
      if (status.kind === 'error') {
        failed = true;
        console.log(`${id}: failed: ${status.code}: ${status.message}`);
        return;
      }
      const r = JSON.parse(reply.string()) as ReplicaReport;
      if (r.failed > 0) failed = true;
      console.log(`${id}: checked ${r.checked} shards of ${lost}, pulled ${r.pulled} copies, ${r.failed} without a healthy source, ${r.extraDropped} extra copies forgotten`);
    }),
  );
  console.log(`repair of ${lost} done in ${((Date.now() - started) / 1000).toFixed(1)} s on ${peers.length} nodes`);
  await nc.close();
  if (failed) process.exit(1);
}
