/**
 * Reads the stream from a sequence to another in batches, pulled by a worker thread (see
 * replay-worker.ts for why). Used by rebuild-by-replay, which applies one batch while the worker
 * pulls the next ones: at most limits.replayBatchesInFlightMax batches are held for the reader, each
 * at most limits.rebuildBatchMax messages or limits.replayBatchBytesMax bytes (plus one message).
 *
 * A batch's payload views stay valid after the next batch arrives (each batch has its own
 * buffers), so decoded events may keep subarrays of them.
 */
import { Worker } from 'node:worker_threads';
import { assert } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import type { ReplayReaderMessage, ReplayWorkerData, ReplayWorkerMessage } from './replay-protocol.ts';

export interface ReplayBatch {
  readonly count: number;
  readonly lastSeq: number;
  seq(i: number): number;
  payload(i: number): Uint8Array;
}

export interface ReplayReaderOptions {
  readonly servers: string;
  readonly stream: string;
  readonly fromSeq: number;
  readonly toSeq: number;
  /** Defaults: limits.rebuildBatchMax and limits.replayBatchBytesMax. */
  readonly batchMessagesMax?: number;
  readonly batchBytesMax?: number;
}

export class ReplayReader {
  private readonly worker: Worker;
  private readonly queue: ReplayWorkerMessage[] = [];
  private wake: (() => void) | undefined;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(o: ReplayReaderOptions) {
    assert(o.fromSeq >= 1 && o.toSeq >= o.fromSeq, `replay range ${o.fromSeq}..${o.toSeq}`);
    const data: ReplayWorkerData = {
      servers: o.servers,
      name: 'strata-replay',
      stream: o.stream,
      fromSeq: o.fromSeq,
      toSeq: o.toSeq,
      batchMessagesMax: o.batchMessagesMax ?? limits.rebuildBatchMax,
      batchBytesMax: o.batchBytesMax ?? limits.replayBatchBytesMax,
      batchesInFlightMax: limits.replayBatchesInFlightMax,
    };
    // Not the parent's flags (the entry registers tsx itself), except --cpu-prof* for profiling.
    const execArgv = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
    this.worker = new Worker(new URL('./replay-worker-entry.mjs', import.meta.url), { workerData: data, execArgv });
    this.worker.on('message', (m: ReplayWorkerMessage) => this.push(m));
    this.worker.on('error', (err) => this.push({ t: 'error', message: err.message }));
    this.exit = new Promise<void>((resolve) => {
      this.worker.on('exit', () => {
        this.exited = true;
        this.push({ t: 'error', message: 'replay worker exited' });
        resolve();
      });
    });
  }

  private push(m: ReplayWorkerMessage): void {
    this.queue.push(m);
    this.wake?.();
  }

  private async next(): Promise<ReplayWorkerMessage> {
    for (;;) {
      const m = this.queue.shift();
      if (m !== undefined) return m;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** The batches in stream order, up to and including the one holding `toSeq`. */
  async *batches(): AsyncGenerator<ReplayBatch> {
    for (;;) {
      const m = await this.next();
      if (m.t === 'end') return;
      if (m.t === 'error') throw new Error(`replay: ${m.message}`);
      const bytes = new Uint8Array(m.data);
      const { seqs, ends, count } = m;
      const lastSeq = seqs[count - 1];
      assert(count > 0 && lastSeq !== undefined, 'empty replay batch');
      yield {
        count,
        lastSeq,
        seq: (i) => {
          const seq = seqs[i];
          assert(seq !== undefined, 'replay batch index');
          return seq;
        },
        payload: (i) => bytes.subarray(i === 0 ? 0 : (ends[i - 1] ?? 0), ends[i]),
      };
      // The caller is done with this batch (it asked for the next): the worker may pull another.
      this.post({ t: 'credit' });
    }
  }

  private post(m: ReplayReaderMessage): void {
    if (!this.exited) this.worker.postMessage(m);
  }

  /** Stops the worker (if still running) and waits for it to exit. */
  async close(): Promise<void> {
    this.post({ t: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), limits.replayWorkerStopWaitMs);
    try {
      await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}
