/**
 * Publishes events to the log. The JetStream PubAck is the commit point of every mutation:
 * once it arrives the event is part of history, whatever happens to this process next. On the
 * embedded one-server JetStream, publish also waits for the stream's files to be fdatasync'd
 * (stream-file-sync.ts), so a power cut cannot take back an acknowledged event either.
 *
 * - Every publish carries the event id as Nats-Msg-Id, so a retry after a lost ack is dropped as
 *   a duplicate instead of committing twice.
 * - Where two writers could race (create-if-absent, compare-and-swap, bucket create/delete), the
 *   caller passes the subject's last sequence it based its decision on; JetStream rejects the
 *   publish if anything else landed on that subject since (error 10071).
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { encodeEvent } from '../events/codec.ts';
import { streamName } from '../events/subjects.ts';
import type { StrataEvent } from '../events/types.ts';
import { UnavailableError } from '../lib/retryable.ts';
import { limits } from '../lib/limits.ts';
import { LastSeqBatch } from './last-seq-batch.ts';
import { RequestMux } from './request-mux.ts';
import type { StreamFileSync } from './stream-file-sync.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type PublishResult =
  | { readonly ok: true; readonly seq: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'wrong-last-sequence' };

export const eventTypeHeader = 'Strata-Event-Type';

const wrongLastSequenceCodes = new Set([10071, 10164]);

export class EventLog {
  /** Last-sequence lookups asked in one event-loop turn go out together, one per subject. */
  private readonly lastSeqs = new LastSeqBatch((subject) => this.lookUpLastSubjectSeq(subject));

  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly mux: RequestMux,
    /** Whether last-sequence lookups may use JetStream direct get (see lastSubjectSeq). */
    readonly directGet: boolean,
    /** Makes each acknowledged event durable before publish returns (embedded one-server mode). */
    private readonly fileSync: StreamFileSync | undefined,
  ) {}

  static async open(nc: NatsConnection, opts: { readonly fileSync?: StreamFileSync } = {}): Promise<EventLog> {
    const jsm = await jetstreamManager(nc);
    const { config } = await jsm.streams.info(streamName);
    const mux = new RequestMux(nc, { timeoutMs: limits.logRequestTimeoutMs, pendingMax: limits.muxRequestsPendingMax });
    return new EventLog(jsm, mux, config.num_replicas === 1 && config.allow_direct === true, opts.fileSync);
  }

  /** Fails lookups still waiting and stops the mux (the connection is the caller's). */
  close(): void {
    this.mux.close();
  }

  /** Publishes and returns once the event is acknowledged and, with a file sync, on disk. */
  async publish(subject: string, event: StrataEvent, expectLastSubjectSeq?: number): Promise<PublishResult> {
    const { result, durable } = await this.publishAcked(subject, event, expectLastSubjectSeq);
    await durable;
    return result;
  }

  /**
   * Publishes and returns at the ack, with `durable`, which settles once the event is on disk
   * (at once without a file sync). For a caller with other waiting to do meanwhile (a commit
   * waits for its projection): it must await `durable` before it acknowledges anything.
   */
  async publishAcked(subject: string, event: StrataEvent, expectLastSubjectSeq?: number): Promise<{ result: PublishResult; durable: Promise<void> }> {
    const result = await this.publishOnce(subject, event, expectLastSubjectSeq);
    // The ack says the server wrote the event; with a file sync, it is on disk once an fdatasync
    // has followed (a duplicate's too: the first copy's ack may have been lost before its sync).
    const durable = result.ok && this.fileSync !== undefined ? this.fileSync.sync() : Promise.resolve();
    return { result, durable };
  }

  /**
   * A JetStream publish is a request to the event's subject carrying the JetStream headers; the
   * stream answers with a PubAck (`{"stream","seq","duplicate"}`) or an API error. It goes through
   * the request mux rather than nats.js's `js.publish`, which builds an Error with a captured stack
   * for every publish that succeeds (its request's cleanup) and arms a timer: 2.5% of the event
   * loop's samples during 4 KiB PUTs at c1.
   */
  private async publishOnce(subject: string, event: StrataEvent, expectLastSubjectSeq: number | undefined): Promise<PublishResult> {
    const data = encodeEvent(event);
    const h = headers();
    h.set(eventTypeHeader, event.body.type);
    h.set('Nats-Msg-Id', event.eventId);
    if (expectLastSubjectSeq !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(expectLastSubjectSeq));
    let lastErr: unknown;
    for (let attempt = 1; attempt <= limits.publishAttemptsMax; attempt++) {
      try {
        const m = await this.mux.request(subject, data, h);
        const ack = parsePubAck(m.data);
        if (ack.ok) return { ok: true, seq: ack.seq, duplicate: ack.duplicate };
        if (wrongLastSequenceCodes.has(ack.errCode)) return { ok: false, reason: 'wrong-last-sequence' };
        lastErr = new UnavailableError(`the event log refused ${event.eventId}: ${ack.code} ${ack.errCode} ${ack.description}`);
      } catch (err) {
        // A timeout or a lost connection leaves the outcome unknown: publishing again with the same
        // message id is safe, the stream drops it as a duplicate if the first one landed.
        lastErr = err;
      }
    }
    // Whether the event landed is unknown: the client may retry (a retried PUT is another write).
    throw new UnavailableError(`the event log did not acknowledge ${event.eventId} after ${limits.publishAttemptsMax} attempts`, { cause: lastErr });
  }

  /**
   * Sequence of the last event on a subject, 0 when there is none: what a read fences on.
   *
   * It must come from a server that has every acknowledged event. A stream with one replica has
   * one server, and JetStream's direct get (headers only to parse, a third of the server CPU of a
   * STREAM.MSG.GET) is answered there. With replicas, direct gets may be answered by a follower
   * that has not stored the latest events yet, so the lookup goes to the stream leader through the
   * JetStream API. Which one is decided when the log is opened: a stream rescaled from one replica
   * to three while gateways run keeps them on direct gets until they restart (ops/ says so).
   *
   * Callers in one event-loop turn asking for the same subject share one lookup, sent after all
   * of them asked (last-seq-batch.ts), so each still gets a sequence read after its call.
   */
  lastSubjectSeq(subject: string): Promise<number> {
    return this.lastSeqs.lastSubjectSeq(subject);
  }

  private async lookUpLastSubjectSeq(subject: string): Promise<number> {
    const body = encoder.encode(JSON.stringify({ last_by_subj: subject }));
    if (this.directGet) {
      const m = await this.mux.request(`$JS.API.DIRECT.GET.${streamName}`, body);
      const code = m.headers?.code ?? 0;
      if (code === 404) return 0;
      const seq = Number(m.headers?.get('Nats-Sequence'));
      if (code !== 0 || !Number.isSafeInteger(seq) || seq <= 0) {
        throw new UnavailableError(`direct get of the last event on ${subject} failed: ${code} ${m.headers?.description ?? 'no sequence'}`);
      }
      return seq;
    }
    const m = await this.mux.request(`$JS.API.STREAM.MSG.GET.${streamName}`, body);
    const reply = JSON.parse(decoder.decode(m.data)) as { message?: { seq?: number }; error?: { code?: number; err_code?: number; description?: string } };
    if (reply.error !== undefined) {
      if (reply.error.err_code === 10037 || reply.error.code === 404) return 0;
      throw new UnavailableError(`last event on ${subject}: ${reply.error.code} ${reply.error.err_code} ${reply.error.description ?? ''}`);
    }
    const seq = reply.message?.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) throw new UnavailableError(`last event on ${subject}: no sequence in the reply`);
    return seq;
  }

  /** Sequence of the last event in the stream (the fence for cross-gateway reads). */
  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(streamName);
    return info.state.last_seq;
  }
}

type PubAck = { readonly ok: true; readonly seq: number; readonly duplicate: boolean } | { readonly ok: false; readonly code: number; readonly errCode: number; readonly description: string };

/** A JetStream publish reply: the PubAck, or the API error the stream answered with. */
export function parsePubAck(data: Uint8Array): PubAck {
  let reply: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { code?: unknown; err_code?: unknown; description?: unknown } };
  try {
    reply = JSON.parse(decoder.decode(data)) as typeof reply;
  } catch {
    throw new UnavailableError(`the event log answered a publish with something other than JSON (${data.length} bytes)`);
  }
  if (reply.error !== undefined) {
    const e = reply.error;
    return { ok: false, code: Number(e.code ?? 0), errCode: Number(e.err_code ?? 0), description: String(e.description ?? '') };
  }
  if (reply.stream !== streamName || typeof reply.seq !== 'number' || !Number.isSafeInteger(reply.seq) || reply.seq <= 0) {
    throw new UnavailableError(`the event log answered a publish without a sequence of stream ${streamName}`);
  }
  return { ok: true, seq: reply.seq, duplicate: reply.duplicate === true };
}
