/**
 * A durable JetStream pull consumer that feeds the event log, in order and in batches, to a sink
 * whose own checkpoint is the truth about progress (the same scheme as the gateway projector):
 *
 * - on start the durable consumer is recreated to deliver from `sink.checkpoint() + 1`, so a crash
 *   between the sink's commit and the ack neither skips nor repeats an event;
 * - messages are pulled with a bounded window and applied in batches (group commit: whatever
 *   accumulated while the previous batch was committing goes into the next one);
 * - the batch is acked (ack-all) after the sink committed it.
 *
 * Used by the storage node's shard liveness. Unknown event types advance the checkpoint only.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeLoggedEvent } from '../events/codec.ts';
import { streamName } from '../events/subjects.ts';
import type { LoggedEvent } from '../events/types.ts';
import { assert } from '../lib/assert.ts';
import { UnavailableError } from '../lib/retryable.ts';
import { isNotFoundError } from './nats-errors.ts';

export interface FollowerSink {
  /** Last stream sequence the sink has committed. */
  checkpoint(): number;
  /** Applies consecutive events and the new checkpoint `lastSeq` atomically. */
  apply(events: readonly LoggedEvent[], lastSeq: number): Promise<void>;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class LogFollower {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;
  private draining: Promise<void> = Promise.resolve();
  private drainRunning = false;
  /** Set by stop(): buffered messages are left for the next start (the checkpoint is the truth). */
  private stopping = false;
  private pending: { events: LoggedEvent[]; last: JsMsg | undefined; lastSeq: number; messages: number } = { events: [], last: undefined, lastSeq: 0, messages: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly sink: FollowerSink,
    private readonly consumerName: string,
    private readonly batchMax: number,
    /**
     * How long a batch waits for more events before it is applied (0: at once), when the follower
     * is at the tail of the log. For a sink no request waits on, this takes its commits off the
     * moment the gateway commits the same event and applies a burst in fewer transactions.
     */
    private readonly lingerMs = 0,
  ) {
    assert(batchMax >= 1, 'batchMax');
    assert(lingerMs >= 0, 'lingerMs');
  }

  get appliedSeq(): number {
    return this.sink.checkpoint();
  }

  async start(): Promise<void> {
    assert(!this.running, 'follower already started');
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
      opt_start_seq: this.sink.checkpoint() + 1,
      max_ack_pending: this.batchMax * 4,
      inactive_threshold: 7 * 24 * 3600 * 1_000_000_000,
    });
    const consumer = await jetstream(this.nc).consumers.get(streamName, this.consumerName);
    this.messages = await consumer.consume({ max_messages: this.batchMax });
    this.running = this.run(this.messages);
  }

  /** Resolves once every event up to `seq` is applied. */
  waitApplied(seq: number, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.sink.checkpoint()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new UnavailableError(`log follower ${this.consumerName} did not reach sequence ${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ seq, resolve, reject, timer });
    });
  }

  /** Resolves once everything in the stream when called is applied (a fence). */
  async caughtUp(timeoutMs: number): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info(streamName);
    await this.waitApplied(info.state.last_seq, timeoutMs);
  }

  async stop(): Promise<void> {
    if (!this.messages) return;
    const m = this.messages;
    this.messages = undefined;
    // Stop after the batch being committed: what was pulled but not applied is delivered again
    // from the checkpoint on the next start, so stopping never waits for a backlog.
    this.stopping = true;
    await m.close();
    await this.running;
    await this.draining;
    this.fail(new Error('log follower stopped'));
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopping) break;
        const decoded = decodeLoggedEvent(m.data, m.seq);
        if (decoded.ok) this.pending.events.push(decoded.event);
        this.pending.last = m;
        this.pending.lastSeq = m.seq;
        this.pending.messages++;
        this.kick();
        if (this.pending.events.length >= this.batchMax) await this.draining;
      }
      this.kick();
      await this.draining;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private kick(): void {
    if (this.drainRunning) return;
    this.drainRunning = true;
    this.draining = this.drain().finally(() => {
      this.drainRunning = false;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.last && !this.stopping) {
      // Linger only at the tail of the log (the consumer had nothing more for us when the last
      // message came): while catching up, a pause per batch would only slow the catch-up down.
      if (this.lingerMs > 0 && this.pending.messages < this.batchMax && this.pending.last.info.pending === 0) {
        await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
        if (this.stopping) break;
      }
      const batch = this.pending;
      this.pending = { events: [], last: undefined, lastSeq: 0, messages: 0 };
      try {
        await this.sink.apply(batch.events, batch.lastSeq);
        batch.last?.ack();
        this.wake();
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
  }

  private wake(): void {
    const done = this.sink.checkpoint();
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= done) {
        clearTimeout(w.timer);
        w.resolve();
      } else still.push(w);
    }
    this.waiters = still;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters = [];
  }
}
