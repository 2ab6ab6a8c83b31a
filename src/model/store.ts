/**
 * The LMDB store behind the read models: one environment, named databases
 *
 *   meta        string → value     checkpoint (last applied stream sequence), projection versions
 *   buckets     bucket name → BucketRecord
 *   versions    <bucket> 0 <key> 0 <inverted seq> → VersionRecord   (every version, newest first)
 *   versionIds  <bucket> 0 <key> 0 <version id> → seq               (find a version by its id)
 *   objects     <bucket> 0 <key> → ObjectRecord   (latest non-delete-marker version, for listing)
 *   uploads     <bucket> 0 <key> 0 <upload id> → UploadRecord   (multipart uploads in progress)
 *   parts       <upload id> 0 <part number u32 BE> → PartRecord  (their parts; see uploads.ts)
 *
 * A batch of events is applied in one LMDB write transaction together with the checkpoint, so a
 * restart resumes exactly after the last committed event: nothing skipped, nothing applied twice.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../lib/assert.ts';
import { prepareVolatileEnv, type VolatileEnv, type VolatileOpenOptions } from '../lib/volatile-lmdb.ts';
import type { LoggedEvent } from '../events/types.ts';
import { bucketPrefixBytes, keySuccessor, objectKeyBytes, partKeyBytes, prefixSuccessor, uploadKeyBytes, versionIdKeyBytes, versionKeyBytes, versionRangeOfKey } from './keys.ts';
import { listingEntryEncoder } from './listing-entry-codec.ts';
import { evolve, type ModelOp, type ModelView, type Outcome } from './evolve.ts';
import type { BucketRecord, ListingEntry, ObjectRecord, VersionRecord } from './records.ts';
import type { PartRecord, UploadRecord } from './uploads.ts';

/**
 * The named projections of the model, each with the databases it owns and its version. Bump a
 * version when the meaning of its records or of its part of `evolve` changes: the model is then
 * rebuilt from the log on the next start. Projections decide together (a put needs the bucket,
 * a listing entry follows the versions), so a rebuild replays them together.
 */
export const projections = {
  buckets: { version: 3, dbs: ['buckets'] },
  versions: { version: 2, dbs: ['versions', 'versionIds'] },
  listing: { version: 3, dbs: ['objects'] },
  uploads: { version: 2, dbs: ['uploads', 'parts'] },
  lifecycle: { version: 1, dbs: [] as string[] },
} as const satisfies Record<string, { version: number; dbs: readonly string[] }>;

export type ProjectionName = keyof typeof projections;

/** One number for the whole model: changes whenever any projection's version changes. */
export const readModelVersion = Object.entries(projections)
  .map(([name, p]) => `${name}@${p.version}`)
  .join(',');

const checkpointKey = 'checkpoint';
const versionKey = 'version';

/**
 * Called inside the apply transaction for every write, with the record it replaces or removes.
 * The storage node derives shard reference counts from it: versions (`put-version`,
 * `del-version`) and upload parts hold shards; `put-object`/`del-object` maintain the derived
 * latest-version index and hold nothing of their own.
 */
export type WriteHook = (op: ModelOp, previous: PreviousRecord, event: LoggedEvent) => void;

export type PreviousRecord = BucketRecord | ObjectRecord | VersionRecord | ListingEntry | UploadRecord | PartRecord | undefined;

export interface AppliedEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly outcome: Outcome;
}

export class ReadModelStore implements ModelView {
  /**
   * Buckets read or written by the apply transaction running now, else undefined. Every object
   * event reads its bucket first; inside one transaction its record can only change through
   * `write`, which keeps this map current.
   */
  private applyBuckets: Map<string, BucketRecord | undefined> | undefined;

  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<unknown, string>,
    private readonly buckets: Database<BucketRecord, string>,
    readonly objects: Database<ListingEntry, Buffer>,
    readonly versions: Database<VersionRecord, Buffer>,
    private readonly versionIds: Database<number, Buffer>,
    readonly uploads: Database<UploadRecord, Buffer>,
    private readonly parts: Database<PartRecord, Buffer>,
    private readonly env: VolatileEnv,
  ) {}

  /** The model was found open after a machine restart and removed: it replays from the first event. */
  get discardedAfterMachineRestart(): boolean {
    return this.env.discardedAfterMachineRestart;
  }

  /**
   * Commits are not fsynced where the boot id can guard them (lib/volatile-lmdb.ts): the model is a
   * projection of the log, so a model found open after a machine restart is removed and replayed
   * from the first event (its checkpoint goes with it); a crash of the process loses nothing
   * committed. `noSync` asks for unsynced commits even without that guard: only for a model being
   * rebuilt, which nothing serves yet; call `sync()` before it is served (rebuild.ts does).
   */
  static open(path: string, opts: { noSync?: boolean } & VolatileOpenOptions = {}): ReadModelStore {
    const env = prepareVolatileEnv(path, opts.bootId === undefined ? {} : { bootId: opts.bootId });
    const noSync = env.noSync || (opts.noSync ?? false);
    const root = open({ path, maxDbs: 16, mapSize: 64 * 1024 * 1024 * 1024, ...(noSync ? { noSync: true } : {}) });
    const meta = root.openDB<unknown, string>({ name: 'meta' });
    // Values are plain msgpack maps (`useRecords: false`): msgpackr's records, without shared
    // structures, repeat each record's definition in every value and took twice as long to pack
    // and unpack. `objects` has its own binary layout. lmdb-js honours both options though its
    // typings do not name them for openDB.
    const plain = { useRecords: false };
    const buckets = root.openDB<BucketRecord, string>({ name: 'buckets', ...plain });
    const objectsOptions = { name: 'objects', keyEncoding: 'binary' as const, encoder: listingEntryEncoder };
    const objects = root.openDB<ListingEntry, Buffer>(objectsOptions);
    const binary = { keyEncoding: 'binary' as const, ...plain };
    const versions = root.openDB<VersionRecord, Buffer>({ name: 'versions', ...binary });
    const versionIds = root.openDB<number, Buffer>({ name: 'versionIds', ...binary });
    const uploads = root.openDB<UploadRecord, Buffer>({ name: 'uploads', ...binary });
    const parts = root.openDB<PartRecord, Buffer>({ name: 'parts', ...binary });
    const store = new ReadModelStore(root, meta, buckets, objects, versions, versionIds, uploads, parts, env);
    const version = meta.get(versionKey);
    if (version !== undefined && version !== readModelVersion) {
      // An older model: drop it and rebuild from the log (the log is the truth).
      root.transactionSync(() => {
        for (const db of [buckets, objects, versions, versionIds, uploads, parts, meta]) void db.clearSync();
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
    const cached = this.applyBuckets;
    if (cached === undefined) return this.buckets.get(name);
    if (cached.has(name)) return cached.get(name);
    const record = this.buckets.get(name);
    cached.set(name, record);
    return record;
  }

  object(bucket: string, key: string): ObjectRecord | undefined {
    const latest = this.latestVersion(bucket, key);
    return latest && !latest.deleteMarker ? latest : undefined;
  }

  listed(bucket: string, key: string): boolean {
    return this.objects.doesExist(objectKeyBytes(bucket, key));
  }

  latestVersion(bucket: string, key: string): VersionRecord | undefined {
    for (const { value } of this.versions.getRange({ ...versionRangeOfKey(bucket, key), limit: 1 })) return value;
    return undefined;
  }

  version(bucket: string, key: string, versionId: string): VersionRecord | undefined {
    const seq = this.versionIds.get(versionIdKeyBytes(bucket, key, versionId));
    return seq === undefined ? undefined : this.versions.get(versionKeyBytes(bucket, key, seq));
  }

  versionBefore(bucket: string, key: string, seq: number): VersionRecord | undefined {
    const { end } = versionRangeOfKey(bucket, key);
    for (const { value } of this.versions.getRange({ start: keySuccessor(versionKeyBytes(bucket, key, seq)), end, limit: 1 })) return value;
    return undefined;
  }

  bucketIsEmpty(name: string): boolean {
    const start = bucketPrefixBytes(name);
    for (const _ of this.versions.getKeys({ start, end: prefixSuccessor(start), limit: 1 })) return false;
    for (const _ of this.uploads.getKeys({ start, end: prefixSuccessor(start), limit: 1 })) return false;
    return true;
  }

  upload(bucket: string, key: string, uploadId: string): UploadRecord | undefined {
    return this.uploads.get(uploadKeyBytes(bucket, key, uploadId));
  }

  part(uploadId: string, partNumber: number): PartRecord | undefined {
    return this.parts.get(partKeyBytes(uploadId, partNumber));
  }

  *uploadParts(uploadId: string, afterPartNumber = 0): Iterable<PartRecord> {
    const start = partKeyBytes(uploadId, afterPartNumber + 1);
    const end = prefixSuccessor(Buffer.concat([Buffer.from(uploadId, 'utf8'), Buffer.from([0])]));
    for (const { value } of this.parts.getRange({ start, end })) yield value;
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
      this.applyBuckets = new Map();
      try {
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
      } finally {
        this.applyBuckets = undefined;
      }
    });
    return applied;
  }

  /** The record an op is about to replace or remove, if any. */
  private previous(op: ModelOp): PreviousRecord {
    switch (op.kind) {
      case 'put-upload':
        return this.upload(op.record.bucket, op.record.key, op.record.uploadId);
      case 'del-upload':
        return this.upload(op.bucket, op.key, op.uploadId);
      case 'put-part':
        return this.part(op.record.uploadId, op.record.partNumber);
      case 'del-part':
        return this.part(op.uploadId, op.partNumber);
      case 'put-version':
        return this.versions.get(versionKeyBytes(op.bucket, op.key, op.record.seq));
      case 'del-version':
        return op.record;
      case 'put-bucket':
        return this.bucket(op.record.name);
      case 'del-bucket':
        return this.bucket(op.name);
      case 'put-object':
      case 'del-object':
        return this.objects.get(objectKeyBytes(op.bucket, op.key));
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
        this.applyBuckets?.set(op.record.name, op.record);
        return;
      case 'del-bucket':
        this.buckets.removeSync(op.name);
        this.applyBuckets?.set(op.name, undefined);
        return;
      case 'put-version':
        this.versions.putSync(versionKeyBytes(op.bucket, op.key, op.record.seq), op.record);
        this.versionIds.putSync(versionIdKeyBytes(op.bucket, op.key, op.record.versionId), op.record.seq);
        return;
      case 'del-version':
        this.versions.removeSync(versionKeyBytes(op.bucket, op.key, op.record.seq));
        this.versionIds.removeSync(versionIdKeyBytes(op.bucket, op.key, op.record.versionId));
        return;
      case 'put-object':
        this.objects.putSync(objectKeyBytes(op.bucket, op.key), op.record);
        return;
      case 'del-object':
        this.objects.removeSync(objectKeyBytes(op.bucket, op.key));
        return;
      case 'put-upload':
        this.uploads.putSync(uploadKeyBytes(op.record.bucket, op.record.key, op.record.uploadId), op.record);
        return;
      case 'del-upload':
        this.uploads.removeSync(uploadKeyBytes(op.bucket, op.key, op.uploadId));
        return;
      case 'put-part':
        this.parts.putSync(partKeyBytes(op.record.uploadId, op.record.partNumber), op.record);
        return;
      case 'del-part':
        this.parts.removeSync(partKeyBytes(op.uploadId, op.partNumber));
        return;
    }
  }

  /** Flushes every committed transaction to disk (for a store opened with `noSync`). */
  sync(): Promise<void> {
    // lmdb-js's RootDatabase.sync (mdb_env_sync, forced) is not in its typings.
    const root = this.root as unknown as { sync(callback: (err: unknown) => void): void };
    return new Promise((resolve, reject) => {
      root.sync((err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.root.close();
    this.env.closed();
  }

  /** Every entry of every database, for comparing a rebuilt model with a live one in tests. */
  private dbByName(name: string): Database<unknown, string | Buffer> | undefined {
    const dbs: Record<string, Database<unknown, string | Buffer>> = {
      buckets: this.buckets as Database<unknown, string | Buffer>,
      objects: this.objects as Database<unknown, string | Buffer>,
      versions: this.versions as Database<unknown, string | Buffer>,
      versionIds: this.versionIds as Database<unknown, string | Buffer>,
    };
    return dbs[name];
  }

  /** Whether the named databases hold the same entries here and in `other`, compared in lockstep. */
  sameAs(other: ReadModelStore, names: readonly string[]): boolean {
    for (const name of names) {
      const a = this.dbByName(name);
      const b = other.dbByName(name);
      if (!a || !b) continue;
      const ia = a.getRange({})[Symbol.iterator]();
      const ib = b.getRange({})[Symbol.iterator]();
      for (;;) {
        const x = ia.next();
        const y = ib.next();
        if (x.done || y.done) {
          if (x.done !== y.done) return false;
          break;
        }
        if (JSON.stringify([x.value.key, x.value.value]) !== JSON.stringify([y.value.key, y.value.value])) return false;
      }
    }
    return true;
  }

  dump(): Record<string, [string, unknown][]> {
    assert(this.root, 'store is open');
    const hex = (db: Database<unknown, Buffer>): [string, unknown][] => [...db.getRange({})].map(({ key, value }) => [key.toString('hex'), value]);
    return {
      buckets: [...this.buckets.getRange({})].map(({ key, value }) => [key, value]),
      objects: hex(this.objects),
      versions: hex(this.versions),
      versionIds: hex(this.versionIds),
      uploads: hex(this.uploads),
      parts: hex(this.parts),
    };
  }
}
