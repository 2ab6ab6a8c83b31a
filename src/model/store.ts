/**
 * The LMDB store behind the read models: one environment, named databases
 *
 *   meta     string → value      checkpoint (last applied stream sequence), projector version
 *   buckets  bucket name → BucketRecord
 *   objects  <bucket> 0x00 <key> → ObjectRecord     (latest version of every key, S3 order)
 *
 * A batch of events is applied in one LMDB write transaction together with the checkpoint, so a
 * restart resumes exactly after the last committed event: nothing skipped, nothing applied twice.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../lib/assert.ts';
import type { LoggedEvent } from '../events/types.ts';
import { bucketPrefixBytes, objectKeyBytes, prefixSuccessor } from './keys.ts';
import { evolve, type ModelOp, type ModelView, type Outcome } from './evolve.ts';
import type { BucketRecord, ObjectRecord } from './records.ts';

/** Bump when the meaning of stored records or of `evolve` changes: the store is rebuilt. */
export const readModelVersion = 1;

const checkpointKey = 'checkpoint';
const versionKey = 'version';

/**
 * Called inside the apply transaction for every write, with the record it replaces or removes:
 * the storage node derives shard reference counts from it (a replaced version's shards lose a
 * reference, a new version's gain one).
 */
export type WriteHook = (op: ModelOp, previous: BucketRecord | ObjectRecord | undefined, event: LoggedEvent) => void;

export interface AppliedEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly outcome: Outcome;
}

export class ReadModelStore implements ModelView {
  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<unknown, string>,
    private readonly buckets: Database<BucketRecord, string>,
    readonly objects: Database<ObjectRecord, Buffer>,
  ) {}

  static open(path: string): ReadModelStore {
    const root = open({ path, maxDbs: 16, mapSize: 64 * 1024 * 1024 * 1024 });
    const meta = root.openDB<unknown, string>({ name: 'meta' });
    const buckets = root.openDB<BucketRecord, string>({ name: 'buckets' });
    const objects = root.openDB<ObjectRecord, Buffer>({ name: 'objects', keyEncoding: 'binary' });
    const store = new ReadModelStore(root, meta, buckets, objects);
    const version = meta.get(versionKey);
    if (version !== undefined && version !== readModelVersion) {
      // An older projection: drop it and rebuild from the log (the log is the truth).
      root.transactionSync(() => {
        void buckets.clearSync();
        void objects.clearSync();
        void meta.clearSync();
      });
    }
    if (meta.get(versionKey) === undefined) meta.putSync(versionKey, readModelVersion);
    return store;
  }

  checkpoint(): number {
    const v = this.meta.get(checkpointKey);
    return typeof v === 'number' ? v : 0;
  }

  bucket(name: string): BucketRecord | undefined {
    return this.buckets.get(name);
  }

  object(bucket: string, key: string): ObjectRecord | undefined {
    return this.objects.get(objectKeyBytes(bucket, key));
  }

  bucketIsEmpty(name: string): boolean {
    const start = bucketPrefixBytes(name);
    for (const _ of this.objects.getKeys({ start, end: prefixSuccessor(start), limit: 1 })) return false;
    return true;
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.getRange({}).map(({ value }) => value)];
  }

  /**
   * Applies events (consecutive stream sequences) and the new checkpoint in one transaction.
   * Events at or below the checkpoint are skipped: a redelivery is harmless.
   */
  async apply(events: readonly LoggedEvent[], lastSeq: number, hook?: WriteHook): Promise<AppliedEvent[]> {
    const applied: AppliedEvent[] = [];
    await this.root.transaction(() => {
      const from = this.checkpoint();
      for (const ev of events) {
        if (ev.seq <= from) continue;
        const { ops, outcome } = evolve(this, ev);
        for (const op of ops) {
          hook?.(op, this.previous(op), ev);
          this.write(op);
        }
        applied.push({ seq: ev.seq, eventId: ev.eventId, outcome });
      }
      if (lastSeq > from) this.meta.putSync(checkpointKey, lastSeq);
    });
    return applied;
  }

  /** The record an op is about to replace or remove, if any. */
  private previous(op: ModelOp): BucketRecord | ObjectRecord | undefined {
    switch (op.kind) {
      case 'put-bucket':
        return this.bucket(op.record.name);
      case 'del-bucket':
        return this.bucket(op.name);
      case 'put-object':
      case 'del-object':
        return this.object(op.bucket, op.key);
    }
  }

  /**
   * Another database in the same LMDB environment, so a consumer of the model (the storage
   * node's shard liveness) can write its own state in the same transaction as the model.
   */
  extraDb<V, K extends string | Buffer>(name: string, keyEncoding?: 'binary'): Database<V, K> {
    return this.root.openDB<V, K>({ name, ...(keyEncoding ? { keyEncoding } : {}) });
  }

  private write(op: ModelOp): void {
    switch (op.kind) {
      case 'put-bucket':
        this.buckets.putSync(op.record.name, op.record);
        return;
      case 'del-bucket':
        this.buckets.removeSync(op.name);
        return;
      case 'put-object':
        this.objects.putSync(objectKeyBytes(op.bucket, op.key), op.record);
        return;
      case 'del-object':
        this.objects.removeSync(objectKeyBytes(op.bucket, op.key));
        return;
    }
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  /** Every entry of every database, for comparing a rebuilt model with a live one in tests. */
  dump(): { buckets: [string, BucketRecord][]; objects: [string, ObjectRecord][] } {
    assert(this.root, 'store is open');
    return {
      buckets: [...this.buckets.getRange({})].map(({ key, value }) => [key, value]),
      objects: [...this.objects.getRange({})].map(({ key, value }) => [key.toString('hex'), value]),
    };
  }
}
