/**
 * The embedded nats-server: it is taken as ready only when the server answering on its port is
 * itself. With another nats-server (another Strata's, say) on the port, the child cannot bind
 * and exits; before, the start then connected to the other server and carried on with its
 * JetStream as if it were ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedNatsError, embeddedServerName, startEmbeddedNats } from '../../src/log/nats-server.ts';
import { freePort } from '../support/ports.ts';

const bin = process.env['NATS_SERVER_BIN'] ?? 'nats-server';
const configFile = join(import.meta.dirname, '../../nats.conf');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-embedded-nats-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A plain nats-server, not started by Strata, ready once it accepts a connection. */
async function startOtherServer(port: number): Promise<ChildProcess> {
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'other'), '--server_name', 'someone-else'], { stdio: 'ignore' });
  for (;;) {
    try {
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 500 });
      await nc.close();
      return child;
    } catch {
      if (child.exitCode !== null) throw new Error(`the other nats-server exited (${String(child.exitCode)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('embedded nats-server', () => {
  it('answers under its own name, derived from its store dir', async () => {
    const storeDir = join(dir, 'own');
    const server = await startEmbeddedNats({ bin, configFile, storeDir, host: '127.0.0.1', port: await freePort(), log: () => {} });
    try {
      const nc = await connect({ servers: server.url });
      expect(nc.info?.server_name).toBe(embeddedServerName(storeDir));
      expect(embeddedServerName(storeDir)).not.toBe(embeddedServerName(join(dir, 'another')));
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it('fails, naming the other server, when another nats-server holds its port', async () => {
    const port = await freePort();
    const other = await startOtherServer(port);
    try {
      const lines: string[] = [];
      const start = startEmbeddedNats({ bin, configFile, storeDir: join(dir, 'blocked'), host: '127.0.0.1', port, log: (l) => lines.push(l) });
      await expect(start).rejects.toBeInstanceOf(EmbeddedNatsError);
      await expect(start).rejects.toThrow(/another nats-server \(someone-else\) answers on nats:\/\/127\.0\.0\.1:\d+/);
      // The child said why it gave up.
      expect(lines.some((l) => /\[FTL\].*address already in use/.test(l))).toBe(true);
      // The other server is untouched and still serving.
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      expect(nc.info?.server_name).toBe('someone-else');
      await nc.close();
    } finally {
      other.kill('SIGTERM');
      if (other.exitCode === null) await once(other, 'exit');
    }
  });
});
