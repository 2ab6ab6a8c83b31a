/**
 * kill -9 in the middle of a compaction, at each named crash point: after the restart no live
 * shard is lost (every one reads byte for byte), the decision file is resolved, and a later
 * compaction leaves no segment behind that holds only dead bytes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageNode } from '../../src/storage/node.ts';
import { compactDataset, datasetLiveness, segmentBytesForCompactTest } from '../support/compact-dataset.ts';
import { sha256Hex, testSeed } from '../support/prng.ts';

const projectRoot = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runChild(dataDir: string, seed: number, crashPoint: string): Promise<{ signal: string | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/storage-compact-child.ts', dataDir, String(seed)], {
    cwd: projectRoot,
    env: { ...process.env, STRATA_CRASH_POINT: crashPoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = once(child, 'exit');
  for await (const line of createInterface({ input: child.stdout })) out += `${line}\n`;
  const [, signal] = (await exited) as [number | null, string | null];
  return { signal, out };
}

async function files(dir: string): Promise<{ names: string[]; bytes: number }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  let bytes = 0;
  for (const n of names) bytes += (await stat(join(dir, n))).size;
  return { names, bytes };
}

describe('compaction killed with SIGKILL', () => {
  for (const point of ['compact-mid-copy', 'compact-after-copy', 'compact-after-switch', 'compact-after-delete']) {
    it(`loses nothing live and leaks no segment when killed at ${point}`, async () => {
      const seed = testSeed(`compaction crash ${point}`);
      const dataDir = await mkdtemp(join(tmpdir(), 'strata-compact-crash-'));
      dirs.push(dataDir);
      const { signal, out } = await runChild(dataDir, seed, point);
      expect(signal, out).toBe('SIGKILL');
      expect(out).toContain('written');

      const data = compactDataset(seed);
      const logs: string[] = [];
      const node = await StorageNode.open({ nodeId: 'compact-node', dataDir, segmentBytesMax: segmentBytesForCompactTest, log: (l) => logs.push(l) });
      try {
        await expect(stat(join(dataDir, 'compaction.marker'))).rejects.toThrow();
        for (const s of data.filter((d) => d.live)) {
          const loc = node.locate(s.id);
          expect(loc, `live shard ${s.id} missing after ${point}`).toBeDefined();
          expect(sha256Hex(await node.readShard(s.id, 0, s.data.length))).toBe(sha256Hex(s.data));
        }
        // Whatever the crash left, the next compaction finishes the job.
        node.attachLiveness(datasetLiveness(data));
        await node.compact({ deadRatioMin: 0.3 });
        const liveBytes = data.filter((d) => d.live).reduce((n, d) => n + d.data.length + 48, 0);
        const after = await files(join(dataDir, 'segments'));
        console.log(`${point}: ${logs.join(' | ')}; ${after.names.length} segments, ${after.bytes} bytes for ${liveBytes} live`);
        // Sealed segments are all compacted below the threshold; the active one may hold slack.
        expect(after.bytes).toBeLessThan(liveBytes / 0.7 + 2 * segmentBytesForCompactTest);
        for (const s of data.filter((d) => d.live)) expect(sha256Hex(await node.readShard(s.id, 0, s.data.length))).toBe(sha256Hex(s.data));
      } finally {
        await node.close();
      }
    });
  }
});
