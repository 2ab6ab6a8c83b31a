/**
 * The log follower (the storage liveness's consumer) against a real nats-server: every message of
 * the stream reaches the sink once, in order, and with a linger the events of a burst are applied
 * in a few transactions rather than one each, and a backlog is caught up without lingering.
 * Messages that are not Strata events (raw bytes) advance the checkpoint and change nothing, as
 * a newer build's event types would.
 */
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../src/events/codec.ts';
import type { LoggedEvent } from '../../src/events/types.ts';
import { LogFollower, type FollowerSink } from '../../src/log/follower.ts';
import { bucketCreatedEvent } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startTestNats('follower');
  nc = nats.nc;
}, 60_000);

afterAll(async () => {
  await nats?.close();
});

class CountingSink implements FollowerSink {
  applied = 0;
  events = 0;
  readonly batches: number[] = [];
  checkpoint(): number {
    return this.applied;
  }
  async apply(events: readonly LoggedEvent[], lastSeq: number): Promise<void> {
    this.batches.push(lastSeq);
    this.events += events.length;
    this.applied = lastSeq;
  }
}

async function publishBurst(n: number, tag: string): Promise<number> {
  const js = jetstream(nc);
  let last = 0;
  for (let i = 0; i < n; i++) last = (await js.publish(`strata.ev._test.${tag}`, new TextEncoder().encode(`raw ${i}`))).seq;
  return last;
}

/** Real events (BucketCreated): these count against the follower's batch limit, as in production. */
async function publishEvents(n: number, tag: string): Promise<number> {
  const js = jetstream(nc);
  let last = 0;
  for (let i = 0; i < n; i++) {
    last = (await js.publish(`strata.ev._test.${tag}`, encodeEvent(bucketCreatedEvent(`${tag}-${i}`)))).seq;
  }
  return last;
}

describe('LogFollower', () => {
  it('with a linger, applies a burst in a few batches, in order, up to its last message', async () => {
    const sink = new CountingSink();
    // Messages already in the stream count too: the follower starts from the sink's checkpoint (0).
    const follower = new LogFollower(nc, sink, 'test-linger', 512, 500);
    await follower.start();
    try {
      const last = await publishBurst(100, 'linger');
      await follower.waitApplied(last, 10_000);
      expect(sink.applied).toBe(last);
      // Each batch ends later in the stream than the one before.
      expect(sink.batches).toEqual([...sink.batches].sort((a, b) => a - b));
      // 100 messages published within a 500 ms linger: a handful of transactions, not one each.
      expect(sink.batches.length).toBeLessThanOrEqual(4);
    } finally {
      await follower.stop();
    }
  });

  it('does not linger while catching up: only at the tail of the log', async () => {
    const last = await publishEvents(3000, 'backlog');
    const sink = new CountingSink();
    const follower = new LogFollower(nc, sink, 'test-catch-up', 512, 1000);
    const t0 = performance.now();
    await follower.start();
    try {
      await follower.waitApplied(last, 20_000);
      const ms = performance.now() - t0;
      console.log(`[follower] caught up on ${last} messages in ${ms.toFixed(0)} ms, ${sink.batches.length} batches`);
      // At most 512 events a batch, so at least 6 batches: lingering 1 s before each would take 6 s.
      expect(sink.events).toBe(3000);
      expect(sink.batches.length).toBeGreaterThanOrEqual(6);
      expect(ms).toBeLessThan(4000);
    } finally {
      await follower.stop();
    }
  });

  it('without a linger, still reaches every message, and a restarted follower resumes after its checkpoint', async () => {
    const sink = new CountingSink();
    const first = new LogFollower(nc, sink, 'test-eager', 512);
    await first.start();
    const last = await publishBurst(30, 'eager');
    await first.waitApplied(last, 10_000);
    await first.stop();
    const before = sink.batches.length;
    const more = await publishBurst(5, 'eager');
    const second = new LogFollower(nc, sink, 'test-eager', 512);
    await second.start();
    try {
      await second.waitApplied(more, 10_000);
      expect(sink.applied).toBe(more);
      // The second follower's batches all lie past the first one's checkpoint.
      expect(sink.batches.slice(before).every((seq) => seq > last)).toBe(true);
    } finally {
      await second.stop();
    }
  });
});
