/**
 * Publishes events to the log. The JetStream PubAck is the commit point of every mutation:
 * once it arrives the event is part of history, whatever happens to this process next.
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

export type PublishResult =
  | { readonly ok: true; readonly seq: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'wrong-last-sequence' };

export const eventTypeHeader = 'Strata-Event-Type';

const wrongLastSequenceCodes = new Set([10071, 10164]);

export class EventLog {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(nc: NatsConnection): Promise<EventLog> {
    return new EventLog(jetstream(nc), await jetstreamManager(nc));
  }

  async publish(subject: string, event: StrataEvent, expectLastSubjectSeq?: number): Promise<PublishResult> {
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

  /** Sequence of the last event on a subject, 0 when there is none. */
  async lastSubjectSeq(subject: string): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(streamName, { last_by_subj: subject });
      return m?.seq ?? 0;
    } catch (err) {
      if (err instanceof JetStreamApiError && (err.code === 10037 || err.status === 404)) return 0;
      throw err;
    }
  }

  /** Sequence of the last event in the stream (the fence for cross-gateway reads). */
  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(streamName);
    return info.state.last_seq;
  }
}
