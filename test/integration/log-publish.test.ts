/**
 * EventLog.publish against a real nats-server: a JetStream publish made through the request mux
 * (headers for the message id and the expected last subject sequence, the PubAck parsed here)
 * gives the sequence JetStream stored the event at; the same event id again is a duplicate with
 * the first copy's sequence and stores nothing; an expected last sequence that was overtaken is
 * 'wrong-last-sequence' and stores nothing; a subject no stream captures fails retryably.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/events/codec.ts';
import { streamName } from '../../src/events/subjects.ts';
import { retryableKindOf } from '../../src/lib/retryable.ts';
import { EventLog, eventTypeHeader, parsePubAck } from '../../src/log/publisher.ts';
import { bucketCreatedEvent } from '../support/events.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';

let nats: TestNats;
let log: EventLog;

beforeAll(async () => {
  nats = await startTestNats('publish');
  log = await EventLog.open(nats.nc);
}, 60_000);

afterAll(async () => {
  log?.close();
  await nats?.close();
});


describe('EventLog.publish', () => {
  it('stores the event at the acknowledged sequence, with its type header and message id', async () => {
    const id = `pub-${process.pid}-${Date.now()}`;
    const r = await log.publish('strata.ev.pub.o.stored', bucketCreatedEvent(id));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.duplicate).toBe(false);
    const jsm = await jetstreamManager(nats.nc);
    const m = await jsm.streams.getMessage(streamName, { seq: r.seq });
    expect(m?.subject).toBe('strata.ev.pub.o.stored');
    expect(m?.header.get(eventTypeHeader)).toBe('BucketCreated');
    expect(m?.header.get('Nats-Msg-Id')).toBe(id);
    const decoded = decodeEvent(m?.data ?? new Uint8Array());
    expect(decoded.ok && decoded.event.eventId).toBe(id);
  });

  it('the same event id again is a duplicate answered with the first sequence, and stores nothing', async () => {
    const id = `dup-${process.pid}-${Date.now()}`;
    const first = await log.publish('strata.ev.pub.o.dup', bucketCreatedEvent(id));
    const again = await log.publish('strata.ev.pub.o.dup', bucketCreatedEvent(id));
    expect(first).toMatchObject({ ok: true, duplicate: false });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    if (!first.ok || !again.ok) return;
    expect(again.seq).toBe(first.seq);
    expect(await log.lastSubjectSeq('strata.ev.pub.o.dup')).toBe(first.seq);
  });

  it('an overtaken expected last sequence is wrong-last-sequence and stores nothing; the right one commits', async () => {
    const subject = 'strata.ev.pub.o.cas';
    const a = await log.publish(subject, bucketCreatedEvent(`cas-a-${process.pid}-${Date.now()}`), 0);
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    const stale = await log.publish(subject, bucketCreatedEvent(`cas-b-${process.pid}-${Date.now()}`), 0);
    expect(stale).toEqual({ ok: false, reason: 'wrong-last-sequence' });
    expect(await log.lastSubjectSeq(subject)).toBe(a.seq);
    const next = await log.publish(subject, bucketCreatedEvent(`cas-c-${process.pid}-${Date.now()}`), a.seq);
    expect(next.ok).toBe(true);
    if (next.ok) expect(next.seq).toBeGreaterThan(a.seq);
  });

  it('a subject no stream captures fails retryably', async () => {
    const err = await log.publish('nostream.here', bucketCreatedEvent(`none-${process.pid}-${Date.now()}`)).catch((e: unknown) => e);
    expect(retryableKindOf(err)).toBe('unavailable');
  });
});

describe('parsePubAck', () => {
  const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
  it('reads a PubAck, an API error, and refuses anything else', () => {
    expect(parsePubAck(enc({ stream: streamName, seq: 7 }))).toEqual({ ok: true, seq: 7, duplicate: false });
    expect(parsePubAck(enc({ stream: streamName, seq: 7, duplicate: true }))).toEqual({ ok: true, seq: 7, duplicate: true });
    expect(parsePubAck(enc({ error: { code: 400, err_code: 10071, description: 'wrong last sequence: 3' } }))).toEqual({ ok: false, code: 400, errCode: 10071, description: 'wrong last sequence: 3' });
    expect(() => parsePubAck(enc({ stream: 'OTHER', seq: 7 }))).toThrow(/without a sequence/);
    expect(() => parsePubAck(enc({ stream: streamName }))).toThrow(/without a sequence/);
    expect(() => parsePubAck(new TextEncoder().encode('+OK'))).toThrow(/other than JSON/);
  });
});
