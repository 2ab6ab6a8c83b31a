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
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
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
    private readonly js: JetStreamClient,
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
    return new EventLog(jetstream(nc), jsm, mux, config.num_replicas === 1 && config.allow_direct === true, opts.fileSync);
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

  private async publishOnce(subject: string, event: StrataEvent, expectLastSubjectSeq: number | undefined): Promise<PublishResult> {
    const data = encodeEvent(event);
    const h = headers();
    h.set(eventTypeHeader, event.body.type);
    let lastErr: unknown;
    for (let attempt = 1; attempt <= limits.publishAttemptsMax; attempt++) {
      try {
        const ack = await this.js.publish(subject, data, {
          msgID: event.eventId,
          headers: h,
          timeout: 10_000,
          ...(expectLastSubjectSeq === undefined ? {} : { expect: { lastSubjectSequence: expectLastSubjectSeq } }),
        });
        return { ok: true, seq: ack.seq, duplicate: ack.duplicate };
      } catch (err) {
        if (err instanceof JetStreamApiError && wrongLastSequenceCodes.has(err.code)) {
          return { ok: false, reason: 'wrong-last-sequence' };
        }
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
