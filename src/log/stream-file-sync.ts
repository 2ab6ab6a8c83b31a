/**
 * Makes acknowledged events durable on the embedded, one-server JetStream.
 *
 * A JetStream PubAck from a stream with one replica means the server has written the message to
 * its current message block file (`<store>/jetstream/<account>/streams/<stream>/msgs/<n>.blk`),
 * not that it is on disk: nats-server fsyncs its file store every `sync_interval` (2 minutes by
 * default), and the nats-server 2.9 Debian ships has no way to ask for more (`sync_interval:
 * always` came with 2.10; 2.9 refuses the field). A power cut could then drop events whose
 * writes were acknowledged to clients. In the embedded mode Strata runs that server on its own
 * data dir, so after every ack the publisher waits here for an fdatasync of the stream's block
 * files that started after the ack (the message is in the block file when the ack arrives:
 * test/integration/log-file-sync.test.ts checks it on every run).
 *
 * Group commit, as in the segment writer: at most one sync is in flight; a request made while one
 * runs waits for the next, which covers every request made before it started. A sync fdatasyncs
 * the newest block and every block at or above the newest one the previous sync saw (a block that
 * filled up meanwhile may hold acknowledged messages written after that sync), and fsyncs the
 * directory when a block file appeared. With replicas (R3) durability comes from the quorum
 * instead, and a gateway on an external NATS (NATS_URL) cannot reach the files: neither uses
 * this (README: operations).
 *
 * A failed fdatasync fails the waiting publishes and every later one (the kernel may have
 * dropped the dirty pages; as with segments, nothing is trusted until a restart).
 */
import { statSync } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../lib/retryable.ts';
import { fsyncDirectory, fsyncPath } from '../lib/fsync-directory.ts';

export interface StreamFileSyncStats {
  readonly syncs: number;
  readonly requests: number;
}

interface Waiter {
  readonly ticket: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const blockFile = /^(\d+)\.blk$/;

export class StreamFileSync {
  private requested = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: unknown;
  private closed = false;
  /** The newest block the last sync saw (0: none yet). */
  private newest = 0;
  private syncs = 0;
  /** The block file synced last, kept open for the next sync while its name still names it. */
  private held: { readonly n: number; readonly fh: FileHandle; readonly ino: number } | undefined;

  private constructor(readonly msgsDir: string) {}

  /**
   * Finds the stream's message directory under a nats-server store dir (`-sd`), in whichever
   * account holds it, and makes the stream's files created so far durable.
   */
  static async open(storeDir: string, stream: string): Promise<StreamFileSync> {
    const accountsDir = join(storeDir, 'jetstream');
    const found: string[] = [];
    for (const account of await readdir(accountsDir).catch(() => [] as string[])) {
      const streamDir = join(accountsDir, account, 'streams', stream);
      const entries = await readdir(streamDir).catch(() => undefined);
      if (entries?.includes('msgs') === true) found.push(streamDir);
    }
    if (found.length !== 1) {
      throw new Error(`found ${found.length} directories of stream ${stream} under ${accountsDir} (expected one): cannot make acknowledged events durable; set STRATA_LOG_FSYNC=off to run without`);
    }
    const streamDir = found[0] as string;
    for (const name of await readdir(streamDir)) {
      if (name.startsWith('meta.')) await fsyncPath(join(streamDir, name));
    }
    await fsyncDirectory(streamDir);
    await fsyncDirectory(join(streamDir, '..'));
    const sync = new StreamFileSync(join(streamDir, 'msgs'));
    await sync.sync();
    return sync;
  }

  /** Resolves once an fdatasync that started after this call has covered the stream's blocks. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('stream file sync is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failedError());
    const ticket = ++this.requested;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ ticket, resolve, reject });
      this.kick();
    });
  }

  stats(): StreamFileSyncStats {
    return { syncs: this.syncs, requests: this.requested };
  }

  async close(): Promise<void> {
    this.closed = true;
    // A sync that ends with requests still waiting starts the next one (kick): wait for the last,
    // so that no sync opens a block handle after the one held here is closed.
    while (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
    await this.release();
  }

  private kick(): void {
    if (this.inFlight !== undefined || this.failure !== undefined || this.durable >= this.requested) return;
    const covers = this.requested;
    this.inFlight = this.syncBlocks().then(
      () => {
        this.inFlight = undefined;
        this.syncs++;
        this.durable = covers;
        const still: Waiter[] = [];
        for (const w of this.waiters) {
          if (w.ticket <= covers) w.resolve();
          else still.push(w);
        }
        this.waiters = still;
        this.kick();
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.failure = err;
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w.reject(this.failedError());
      },
    );
  }

  private failedError(): Error {
    return new UnavailableError('the event log files could not be made durable (fdatasync failed); restart the server', { cause: this.failure });
  }

  private async syncBlocks(): Promise<void> {
    if (this.newest > 0) {
      // Blocks are numbered in order. Any block started since the last sync is found by probing
      // the next number (one stat that finds nothing when there is none; a directory listing per
      // sync would cost more as the stream grows to thousands of blocks). The block that filled up is synced
      // once more: acknowledged messages may have reached it after the last sync.
      let appeared = false;
      while (this.blockExists(this.newest + 1)) {
        await this.syncBlock(this.newest);
        this.newest++;
        appeared = true;
      }
      if (await this.syncBlock(this.newest)) {
        if (appeared) await fsyncDirectory(this.msgsDir);
        return;
      }
      // The newest block known is gone: the stream was purged or made again under the same name
      // and its numbering restarted. Its blocks are all new: sync every one, below.
    }
    // The first sync syncs the newest block only (the files a previous run acknowledged were
    // synced then); after a restart of the numbering, every block.
    const blocks: number[] = [];
    for (const name of await readdir(this.msgsDir)) {
      const n = Number(blockFile.exec(name)?.[1] ?? 0);
      if (n > 0) blocks.push(n);
    }
    if (blocks.length === 0) return; // a fresh stream, no block yet
    blocks.sort((a, b) => a - b);
    for (const n of this.newest === 0 ? blocks.slice(-1) : blocks) await this.syncBlock(n);
    this.newest = blocks[blocks.length - 1] as number;
    await fsyncDirectory(this.msgsDir);
  }

  /**
   * A stat on the event loop, not an open on the thread pool: a directory entry lookup costs
   * microseconds, and a probe that finds nothing (every sync but one per block) neither waits for a
   * pool thread nor builds an ENOENT error with a stack.
   */
  private blockExists(n: number): boolean {
    return statSync(this.blockPath(n), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * fdatasyncs block `n` (false: there is none). The handle of the block synced last is reused
   * while the name still leads to the same file (inode compared by a stat on the event loop);
   * otherwise — another block, or one the server replaced under its name — the file is opened
   * again. One pool round trip per sync (the fdatasync) instead of three (open, fdatasync, close),
   * each of which a publish waits for.
   */
  private async syncBlock(n: number): Promise<boolean> {
    const st = statSync(this.blockPath(n), { throwIfNoEntry: false });
    if (st === undefined) return false; // removed by the server meanwhile
    let held = this.held;
    if (held === undefined || held.n !== n || held.ino !== st.ino) {
      await this.release();
      const fh = await this.openBlock(n);
      if (fh === undefined) return false;
      // The inode the name had just before the open: if the file was replaced in between, the
      // next sync sees a different inode and opens it again.
      held = { n, fh, ino: st.ino };
      this.held = held;
    }
    await held.fh.datasync();
    return true;
  }

  private async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    await held?.fh.close();
  }

  private blockPath(n: number): string {
    return join(this.msgsDir, `${n}.blk`);
  }

  private openBlock(n: number): Promise<FileHandle | undefined> {
    return open(this.blockPath(n), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }
}
