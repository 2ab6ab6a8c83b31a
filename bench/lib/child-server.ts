/**
 * Runs a server under test as a child process (a script under bench/servers/), so the client and
 * the server each have their own event loop, as they would in production. The child reports
 * `{type: 'ready', endpoint}` over IPC; `stop()` asks it to shut down cleanly (a CPU profile is
 * written then) and kills it if it has not exited after a grace period.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { RunningServer } from '../types.ts';

export type ChildMessage = { type: 'ready'; endpoint: string; natsUrl?: string } | { type: 'failed'; message: string };
export type ParentMessage = { type: 'stop' };

const startTimeoutMs = 60_000;
const stopGraceMs = 30_000;

export interface ChildServerOptions {
  /** Script path relative to bench/. */
  readonly script: string;
  /** Passed to the child as the JSON env var BENCH_SERVER_SPEC. */
  readonly spec: unknown;
  readonly extraExecArgv?: readonly string[];
}

export async function startChildServer(o: ChildServerOptions): Promise<RunningServer> {
  const scriptPath = new URL(`../${o.script}`, import.meta.url).pathname;
  const child = fork(scriptPath, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_SERVER_SPEC: JSON.stringify(o.spec) },
    execArgv: [...process.execArgv, ...(o.extraExecArgv ?? [])],
  });
  const ready = await waitReady(child, o.script);
  return {
    endpoint: ready.endpoint,
    ...(ready.natsUrl === undefined ? {} : { natsUrl: ready.natsUrl }),
    pid: child.pid ?? 0,
    stop: () => stopChild(child),
  };
}

function waitReady(child: ChildProcess, name: string): Promise<{ endpoint: string; natsUrl?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready after ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    const onMessage = (m: ChildMessage): void => {
      cleanup();
      if (m.type === 'ready') resolve(m.natsUrl === undefined ? { endpoint: m.endpoint } : { endpoint: m.endpoint, natsUrl: m.natsUrl });
      else reject(new Error(`${name}: ${m.message}`));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${name}: exited before it was ready (code ${String(code)}, signal ${String(signal)})`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  const stop: ParentMessage = { type: 'stop' };
  if (child.connected) child.send(stop);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
  await exited;
  clearTimeout(timer);
}

/** For the child: calls `onStop` when the parent says stop or goes away, then exits. */
export function serveUntilStopped(onStop: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    onStop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`stop failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
}

export function reportToParent(m: ChildMessage): void {
  process.send?.(m);
}

export function childSpec<T>(): T {
  const text = process.env['BENCH_SERVER_SPEC'];
  if (text === undefined) throw new Error('BENCH_SERVER_SPEC is not set: this script is started by bench/main.ts');
  return JSON.parse(text) as T;
}
