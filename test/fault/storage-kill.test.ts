/**
 * kill -9 a storage node in the middle of sync appends, several times over the same data dir;
 * then every acknowledged shard must be there, byte for byte, and the index the node recovered
 * must equal one rebuilt from the segments alone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageNode, type ShardLocation } from '../../src/storage/node.ts';
import { sha256Hex, testSeed } from '../support/prng.ts';

const projectRoot = new URL('../../', import.meta.url).pathname;
const segmentBytesMax = 2 * 1024 * 1024;
const rounds = 4;
const acksPerRound = 150;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Round {
  acked: Map<string, string>;
  ready: string;
}

/** Runs the writer child until it has acknowledged `acks` shards, then kills it with SIGKILL. */
async function runAndKill(dataDir: string, seed: number, acks: number): Promise<Round> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/storage-writer-child.ts', dataDir, String(seed), String(segmentBytesMax), '8'],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = once(child, 'exit');
  const acked = new Map<string, string>();
  let ready = '';
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('ready ')) ready = line.slice(6);
    const m = /^ack ([0-9a-f]{32}) ([0-9a-f]{64})$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) acked.set(m[1], m[2]);
    if (acked.size >= acks) {
      child.kill('SIGKILL');
      break;
    }
  }
  const [code, signal] = (await exited) as [number | null, string | null];
  expect(signal, `child ended by itself (code ${String(code)}):\n${stderr}`).toBe('SIGKILL');
  return { acked, ready };
}

async function dump(node: StorageNode): Promise<ShardLocation[]> {
  const all: ShardLocation[] = [];
  for await (const loc of node.listShards()) all.push(loc);
  return all;
}

describe('storage node killed with SIGKILL during sync appends', () => {
  it('keeps every acknowledged shard, and its recovered index equals a rebuilt one', async () => {
    const seed = testSeed('storage-kill');
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-storage-kill-'));
    dirs.push(dataDir);
    const acked = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      const r = await runAndKill(dataDir, seed + round, acksPerRound);
      if (round > 0) expect(JSON.parse(r.ready)).toMatchObject({ segments: expect.any(Number) });
      for (const [id, sha] of r.acked) acked.set(id, sha);
    }
    const segments = (await readdir(join(dataDir, 'segments'))).length;
    console.log(`${acked.size} acknowledged shards over ${rounds} kills, ${segments} segments`);
    expect(segments).toBeGreaterThan(rounds);

    const logs: string[] = [];
    const node = await StorageNode.open({ nodeId: 'fault-node', dataDir, segmentBytesMax, log: (l) => logs.push(l) });
    let recovered: ShardLocation[];
    try {
      console.log(`recovery after the last kill: ${JSON.stringify(node.recovery)}`);
      for (const [id, sha] of acked) {
        const loc = node.locate(id);
        expect(loc, `acknowledged shard ${id} missing`).toBeDefined();
        expect(sha256Hex(await node.readShard(id, 0, loc?.size ?? 0)), `shard ${id}`).toBe(sha);
      }
      recovered = await dump(node);
      // Shards written but not acknowledged before the kill may be there too; never fewer.
      expect(recovered.length).toBeGreaterThanOrEqual(acked.size);
    } finally {
      await node.close();
    }

    await rm(join(dataDir, 'index'), { recursive: true });
    const rebuilt = await StorageNode.open({ nodeId: 'fault-node', dataDir, segmentBytesMax, log: (l) => logs.push(l) });
    try {
      expect(rebuilt.recovery.problems).toEqual([]);
      // Sealed segments were rebuilt from their seal records, without reading payloads.
      expect(rebuilt.recovery.segmentsFromSeal).toBeGreaterThan(0);
      expect(await dump(rebuilt)).toEqual(recovered);
    } finally {
      await rebuilt.close();
    }
  });
});
