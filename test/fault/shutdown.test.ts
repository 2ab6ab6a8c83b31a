/**
 * SIGTERM stops Strata cleanly, its embedded nats-server included, and a second start on the same
 * data dir finds every object where it was.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildStrata } from '../support/child-strata.ts';
import { freePort } from '../support/ports.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ');
  } catch {
    return false;
  }
}

describe('clean shutdown', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('SIGTERM exits 0, stops nats-server, and a restart serves everything', async () => {
    const ports = { port: await freePort(), natsPort: await freePort() };
    const first = await startChildStrata({ dataDir, ...ports });
    const s3 = first.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'keep' }));
    const bodies = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const body = `object ${i} `.repeat(i * 500 + 1);
      bodies.set(`k/${i}`, body);
      await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: `k/${i}`, Body: body }));
    }
    const natsPid = first.natsPid;
    expect(alive(natsPid)).toBe(true);
    first.child.kill('SIGTERM');
    const [code] = (await new Promise((resolve) => first.child.once('exit', (c, sig) => resolve([c, sig])))) as [number | null, string | null];
    expect(code).toBe(0);
    // The child nats-server was stopped by Strata itself, not left behind.
    expect(alive(natsPid)).toBe(false);

    const second = await startChildStrata({ dataDir, ...ports });
    try {
      const s3b = second.client();
      const listed = await s3b.send(new ListObjectsV2Command({ Bucket: 'keep' }));
      expect((listed.Contents ?? []).map((c) => c.Key).sort()).toEqual([...bodies.keys()].sort());
      for (const [key, body] of bodies) {
        const got = await s3b.send(new GetObjectCommand({ Bucket: 'keep', Key: key }));
        expect(await got.Body?.transformToString()).toBe(body);
      }
    } finally {
      await second.stop();
    }
  });
});
