/**
 * `aws s3 cp` (AWS CLI v2, its defaults: multipart above 8 MiB, 8 MiB parts, 10 concurrent
 * requests) of a 1 GiB file up and down through a Strata running as a child process, the bytes
 * compared by SHA-256, while the gateway's resident memory is sampled from /proc/<pid>/status:
 * it must stay under 300 MiB (bodies stream through bounded buffers; nothing holds an object).
 *
 * The file is generated with AES-128-CTR over zeros keyed by the test seed (a fast, native,
 * deterministic PRNG) and hashed as it is written; the test never holds more than one chunk.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awsCliPath, requireAwsCliV2 } from '../support/aws-cli.ts';
import { startChildStrata, type ChildStrata } from '../support/child-strata.ts';
import { freePort } from '../support/ports.ts';
import { testSeed } from '../support/prng.ts';
import { testCredentials } from '../support/strata.ts';

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const rssLimitBytes = 300 * MiB;
const work = mkdtempSync(join(tmpdir(), 'strata-cli-1g-'));
let strata: ChildStrata | undefined;

afterAll(async () => {
  await strata?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

async function writeRandomFile(path: string, size: number, seed: number): Promise<string> {
  const key = createHash('sha256').update(`strata-test-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(4 * MiB);
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += zeros.length) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written)));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return hash.digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function rssBytes(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/** Samples the process's RSS every 50 ms until stopped; returns the peak (and its anonymous part). */
function sampleRss(pid: number): { stop(): number; peakAnon(): number } {
  let peak = rssBytes(pid);
  let anon = statusKb(pid, 'RssAnon');
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (now > peak) {
      peak = now;
      anon = statusKb(pid, 'RssAnon');
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
    peakAnon: () => anon,
  };
}

function aws(endpoint: string, args: string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: work,
    AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(work, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  return new Promise((resolve, reject) => {
    execFile(awsCliPath, ['--endpoint-url', endpoint, '--no-cli-pager', ...args, ...(args[1] === 'cp' ? ['--only-show-errors'] : [])], { env, timeout: 240_000, maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
      if (err) reject(new Error(`aws ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

describe('aws s3 cp of 1 GiB', () => {
  it('uploads and downloads byte-identical with the gateway under 300 MiB RSS', async () => {
    await requireAwsCliV2();
    const seed = testSeed('aws-cli 1 GiB');
    const src = join(work, 'one-gib.bin');
    const back = join(work, 'one-gib.back');
    const sent = await writeRandomFile(src, GiB, seed);
    strata = await startChildStrata({ dataDir: join(work, 'data'), port: await freePort(), natsPort: await freePort() });
    const pid = strata.child.pid ?? 0;
    await aws(strata.endpoint, ['s3', 'mb', 's3://big']);
    const baseline = rssBytes(pid);

    const up = sampleRss(pid);
    const t0 = Date.now();
    await aws(strata.endpoint, ['s3', 'cp', src, 's3://big/one-gib.bin']);
    const upMs = Date.now() - t0;
    const upPeak = up.stop();

    const down = sampleRss(pid);
    const t1 = Date.now();
    await aws(strata.endpoint, ['s3', 'cp', 's3://big/one-gib.bin', back]);
    const downMs = Date.now() - t1;
    const downPeak = down.stop();

    console.log(
      `[cli 1GiB] up ${(1024 / (upMs / 1000)).toFixed(0)} MiB/s, down ${(1024 / (downMs / 1000)).toFixed(0)} MiB/s; gateway RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak up ${(upPeak / MiB).toFixed(0)} MiB (anon ${(up.peakAnon() / MiB).toFixed(0)}), peak down ${(downPeak / MiB).toFixed(0)} MiB (anon ${(down.peakAnon() / MiB).toFixed(0)})`,
    );
    expect(await fileSha256(back)).toBe(sent);
    expect(upPeak).toBeLessThan(rssLimitBytes);
    expect(downPeak).toBeLessThan(rssLimitBytes);
  });
});
