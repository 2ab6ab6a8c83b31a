/**
 * Rebuild by replay: a fresh model built from the first event of the log into a new LMDB
 * environment, with an ordered (ephemeral, flow-controlled) consumer pulled in bounded batches by a
 * worker thread (log/replay-reader.ts).
 * The live model keeps serving meanwhile; the caller swaps once the new one has caught up.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeLoggedEvent } from '../events/codec.ts';
import { streamName } from '../events/subjects.ts';
import type { LoggedEvent } from '../events/types.ts';
import { ReplayReader } from '../log/replay-reader.ts';
import { ReadModelStore } from '../model/store.ts';
import { RecentOutcomes } from './recent-outcomes.ts';

export interface RebuildProgress {
  readonly appliedSeq: number;
  readonly targetSeq: number;
  readonly events: number;
  readonly elapsedMs: number;
}

export interface RebuildResult {
  readonly store: ReadModelStore;
  /** Outcomes of the last events applied (a writer waiting during a swap may ask for them). */
  readonly recentOutcomes: RecentOutcomes;
  readonly events: number;
  readonly lastSeq: number;
  readonly elapsedMs: number;
}

/** Replays the stream into a new store at `dir` up to (at least) the stream's last sequence now. */
export async function rebuildInto(
  nc: NatsConnection,
  dir: string,
  opts: { onProgress?: (p: RebuildProgress) => void; nowMs?: () => number } = {},
): Promise<RebuildResult> {
  const now = opts.nowMs ?? (() => Date.now());
  const started = now();
  // The new copy is served only once replayed in full, and can be replayed again after a crash:
  // its transactions commit without fsync, and one sync at the end makes it durable.
  let store = ReadModelStore.open(dir, { noSync: true });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamName);
    const targetSeq = info.state.last_seq;
    let events = 0;
    let lastReport = 0;
    const recentOutcomes = new RecentOutcomes();
    const from = store.checkpoint() + 1;
    // One transaction commits (on LMDB's writer thread) while the next batch is pulled and
    // decoded; never more than one, so memory stays bounded by two batches.
    let committing: Promise<void> = Promise.resolve();
    const commit = async (batch: readonly LoggedEvent[], batchLast: number, eventsSoFar: number): Promise<void> => {
      for (const a of await store.apply(batch, batchLast)) recentOutcomes.set(a.seq, a.outcome);
      const t = now();
      if (opts.onProgress && (t - lastReport >= 250 || batchLast >= targetSeq)) {
        lastReport = t;
        opts.onProgress({ appliedSeq: batchLast, targetSeq, events: eventsSoFar, elapsedMs: t - started });
      }
    };
    try {
      if (targetSeq >= from) {
        // The NATS client runs in a worker thread (replay-reader.ts); this thread decodes and applies.
        const reader = new ReplayReader({ servers: nc.getServer(), stream: streamName, fromSeq: from, toSeq: targetSeq });
        try {
          for await (const b of reader.batches()) {
            const batch: LoggedEvent[] = [];
            for (let i = 0; i < b.count; i++) {
              const decoded = decodeLoggedEvent(b.payload(i), b.seq(i));
              if (decoded.ok) batch.push(decoded.event);
            }
            events += b.count;
            await committing;
            committing = commit(batch, b.lastSeq, events);
            // Awaited before the next batch or at the end; this only keeps a failure meanwhile from
            // counting as unhandled.
            committing.catch(() => undefined);
          }
        } finally {
          await reader.close();
        }
      }
    } finally {
      // Never leave a transaction running under a closing store; its failure, if any, is thrown.
      await committing;
    }
    await store.sync();
    await store.close();
    store = ReadModelStore.open(dir);
    return { store, recentOutcomes, events, lastSeq: store.checkpoint(), elapsedMs: now() - started };
  } catch (err) {
    await store.close();
    throw err;
  }
}
