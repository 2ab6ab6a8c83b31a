/**
 * Runs the embedded nats-server: a child process with JetStream on, its store under the data
 * dir and its settings from nats.conf. A pid file lets the next start find a server left behind
 * by a `kill -9` of Strata (a child does not die with its parent) and stop it before starting.
 */
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
  const args = ['-c', o.configFile, '-js', '-a', o.host, '-p', String(o.port), '-sd', o.storeDir, '-P', pidFile];
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
  await waitReady(url, () => exited, tail);
  const pid = child.pid ?? 0;
  return { url, pid, stop: () => stopChild(child) };
}

async function waitReady(url: string, exited: () => string | undefined, tail: string[]): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const why = exited();
    if (why) throw new Error(`${why}\n${tail.join('\n')}`);
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: url, timeout: 500, reconnect: false });
      // JetStream is ready when its account info answers.
      await nc.request('$JS.API.INFO', undefined, { timeout: 1000 });
      await nc.close();
      return;
    } catch {
      await nc?.close().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`nats-server at ${url} not ready after ${startTimeoutMs} ms\n${tail.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
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
