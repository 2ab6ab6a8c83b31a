/**
 * The read fence's lookups against a real nats-server: the request mux (one inbox subscription,
 * replies matched by id, a shared timeout sweep, a bound on pending requests) and
 * EventLog.lastSubjectSeq on both of its paths — JetStream direct get on a one-replica stream,
 * the stream leader's STREAM.MSG.GET when direct gets are off — giving the sequence JetStream
 * acknowledged for the subject's last event, and 0 for a subject never written. And through a
 * nats-server restart: a lookup while it is down fails (retryable) instead of hanging, and once
 * the client has reconnected, lookups answer again on the same mux.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamName } from '../../src/events/subjects.ts';
import { retryableKindOf, UnavailableError } from '../../src/lib/retryable.ts';
import { EventLog } from '../../src/log/publisher.ts';
import { RequestMux } from '../../src/log/request-mux.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { testSeed } from '../support/prng.ts';

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startTestNats('lookups');
  nc = nats.nc;
}, 60_000);

afterAll(async () => {
  await nats?.close();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A subject someone listens on but never answers (so requests to it time out); call the result to stop. */
async function silentSubject(subject: string): Promise<() => void> {
  const sub = nc.subscribe(subject, { callback: () => {} });
  await nc.flush();
  return () => sub.unsubscribe();
}

describe('request mux', () => {
  it('matches every reply to its request when replies come back out of order', async () => {
    const seed = testSeed('request mux reorder');
    // A responder that holds each batch of 16 requests and answers it in reverse order.
    const held: { reply: string; body: string }[] = [];
    const sub = nc.subscribe('mux.echo', {
      callback: (_err, m) => {
        held.push({ reply: m.reply ?? '', body: decoder.decode(m.data) });
        if (held.length === 16) for (const h of held.splice(0).reverse()) nc.publish(h.reply, encoder.encode(`echo ${h.body}`));
      },
    });
    const mux = new RequestMux(nc, { timeoutMs: 5_000, pendingMax: 64 });
    try {
      const bodies = Array.from({ length: 64 }, (_, i) => `${seed}-${i}`);
      const replies = await Promise.all(bodies.map((b) => mux.request('mux.echo', encoder.encode(b))));
      expect(replies.map((r) => decoder.decode(r.data))).toEqual(bodies.map((b) => `echo ${b}`));
      expect(mux.pendingCount).toBe(0);
    } finally {
      mux.close();
      sub.unsubscribe();
    }
  });

  it('fails a request nobody answers after its timeout, one nobody listens to at once, and one past the pending bound', async () => {
    const unsubscribe = await silentSubject('mux.silent');
    const mux = new RequestMux(nc, { timeoutMs: 300, pendingMax: 2 });
    try {
      const start = performance.now();
      const timedOut = mux.request('mux.silent', encoder.encode('a')).catch((e: unknown) => e);
      const second = mux.request('mux.silent', encoder.encode('b')).catch((e: unknown) => e);
      const third = await mux.request('mux.silent', encoder.encode('c')).catch((e: unknown) => e);
      expect(String(third)).toMatch(/already wait for a reply/);
      expect(retryableKindOf(third)).toBe('unavailable');
      const err = await timedOut;
      expect(String(err)).toMatch(/timed out after 300 ms/);
      expect(retryableKindOf(err)).toBe('unavailable');
      // Not before its timeout, and within the timeout plus a sweep interval (75 ms) and slack.
      expect(performance.now() - start).toBeGreaterThanOrEqual(299);
      expect(performance.now() - start).toBeLessThan(300 + 75 + 1_000);
      expect(String(await second)).toMatch(/timed out/);

      const noOne = await mux.request('mux.nobody-listens', encoder.encode('x')).catch((e: unknown) => e);
      expect(String(noOne)).toMatch(/no responders on mux.nobody-listens/);
      expect(mux.pendingCount).toBe(0);
    } finally {
      mux.close();
      unsubscribe();
    }
  });

  it('close fails what is still pending and refuses new requests', async () => {
    const unsubscribe = await silentSubject('mux.silent2');
    const mux = new RequestMux(nc, { timeoutMs: 60_000, pendingMax: 8 });
    const pending = mux.request('mux.silent2', encoder.encode('a')).catch((e: unknown) => e);
    mux.close();
    expect(String(await pending)).toMatch(/abandoned: the mux closed/);
    expect(String(await mux.request('mux.silent2', encoder.encode('b')).catch((e: unknown) => e))).toMatch(/closed/);
    unsubscribe();
  });
});

describe('EventLog.lastSubjectSeq', () => {
  async function publishSome(prefix: string, n: number): Promise<Map<string, number>> {
    const js = jetstream(nc);
    const last = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const subject = `strata.ev.lookups.o.${prefix}${i % 7}`;
      const ack = await js.publish(subject, encoder.encode(`event ${i}`));
      last.set(subject, ack.seq);
    }
    return last;
  }

  async function checkAgainst(log: EventLog, last: Map<string, number>, prefix: string): Promise<void> {
    const got = await Promise.all([...last.keys()].map((s) => log.lastSubjectSeq(s)));
    expect(got).toEqual([...last.values()]);
    expect(await log.lastSubjectSeq(`strata.ev.lookups.o.${prefix}never-written`)).toBe(0);
  }

  it('uses direct get on a one-replica stream and answers what JetStream acknowledged', async () => {
    const log = await EventLog.open(nc);
    try {
      expect(log.directGet).toBe(true);
      await checkAgainst(log, await publishSome('d', 40), 'd');
    } finally {
      log.close();
    }
  });

  it('asks the stream leader (STREAM.MSG.GET) when direct gets are off, with the same answers', async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamName);
    await jsm.streams.update(streamName, { ...info.config, allow_direct: false });
    const log = await EventLog.open(nc);
    try {
      expect(log.directGet).toBe(false);
      await checkAgainst(log, await publishSome('m', 40), 'm');
    } finally {
      log.close();
      await jsm.streams.update(streamName, { ...info.config, allow_direct: true });
    }
  });
});

describe('through a nats-server restart', () => {
  it('a lookup while the server is down fails as unavailable; after the reconnect the same log answers again', async () => {
    const own = await startTestNats('lookups-restart');
    try {
      const ack = await jetstream(own.nc).publish('strata.ev.restart.o.k', encoder.encode('event'));
      const log = await EventLog.open(own.nc);
      try {
        expect(await log.lastSubjectSeq('strata.ev.restart.o.k')).toBe(ack.seq);
        await own.stop();
        // Nobody answers now: the lookup fails within the log's request timeout, retryable (503).
        const down = await log.lastSubjectSeq('strata.ev.restart.o.k').catch((e: unknown) => e);
        expect(down).toBeInstanceOf(UnavailableError);
        await own.start();
        // Reconnected (the client retries every 100 ms) and the inbox subscription restored.
        let seq: number | undefined;
        for (let attempt = 0; attempt < 100 && seq === undefined; attempt++) {
          seq = await log.lastSubjectSeq('strata.ev.restart.o.k').catch(() => undefined);
        }
        expect(seq).toBe(ack.seq);
      } finally {
        log.close();
      }
    } finally {
      await own.close();
    }
  }, 60_000);
});
