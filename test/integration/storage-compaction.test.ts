/**
 * Log-driven liveness and compaction through the whole stack: objects are written and overwritten
 * over S3, the embedded node learns from the log which shards are dead, and compaction gives their
 * space back while GETs keep running; every live object still reads byte for byte.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, hashStream, randomBuffer, sha256Hex, testSeed } from '../support/prng.ts';
import { startTestStrata, type TestStrata } from '../support/strata.ts';

// Unreferenced shards are reclaimable at once here (the default grace is an hour).
process.env['STRATA_SHARD_GRACE_MS'] = '0';

const MiB = 1024 * 1024;
const dataMiB = Number(process.env['STRATA_COMPACTION_TEST_MIB'] ?? 200);
const objectBytes = 4 * MiB;
const objects = Math.ceil((dataMiB * MiB) / objectBytes);
const staticBytes = 1 * MiB;

let h: TestStrata;
let s3: S3Client;

beforeAll(async () => {
  h = await startTestStrata({ segmentBytesMax: 16 * MiB });
  s3 = h.client();
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await h?.stop();
});

async function segmentBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) if (name.endsWith('.seg')) total += (await stat(join(dir, name))).size;
  return total;
}

describe('compaction driven by the log', () => {
  it(`reclaims the dead bytes of a ${dataMiB} MiB data set overwritten twice, while GETs succeed`, async () => {
    const seed = testSeed('storage-compaction');
    const rng = createRng(seed);
    const bucket = 'compaction';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const expected = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < objects; i += 4) {
        await Promise.all(
          Array.from({ length: Math.min(4, objects - i) }, async (_, j) => {
            const key = `obj-${String(i + j).padStart(4, '0')}`;
            const body = randomBuffer(rng, objectBytes);
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
            expected.set(key, sha256Hex(body));
          }),
        );
        if (round === 0) {
          // Objects never overwritten, between the others: their segments hold live and dead
          // records side by side, so compaction has to copy.
          const key = `static-${String(i).padStart(4, '0')}`;
          const body = randomBuffer(rng, staticBytes);
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
          expected.set(key, sha256Hex(body));
        }
      }
    }
    const node = h.strata.node;
    expect(node).toBeDefined();
    if (node === undefined) return;
    const segDir = join(h.dataDir, 'nodes', h.config.nodeId, 'segments');
    const liveBytes = objects * objectBytes + Math.ceil(objects / 4) * staticBytes;
    const before = await segmentBytes(segDir);
    const deadBefore = before - liveBytes;
    console.log(`before compaction: ${(before / MiB).toFixed(0)} MiB of segments, ${(deadBefore / MiB).toFixed(0)} MiB dead`);

    // GETs of every object keep running in a loop while compaction runs.
    let stop = false;
    let gets = 0;
    const failures: string[] = [];
    const readers = Array.from({ length: 2 }, async (_, r) => {
      let i = r;
      while (!stop) {
        const keys = [...expected.keys()];
        const key = keys[i % keys.length] ?? '';
        i += 2;
        try {
          const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          const { sha256 } = await hashStream(res.Body as AsyncIterable<Uint8Array>);
          if (sha256 !== expected.get(key)) failures.push(`${key}: wrong bytes`);
          gets++;
        } catch (err) {
          failures.push(`${key}: ${String(err)}`);
        }
      }
    });
    const progress: string[] = [];
    const summary = await node.node.compact({ onProgress: (p) => progress.push(p.phase) });
    stop = true;
    await Promise.all(readers);
    console.log(`compaction: ${JSON.stringify(summary)}; ${gets} GETs during it`);
    expect(failures).toEqual([]);
    expect(progress).toContain('done');

    const after = await segmentBytes(segDir);
    const deadAfter = after - liveBytes;
    const reclaimedShare = (deadBefore - deadAfter) / deadBefore;
    console.log(`after: ${(after / MiB).toFixed(0)} MiB of segments; ${(reclaimedShare * 100).toFixed(1)}% of dead bytes reclaimed`);
    expect(reclaimedShare).toBeGreaterThanOrEqual(0.9);
    expect(summary.bytesReclaimed).toBeGreaterThan(0);
    expect(summary.bytesCopied).toBeGreaterThan(0);

    for (const [key, sha] of expected) {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect((await hashStream(res.Body as AsyncIterable<Uint8Array>)).sha256, key).toBe(sha);
    }
    // `strata compact` does the same on demand, over NATS, with a summary.
    for (const key of [...expected.keys()].slice(0, 8)) {
      const body = randomBuffer(rng, objectBytes);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      expected.set(key, sha256Hex(body));
    }
    // Not spawnSync: the node answering the CLI runs in this process.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'compact', '--node', h.config.nodeId, '--dead-ratio', '0.2'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { ...process.env, NATS_URL: h.strata.natsUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cli = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (b: Buffer) => (cli.stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (cli.stderr += b.toString('utf8')));
    [cli.status] = (await once(child, 'exit')) as [number | null];
    console.log(cli.stdout);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/reclaimed: .* MiB/);
    expect(cli.stdout).toMatch(/write amplification/);

    // And after a restart (index and liveness reopened), still everything.
    await h.restart();
    const again = h.client();
    for (const [key, sha] of [...expected].slice(0, 10)) {
      const res = await again.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect((await hashStream(res.Body as AsyncIterable<Uint8Array>)).sha256, key).toBe(sha);
    }
    again.destroy();
  });
});
