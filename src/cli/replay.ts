/**
 * `strata replay --rebuild [--projection NAME]`: rebuild the read model from the log.
 *
 * With a gateway running (it answers on strata.admin.<id>.rebuild), the gateway rebuilds beside
 * its live model and swaps with no downtime; this command shows the progress. Without one, the
 * model directory is rebuilt offline (starting the embedded nats-server when NATS_URL is unset).
 */
import { join } from 'node:path';
import { createInbox } from '@nats-io/transport-node';
import { adminSubject, type AdminMessage } from '../app/admin.ts';
import { configFromEnv } from '../app/config.ts';
import { isProjectionName } from '../app/rebuild.ts';
import { nextModelDir, switchModelDir } from '../app/model-dir.ts';
import { connectNats } from '../app/strata.ts';
import { startEmbeddedNats } from '../log/nats-server.ts';
import type { RebuildProgress } from '../projections/rebuild.ts';
import { rebuildInto } from '../projections/rebuild.ts';
import { flag } from './signals.ts';

const barWidth = 30;

export function progressLine(p: RebuildProgress): string {
  const frac = p.targetSeq === 0 ? 1 : Math.min(1, p.appliedSeq / p.targetSeq);
  const rate = p.elapsedMs > 0 ? (p.events * 1000) / p.elapsedMs : 0;
  const etaS = rate > 0 ? Math.max(0, (p.targetSeq - p.appliedSeq) / rate) : 0;
  const filled = Math.round(frac * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(frac * 100).toFixed(1)}%  seq ${p.appliedSeq}/${p.targetSeq}  ${Math.round(rate)} events/s  ETA ${etaS.toFixed(1)} s`;
}

function show(p: RebuildProgress): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${progressLine(p)}`);
  else process.stderr.write(`${progressLine(p)}\n`);
}

export async function runReplay(args: string[]): Promise<void> {
  if (!args.includes('--rebuild')) {
    console.error('usage: strata replay --rebuild [--projection NAME] [--data DIR]');
    process.exit(2);
  }
  const projection = flag(args, 'projection');
  if (projection !== undefined && !isProjectionName(projection)) {
    console.error(`unknown projection ${projection}`);
    process.exit(2);
  }
  const data = flag(args, 'data');
  const config = configFromEnv(process.env, data ? { dataDir: data } : {});
  const url = config.natsUrl ?? `nats://${config.natsHost}:${config.natsPort}`;
  let nc = await connectNats(url, 'strata-replay').catch(() => undefined);
  if (nc) {
    const inbox = createInbox();
    const sub = nc.subscribe(inbox);
    const replies = sub[Symbol.asyncIterator]();
    nc.publish(adminSubject(config.gatewayId, 'rebuild'), JSON.stringify(projection ? { projection } : {}), { reply: inbox });
    // A gateway answers at once with its first progress message; silence means none is running.
    const first = await Promise.race([replies.next(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000))]);
    if (first && !first.done) {
      let m = JSON.parse(new TextDecoder().decode(first.value.data)) as AdminMessage;
      for (;;) {
        if (m.kind === 'progress') show(m.progress);
        else if (m.kind === 'error') {
          console.error(`\nrebuild failed: ${m.error}`);
          process.exit(1);
        } else {
          const s = m.summary;
          console.log(`\nrebuilt ${s.events} events up to seq ${s.lastSeq} in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.eventsPerSec} events/s); swapped in with no downtime`);
          if (s.projection) console.log(`projection ${s.projection}: ${s.equal === undefined ? 'not compared (writes arrived during the swap)' : s.equal ? 'equal to the live one' : 'DIFFERS from the live one'}`);
          await nc.close();
          return;
        }
        const next = await replies.next();
        if (next.done) break;
        m = JSON.parse(new TextDecoder().decode(next.value.data)) as AdminMessage;
      }
    }
    // No gateway answered: rebuild offline below.
    await nc.close();
    nc = undefined;
  }
  const nats = config.natsUrl
    ? undefined
    : await startEmbeddedNats({ bin: config.natsServerBin, configFile: config.natsConfigFile, storeDir: join(config.dataDir, 'nats'), host: config.natsHost, port: config.natsPort, log: (l) => console.error(l) });
  const conn = await connectNats(nats?.url ?? url, 'strata-replay');
  try {
    const gatewayDir = join(config.dataDir, 'gateways', config.gatewayId);
    const shadow = nextModelDir(gatewayDir, Date.now());
    const r = await rebuildInto(conn, shadow, { onProgress: show });
    await r.store.close();
    await switchModelDir(gatewayDir, shadow);
    const rate = r.elapsedMs > 0 ? Math.round((r.events * 1000) / r.elapsedMs) : r.events;
    console.log(`\nrebuilt ${r.events} events up to seq ${r.lastSeq} in ${(r.elapsedMs / 1000).toFixed(1)} s (${rate} events/s), offline (no gateway was running)`);
  } finally {
    await conn.close();
    await nats?.stop();
  }
}
