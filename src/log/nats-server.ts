/**
 * Runs the embedded nats-server: a child process with JetStream on, its store under the data
 * dir and its settings from nats.conf. A pid file lets the next start find a server left behind
 * by a `kill -9` of Strata (a child does not die with its parent) and stop it before starting.
 *
 * The child is named after its store dir (`--server_name`), and it is ready only when a server
 * answering on its port has that name: when another nats-server (another Strata's, say) holds the
 * port, the child exits on its bind error, and the one that answers must not be taken for it.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface EmbeddedNatsOptions {
  readonly bin: string;
  readonly configFile: string;
  readonly storeDir: string;
  readonly host: string;
  readonly port: number;
  readonly log: (line: string) => void;
}

export interface EmbeddedNats {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const startTimeoutMs = 15_000;

export async function startEmbeddedNats(o: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  await mkdir(o.storeDir, { recursive: true });
  const pidFile = join(o.storeDir, 'nats-server.pid');
  await stopStale(pidFile, o.log);
  const name = embeddedServerName(o.storeDir);
  const args = ['-c', o.configFile, '-js', '-a', o.host, '-p', String(o.port), '-sd', o.storeDir, '-P', pidFile, '--server_name', name];
  const child = spawn(o.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited: string | undefined;
  const tail: string[] = [];
  const onLine = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (/\[(ERR|FTL|WRN)\]/.test(line)) o.log(`nats-server: ${line}`);
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  child.on('exit', (code, signal) => {
    exited = `nats-server exited (code ${String(code)}, signal ${String(signal)})`;
  });
  child.on('error', (err) => {
    exited = `nats-server could not start (${o.bin}): ${err.message}`;
  });
  const url = `nats://${o.host}:${o.port}`;
  try {
    await waitReady(url, name, () => exited, tail);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const pid = child.pid ?? 0;
  return { url, pid, stop: () => stopChild(child) };
}

/** The embedded server's name: stable for a store dir, different for another Strata's. */
export function embeddedServerName(storeDir: string): string {
  return `strata-${createHash('sha256').update(storeDir).digest('hex').slice(0, 16)}`;
}

async function waitReady(url: string, name: string, exited: () => string | undefined, tail: string[]): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let foreign: string | undefined;
  const portTaken = (): EmbeddedNatsError =>
    new EmbeddedNatsError(
      `another nats-server (${foreign ?? ''}) answers on ${url}, so the embedded one cannot listen there: stop it, or set STRATA_NATS_PORT (or NATS_URL to use that server)\n${excerpt(tail)}`,
    );
  for (;;) {
    const why = exited();
    if (why) throw foreign !== undefined ? portTaken() : new EmbeddedNatsError(`${why}\n${excerpt(tail)}`);
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: url, timeout: 500, reconnect: false });
      if (nc.info?.server_name !== name) {
        foreign = nc.info?.server_name ?? '(unnamed)';
      } else {
        // JetStream is ready when its account info answers.
        await nc.request('$JS.API.INFO', undefined, { timeout: 1000 });
        await nc.close();
        return;
      }
    } catch {
      // Not listening yet, or JetStream not ready yet.
    }
    await nc?.close().catch(() => undefined);
    // Another server answering is an error once the child has given up on the port (checked
    // above) or the wait is over: right after a restart an old one may still be going away.
    if (Date.now() > deadline && foreign !== undefined) throw portTaken();
    if (Date.now() > deadline) throw new EmbeddedNatsError(`nats-server at ${url} not ready after ${startTimeoutMs} ms\n${excerpt(tail)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server's error and warning lines when it logged any, else its last lines. */
function excerpt(tail: readonly string[]): string {
  const problems = tail.filter((l) => /\[(ERR|FTL|WRN)\]/.test(l));
  return (problems.length > 0 ? problems : tail).join('\n');
}

/** The embedded nats-server could not be started; the message carries its last log lines. */
export class EmbeddedNatsError extends Error {
  override readonly name = 'EmbeddedNatsError';
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    // SIGTERM makes nats-server flush and close its JetStream store cleanly.
    child.kill('SIGTERM');
  });
}

async function stopStale(pidFile: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isNatsServer(pid)) return;
  log(`stopping nats-server ${pid} left behind by a previous run`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return isNatsServer(pid);
  } catch {
    return false;
  }
}

function isNatsServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server');
  } catch {
    return false;
  }
}
