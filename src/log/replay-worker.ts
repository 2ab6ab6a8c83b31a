/**
 * Body of a replay worker thread (started by replay-reader.ts through replay-worker-entry.mjs).
 *
 * It owns its own NATS connection and an ordered consumer from `fromSeq`, pulled in bounded
 * windows, and packs message payloads into batches it transfers to the reader. Taking the NATS
 * client off the applying thread is the point: parsing the protocol, the reply subjects and the
 * message objects was a fifth of a rebuild's main-thread time, and now runs on the other core.
 * Flow control: at most `batchesInFlightMax` batches wait for the reader; beyond that the worker
 * stops iterating, and the consumer's own window (batchMessagesMax) stops the pull.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { parentPort, workerData } from 'node:worker_threads';
import type { ReplayReaderMessage, ReplayWorkerData, ReplayWorkerMessage } from './replay-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('replay-worker.ts runs as a worker thread');
const cfg = workerData as ReplayWorkerData;

let credits = cfg.batchesInFlightMax;
let stopped = false;
let wakeCredit: (() => void) | undefined;
port.on('message', (m: ReplayReaderMessage) => {
  if (m.t === 'credit') credits++;
  else stopped = true;
  wakeCredit?.();
});

function post(m: ReplayWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(m, transfer);
}

async function waitCredit(): Promise<void> {
  while (credits === 0 && !stopped) await new Promise<void>((resolve) => (wakeCredit = resolve));
  wakeCredit = undefined;
}

class BatchBuilder {
  private data = new Uint8Array(0);
  private used = 0;
  private seqs = new Float64Array(cfg.batchMessagesMax);
  private ends = new Uint32Array(cfg.batchMessagesMax);
  count = 0;

  add(payload: Uint8Array, seq: number): void {
    if (this.used + payload.length > this.data.length) {
      const grown = new Uint8Array(Math.max(cfg.batchBytesMax, this.used + payload.length));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    this.data.set(payload, this.used);
    this.used += payload.length;
    this.seqs[this.count] = seq;
    this.ends[this.count] = this.used;
    this.count++;
  }

  get full(): boolean {
    return this.count >= cfg.batchMessagesMax || this.used >= cfg.batchBytesMax;
  }

  /** Posts the batch (its buffers move to the reader) and starts an empty one. */
  flush(): void {
    if (this.count === 0) return;
    const data = this.data.buffer.slice(0, this.used) as ArrayBuffer;
    const seqs = this.seqs.slice(0, this.count);
    const ends = this.ends.slice(0, this.count);
    post({ t: 'batch', data, seqs, ends, count: this.count }, [data, seqs.buffer as ArrayBuffer, ends.buffer as ArrayBuffer]);
    credits--;
    this.used = 0;
    this.count = 0;
  }
}

async function run(): Promise<void> {
  const nc = await connect({ servers: cfg.servers, name: cfg.name, noAsyncTraces: true });
  try {
    const consumer = await jetstream(nc).consumers.get(cfg.stream, { opt_start_seq: cfg.fromSeq });
    const messages = await consumer.consume({ max_messages: cfg.batchMessagesMax });
    const batch = new BatchBuilder();
    try {
      for await (const m of messages) {
        const seq = m.seq;
        batch.add(m.data, seq);
        const last = seq >= cfg.toSeq;
        if (batch.full || last || m.info.pending === 0) {
          await waitCredit();
          if (stopped) return;
          batch.flush();
        }
        if (last) {
          post({ t: 'end' });
          return;
        }
        if (stopped) return;
      }
    } finally {
      await messages.close();
    }
  } finally {
    await nc.close();
  }
}

run().then(
  () => port.unref(),
  (err: unknown) => {
    post({ t: 'error', message: err instanceof Error ? err.message : String(err) });
    // Nothing else keeps the thread alive: it ends once the messages above are delivered.
    port.unref();
  },
);
