/**
 * The three steps every write of the engine shares, for the operations that live in their own
 * files (multipart uploads, copies, conditional writes): make an event, fence a subject (read its
 * last sequence from JetStream and wait until the local read model has applied it), and commit
 * (publish, optionally expecting the subject's last sequence; then wait for the local projector's
 * outcome, which decides the answer).
 */
import type { EventBody, StrataEvent } from '../events/types.ts';
import type { Clock } from '../lib/clock.ts';
import { newEventId } from '../lib/ids.ts';
import type { EventLog } from '../log/publisher.ts';
import type { Outcome } from '../model/evolve.ts';
import type { ReadModelStore } from '../model/store.ts';
import type { Projector } from '../projections/projector.ts';
import type { Actor, ShardPlacement } from './types.ts';

export interface CommitDeps {
  readonly log: EventLog;
  readonly projector: Projector;
  readonly store: ReadModelStore;
  readonly placement: ShardPlacement;
  readonly clock: Clock;
}

export function newEvent(clock: Clock, actor: Actor, bucket: string, key: string, versionId: string, body: EventBody): StrataEvent {
  const timeMs = clock.nowMs();
  return {
    eventId: newEventId(timeMs),
    timeMs,
    bucket,
    key,
    versionId,
    actor: actor.accessKey,
    requestId: actor.requestId,
    sourceAddress: actor.sourceAddress,
    body,
  };
}

/** Waits until this gateway's read model reflects everything logged on `subject` so far. */
export async function fence(d: CommitDeps, subject: string): Promise<number> {
  const last = await d.log.lastSubjectSeq(subject);
  if (last > 0) await d.projector.waitApplied(last);
  return last;
}

/** Publishes and waits for the local projector's outcome; 'conflict' when the expected sequence was overtaken. */
export async function commit(d: CommitDeps, subject: string, ev: StrataEvent, expectLastSubjectSeq?: number): Promise<Outcome | 'conflict'> {
  const { result: r, durable } = await d.log.publishAcked(subject, ev, expectLastSubjectSeq);
  if (!r.ok) return 'conflict';
  // The local projection and the event's fdatasync (embedded JetStream) run side by side; the
  // answer waits for both (Promise.all also keeps a failed sync from going unhandled).
  const [outcome] = await Promise.all([d.projector.waitApplied(r.seq), durable]);
  return outcome;
}
