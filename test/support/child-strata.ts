/**
 * Strata as a child process (`node --import tsx src/cli/main.ts server`), for tests that kill it:
 * started on a data dir with fixed ports, ready once it prints "Strata is up", and killable with
 * SIGKILL together with its embedded nats-server (which, as a child, would outlive it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { testCredentials } from './strata.ts';

const projectRoot = new URL('../../', import.meta.url).pathname;
const readyTimeoutMs = 60_000;

export interface ChildStrata {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly natsPid: number;
  /** Everything the process wrote so far, for failure messages. */
  output(): string;
  client(opts?: { maxAttempts?: number }): S3Client;
  /** SIGKILL to the server and to its nats-server; resolves once both are gone. */
  killHard(): Promise<void>;
  /** SIGTERM (clean shutdown); resolves on exit. */
  stop(): Promise<void>;
}

export async function startChildStrata(o: { dataDir: string; port: number; natsPort: number }): Promise<ChildStrata> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      STRATA_DATA_DIR: o.dataDir,
      STRATA_PORT: String(o.port),
      STRATA_NATS_PORT: String(o.natsPort),
      STRATA_ROOT_USER: testCredentials.accessKeyId,
      STRATA_ROOT_PASSWORD: testCredentials.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = once(child, 'exit');

  // Ready when the banner is complete (its last line starts with "Try:").
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Strata not up after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
    const check = (): void => {
      if (/Strata is up\.[\s\S]*\nTry: /.test(out)) done();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(new Error(`Strata exited before it was up (code ${String(code)}, signal ${String(signal)}):\n${out}`));
    function done(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', onExit);
    check();
  });

  const endpoint = /S3 endpoint:\s+(\S+)/.exec(out)?.[1];
  const pidFromBanner = /embedded nats-server, pid (\d+)/.exec(out)?.[1];
  if (!endpoint || !pidFromBanner) throw new Error(`cannot read endpoint and nats-server pid from:\n${out}`);
  const natsPid = Number(pidFromBanner);
  let gone = false;
  const pidFile = readFileSync(join(o.dataDir, 'nats', 'nats-server.pid'), 'utf8').trim();
  if (Number(pidFile) !== natsPid) throw new Error(`nats-server pid file says ${pidFile}, banner says ${natsPid}`);

  return {
    child,
    endpoint,
    natsPid,
    output: () => out,
    client: (opts = {}) =>
      new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: testCredentials,
        ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
      }),
    async killHard() {
      if (gone) return;
      gone = true;
      child.kill('SIGKILL');
      // Only the nats-server we started: a pid that is gone may have been reused.
      if (isNatsServer(natsPid)) process.kill(natsPid, 'SIGKILL');
      await exited;
      await waitUntilGone(natsPid);
    },
    async stop() {
      if (gone) return;
      gone = true;
      child.kill('SIGTERM');
      await exited;
      await waitUntilGone(natsPid);
    },
  };
}

/**
 * Resolves once `pid` no longer runs. The nats-server is not our child, so there is no exit event
 * to wait on; polling /proc is the condition (a zombie reparented to init counts as gone).
 */
export async function waitUntilGone(pid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function isNatsServer(pid: number): boolean {
  try {
    return isRunning(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server');
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 is the state; Z (zombie) and X (dead) do not hold files or ports any more.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
