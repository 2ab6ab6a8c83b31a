/**
 * Messages between a replay reader (replay-reader.ts, on the thread that applies events) and its
 * worker (replay-worker.ts, which pulls them from JetStream). A batch is three transferred
 * buffers: the message payloads back to back, and for each message its stream sequence and the
 * end offset of its payload.
 */
export interface ReplayWorkerData {
  /** Where to connect (one server of the cluster is enough: JetStream answers from any). */
  readonly servers: string;
  readonly name: string;
  readonly stream: string;
  readonly fromSeq: number;
  /** The worker stops after the message at or past this sequence. */
  readonly toSeq: number;
  readonly batchMessagesMax: number;
  readonly batchBytesMax: number;
  /** Batches posted and not yet released by the reader (the worker waits beyond this). */
  readonly batchesInFlightMax: number;
}

export type ReplayWorkerMessage =
  | { readonly t: 'batch'; readonly data: ArrayBuffer; readonly seqs: Float64Array; readonly ends: Uint32Array; readonly count: number }
  | { readonly t: 'end' }
  | { readonly t: 'error'; readonly message: string };

export type ReplayReaderMessage = { readonly t: 'credit' } | { readonly t: 'stop' };
