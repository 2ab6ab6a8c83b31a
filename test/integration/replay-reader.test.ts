/**
 * The replay reader: a worker thread pulls a range of the stream and hands it over in bounded
 * batches. A real nats-server on a temp dir, messages of seeded random sizes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats } from '../../src/app/strata.ts';
import { limits } from '../../src/lib/limits.ts';
import { bucketSubject, streamName } from '../../src/events/subjects.ts';
import { startEmbeddedNats, type EmbeddedNats } from '../../src/log/nats-server.ts';
import { ReplayReader } from '../../src/log/replay-reader.ts';
import { ensureStream } from '../../src/log/stream.ts';
import { freePort } from '../support/ports.ts';
import { createRng, randomBuffer, testSeed } from '../support/prng.ts';

const projectRoot = new URL('../../', import.meta.url).pathname;
const count = 3000;
let dir: string;
let server: EmbeddedNats;
let nc: NatsConnection;
const published: Buffer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-replay-reader-'));
  server = await startEmbeddedNats({
    bin: '/usr/sbin/nats-server',
    configFile: join(projectRoot, 'nats.conf'),
    storeDir: join(dir, 'nats'),
    host: '127.0.0.1',
    port: await freePort(),
    log: (l) => console.error(l),
  });
  nc = await connectNats(server.url, 'test-replay-reader');
  await ensureStream(nc);
  const rng = createRng(testSeed('replay-reader payloads'));
  const js = jetstream(nc);
  for (let i = 0; i < count; i += 500) {
    const chunk: Buffer[] = [];
    for (let j = i; j < Math.min(count, i + 500); j++) chunk.push(randomBuffer(rng, 1 + rng.below(3000)));
    // In order: one at a time would be slow, so a window of 500 acknowledged before the next.
    const acks = await Promise.all(chunk.map((data, k) => js.publish(bucketSubject(`b${(i + k) % 3}`), data)));
    for (const [k, ack] of acks.entries()) expect(ack.seq).toBe(i + k + 1);
    published.push(...chunk);
  }
});

afterAll(async () => {
  await nc.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function readAll(reader: ReplayReader): Promise<{ seqs: number[]; payloads: Buffer[]; batchSizes: { count: number; bytes: number; lastBytes: number }[] }> {
  const seqs: number[] = [];
  const payloads: Buffer[] = [];
  const batchSizes: { count: number; bytes: number; lastBytes: number }[] = [];
  try {
    for await (const b of reader.batches()) {
      let bytes = 0;
      let lastBytes = 0;
      for (let i = 0; i < b.count; i++) {
        seqs.push(b.seq(i));
        const p = Buffer.from(b.payload(i));
        payloads.push(p);
        bytes += p.length;
        lastBytes = p.length;
      }
      expect(b.lastSeq).toBe(b.seq(b.count - 1));
      batchSizes.push({ count: b.count, bytes, lastBytes });
    }
  } finally {
    await reader.close();
  }
  return { seqs, payloads, batchSizes };
}

describe('replay reader', () => {
  it('hands over every message of the range once, in order, byte for byte, in bounded batches', async () => {
    const reader = new ReplayReader({ servers: nc.getServer(), stream: streamName, fromSeq: 1, toSeq: count, batchMessagesMax: 97, batchBytesMax: 64 * 1024 });
    const { seqs, payloads, batchSizes } = await readAll(reader);
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    for (let i = 0; i < count; i++) expect(payloads[i]?.equals(published[i] ?? Buffer.alloc(0)), `payload of seq ${i + 1}`).toBe(true);
    expect(batchSizes.length).toBeGreaterThan(count / 97);
    for (const b of batchSizes) {
      expect(b.count).toBeLessThanOrEqual(97);
      // A batch closes once it reaches the byte bound, so it exceeds it by less than its last message.
      expect(b.bytes - b.lastBytes).toBeLessThan(64 * 1024);
    }
  });

  it('stops at the end of a range in the middle of the stream', async () => {
    const reader = new ReplayReader({ servers: nc.getServer(), stream: streamName, fromSeq: 1001, toSeq: 2000, batchMessagesMax: 128 });
    const { seqs, payloads } = await readAll(reader);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => 1001 + i));
    expect(payloads[999]?.equals(published[1999] ?? Buffer.alloc(0))).toBe(true);
  });

  it('closes its worker when the reader stops early', async () => {
    const reader = new ReplayReader({ servers: nc.getServer(), stream: streamName, fromSeq: 1, toSeq: count, batchMessagesMax: 50 });
    let batches = 0;
    for await (const b of reader.batches()) {
      expect(b.seq(0)).toBe(1);
      batches++;
      break;
    }
    expect(batches).toBe(1);
    // The worker ends on its own when told to stop; terminate() only after replayWorkerStopWaitMs.
    const t0 = performance.now();
    await reader.close();
    expect(performance.now() - t0).toBeLessThan(limits.replayWorkerStopWaitMs);
  });

  it('fails with the reason when the stream does not exist', async () => {
    const reader = new ReplayReader({ servers: nc.getServer(), stream: 'NO_SUCH_STREAM', fromSeq: 1, toSeq: 10 });
    await expect(readAll(reader)).rejects.toThrow(/replay: .*stream/i);
  });
});
