/**
 * A real nats-server for one test file: started on a free port with the project's nats.conf and
 * its store in a temp dir, a client connected, the event stream ensured. `stop` and `start` take
 * the same server (same port, same store) away and back, for tests of a server going away.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startEmbeddedNats, type EmbeddedNats, type EmbeddedNatsOptions } from '../../src/log/nats-server.ts';
import { ensureStream } from '../../src/log/stream.ts';
import { freePort } from './ports.ts';

export interface TestNats {
  readonly server: EmbeddedNats;
  /** The server's store dir (`-sd`). */
  readonly storeDir: string;
  /** A client that reconnects (every 100 ms) for as long as it takes. */
  readonly nc: NatsConnection;
  /** Stops the server, then starts it again on the same port and store. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Closes the client, stops the server, removes the temp dir. */
  close(): Promise<void>;
}

export async function startTestNats(label: string): Promise<TestNats> {
  const dir = await mkdtemp(join(tmpdir(), `strata-${label}-`));
  const options: EmbeddedNatsOptions = {
    bin: process.env['NATS_SERVER_BIN'] ?? 'nats-server',
    configFile: join(import.meta.dirname, '../../nats.conf'),
    storeDir: join(dir, 'nats'),
    host: '127.0.0.1',
    port: await freePort(),
    log: () => {},
  };
  let server = await startEmbeddedNats(options);
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await ensureStream(nc);
  return {
    get server() {
      return server;
    },
    nc,
    storeDir: options.storeDir,
    stop: () => server.stop(),
    async start() {
      server = await startEmbeddedNats(options);
    },
    async close() {
      await nc.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
