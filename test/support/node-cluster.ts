/**
 * A nats-server and several `strata node` processes on temp dirs, for multi-node tests: nodes can
 * be killed with SIGKILL and started again on the same data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedNats, type EmbeddedNats } from '../../src/log/nats-server.ts';
import { freePort } from './ports.ts';

const projectRoot = new URL('../../', import.meta.url).pathname;

export interface ClusterNode {
  readonly id: string;
  readonly dataDir: string;
  running(): boolean;
  output(): string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export interface NodeCluster {
  readonly dir: string;
  readonly nats: EmbeddedNats;
  readonly nodes: ClusterNode[];
  stop(): Promise<void>;
}

export async function startNodeCluster(ids: readonly string[], env: Record<string, string> = {}): Promise<NodeCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cluster-'));
  const nats = await startEmbeddedNats({
    bin: process.env['NATS_SERVER_BIN'] ?? 'nats-server',
    configFile: join(projectRoot, 'nats.conf'),
    storeDir: join(dir, 'nats'),
    host: '127.0.0.1',
    port: await freePort(),
    log: () => {},
  });
  const nodes = ids.map((id) => clusterNode(id, join(dir, id), nats.url, env));
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (err) {
    for (const n of nodes) await n.kill();
    await nats.stop();
    throw err;
  }
  return {
    dir,
    nats,
    nodes,
    async stop() {
      for (const n of nodes) await n.kill();
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function clusterNode(id: string, dataDir: string, natsUrl: string, env: Record<string, string>): ClusterNode {
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let out = '';
  return {
    id,
    dataDir,
    running: () => child !== undefined,
    output: () => out,
    async start() {
      const c = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'node', '--id', id, '--data', dataDir], {
        cwd: projectRoot,
        env: { ...process.env, NATS_URL: natsUrl, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      exited = once(c, 'exit');
      c.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`node ${id} not up:\n${out}`)), 30_000);
        c.stdout?.on('data', (b: Buffer) => {
          out += b.toString('utf8');
          if (out.includes(`storage node ${id} serving`)) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.on('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`node ${id} exited (${String(code)}, ${String(signal)}):\n${out}`));
        });
      });
    },
    async kill() {
      if (child === undefined) return;
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
  };
}

/** Polls `check` until it returns true (every 100 ms), failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
