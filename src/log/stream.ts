/**
 * The JetStream stream that holds the event log. Created idempotently at start: an existing
 * stream is kept (its data is the source of truth); only settings we own are updated.
 */
import { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { streamName, streamSubjects } from '../events/subjects.ts';

export interface StreamOptions {
  /** 1 on a single server, 3 on a clustered JetStream. */
  readonly replicas: number;
  /** Window in which a re-published event id is dropped as a duplicate. */
  readonly duplicateWindowMs: number;
  /** Largest event in bytes (inline data + shard refs of a large object). */
  readonly maxMsgBytes: number;
}

export const defaultStreamOptions: StreamOptions = {
  replicas: 1,
  duplicateWindowMs: 2 * 60 * 1000,
  maxMsgBytes: 1024 * 1024,
};

export async function ensureStream(nc: NatsConnection, opts: StreamOptions = defaultStreamOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: streamName,
    subjects: [streamSubjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas,
    duplicate_window: opts.duplicateWindowMs * 1_000_000,
    max_msg_size: opts.maxMsgBytes,
    allow_direct: true,
  };
  try {
    const info = await jsm.streams.info(streamName);
    if (info.config.duplicate_window !== config.duplicate_window || info.config.max_msg_size !== config.max_msg_size) {
      await jsm.streams.update(streamName, { ...info.config, duplicate_window: config.duplicate_window, max_msg_size: config.max_msg_size });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || e?.code === '404' || /not found/i.test(e?.message ?? '');
}
