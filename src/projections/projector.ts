/**
 * The projector: a durable JetStream pull consumer that applies the log to the LMDB read model.
 *
 * The checkpoint in LMDB is the truth about progress. On start the durable consumer is (re)created
 * to deliver from checkpoint + 1, so whatever the consumer's own state was (a crash between the
 * LMDB commit and the ack, a wiped read model), the projector neither skips nor repeats an event.
 * Messages are pulled with a bounded window (limits.projectorBatchMax) and applied in batches,
 * each in one LMDB transaction together with the new checkpoint; the batch is acked afterwards.
 *
 * Writers wait here for their own event: `waitApplied(seq)` resolves with the event's outcome once
 * the projector has committed it, which is what makes read-after-write hold on this gateway.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeLoggedEvent } from '../events/codec.ts';
import { streamName } from '../events/subjects.ts';
import type { LoggedEvent } from '../events/types.ts';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import { UnavailableError } from '../lib/retryable.ts';
import type { Outcome } from '../model/evolve.ts';
import { isNotFoundError } from '../log/nats-errors.ts';
import type { ReadModelStore } from '../model/store.ts';
import { RecentOutcomes } from './recent-outcomes.ts';

interface Waiter {
  readonly seq: number;
  readonly resolve: (o: Outcome) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}


export class Projector {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private readonly waiters = new Map<number, Waiter[]>();
  /** Outcomes of recently applied events, for writers whose PubAck arrives after the apply. */
  private readonly recent = new RecentOutcomes();
  private failure: Error | undefined;
  private draining: Promise<void> = Promise.resolve();
  private drainRunning = false;
  private pending: { events: LoggedEvent[]; last: JsMsg | undefined; lastSeq: number } = { events: [], last: undefined, lastSeq: 0 };

  constructor(
    private readonly nc: NatsConnection,
    readonly store: ReadModelStore,
    private readonly consumerName: string,
  ) {}

  get appliedSeq(): number {
    return this.store.checkpoint();
  }

  async start(): Promise<void> {
    assert(!this.running, 'projector already started');
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.consumers.delete(streamName, this.consumerName);
    } catch (err) {
      if (!isNotFoundError(err)) throw err;
    }
    await jsm.consumers.add(streamName, {
      durable_name: this.consumerName,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.store.checkpoint() + 1,
      max_ack_pending: limits.projectorBatchMax * 4,
      inactive_threshold: 7 * 24 * 3600 * 1_000_000_000,
    });
    const consumer = await jetstream(this.nc).consumers.get(streamName, this.consumerName);
    this.messages = await consumer.consume({ max_messages: limits.projectorBatchMax });
    this.running = this.run(this.messages);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        const decoded = decodeLoggedEvent(m.data, m.seq);
        // Unknown event types (written by a newer build) advance the checkpoint but change nothing.
        if (decoded.ok) this.pending.events.push(decoded.event);
        this.pending.last = m;
        this.pending.lastSeq = m.seq;
        this.kick();
        // Backpressure: stop pulling while a full batch waits for the one being committed.
        if (this.pending.events.length >= limits.projectorTxnEventsMax) await this.draining;
      }
      this.kick();
      await this.draining;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Group commit for the read model: one drain loop commits whatever accumulated while the
   * previous transaction was committing, in one transaction.
   */
  private kick(): void {
    if (this.drainRunning) return;
    this.drainRunning = true;
    this.draining = this.drain().finally(() => {
      this.drainRunning = false;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.last) {
      const batch = this.pending;
      this.pending = { events: [], last: undefined, lastSeq: 0 };
      try {
        const applied = await this.store.apply(batch.events, batch.lastSeq);
        batch.last?.ack();
        for (const a of applied) this.remember(a.seq, a.outcome);
        this.wake(batch.lastSeq);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
  }

  private remember(seq: number, outcome: Outcome): void {
    this.recent.set(seq, outcome);
  }

  private wake(upTo: number): void {
    for (const [seq, ws] of this.waiters) {
      if (seq > upTo) continue;
      this.waiters.delete(seq);
      const outcome = this.recent.get(seq) ?? { kind: 'applied' };
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(outcome);
      }
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const ws of this.waiters.values()) for (const w of ws) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }

  /**
   * Resolves with the outcome of the event at `seq` once it is applied (or, for a sequence that
   * is not an event we know — another subject's, or a fence — once everything up to it is).
   */
  waitApplied(seq: number, timeoutMs: number = limits.projectionWaitMs): Promise<Outcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.store.checkpoint()) return Promise.resolve(this.recent.get(seq) ?? { kind: 'applied' });
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(seq);
        if (list) {
          const rest = list.filter((w) => w.timer !== timer);
          if (rest.length > 0) this.waiters.set(seq, rest);
          else this.waiters.delete(seq);
        }
        // A model far behind the log (catching up after a restart or a bulk load): retry later, 503.
        reject(new UnavailableError(`projection did not reach sequence ${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      const w: Waiter = { seq, resolve, reject, timer };
      const list = this.waiters.get(seq);
      if (list) list.push(w);
      else this.waiters.set(seq, [w]);
    });
  }

  /**
   * Stops consuming. Writers still waiting are handed to `successor` (a projector on a rebuilt
   * model taking over), else they fail.
   */
  async stop(successor?: Projector): Promise<void> {
    if (!this.messages) return;
    const m = this.messages;
    this.messages = undefined;
    await m.close();
    await this.running;
    await this.draining;
    if (successor) {
      for (const [seq, ws] of this.waiters) {
        for (const w of ws) {
          clearTimeout(w.timer);
          successor.waitApplied(seq).then(w.resolve, w.reject);
        }
      }
      this.waiters.clear();
    }
    this.fail(new Error('projector stopped'));
  }

  /** Seeds outcomes of events applied before this projector started (by a rebuild). */
  rememberOutcomes(outcomes: Iterable<readonly [number, Outcome]>): void {
    for (const [seq, o] of outcomes) this.remember(seq, o);
  }

  /** Removes this projector's durable consumer (after a rebuild replaced it). */
  async deleteConsumer(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.consumers.delete(streamName, this.consumerName);
    } catch (err) {
      if (!isNotFoundError(err)) throw err;
    }
  }
}
