/**
 * The embedded one-server JetStream does not fsync what it acknowledges (nats-server 2.9 has no
 * `sync_interval: always`): the publisher waits for StreamFileSync's fdatasync of the stream's
 * block files. A power cut cannot be staged here, so these tests check what makes an event
 * survive one: before publish (and a PUT's 2xx) returns, an fdatasync of the block file holding
 * the event has started after the event was in it, and completed.
 *
 * Every fdatasync/fsync in the process is watched: its file (from /proc/self/fd) and, for a
 * block file, the markers (event ids, object keys) the file held when the sync started.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../src/events/codec.ts';
import { EventLog } from '../../src/log/publisher.ts';
import { StreamFileSync } from '../../src/log/stream-file-sync.ts';
import { bucketCreatedEvent } from '../support/events.ts';
import { hookFileSyncs } from '../support/file-syncs.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { startTestStrata } from '../support/strata.ts';

/** Markers being waited for; a sync that starts records which of them its file already held. */
const watched = new Set<string>();
/** Markers made durable: held by a block file when an fdatasync of it started, and that sync completed. */
const durable = new Set<string>();
/** Paths synced (files and directories), completed syncs only. */
const syncedPaths: string[] = [];
let restore: (() => void) | undefined;
/** Stages a slow disk for block files: each of their syncs takes this much longer. */
let slowBlockSyncMs = 0;

beforeEach(async () => {
  watched.clear();
  durable.clear();
  syncedPaths.length = 0;
  restore = await hookFileSyncs(async (fh, sync) => {
    const path = readlinkSync(`/proc/self/fd/${fh.fd}`);
    const held: string[] = [];
    if (path.endsWith('.blk')) {
      const content = readFileSync(path);
      for (const m of watched) if (content.includes(m)) held.push(m);
      if (slowBlockSyncMs > 0) await new Promise((resolve) => setTimeout(resolve, slowBlockSyncMs));
    }
    await sync();
    for (const m of held) durable.add(m);
    syncedPaths.push(path);
  });
});

afterEach(() => {
  restore?.();
  slowBlockSyncMs = 0;
});


describe('EventLog with a StreamFileSync', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats('file-sync');
  });
  afterAll(async () => {
    await nats.close();
  });

  /** A stream of its own (subjects `<name in lower case>.>`) with its file sync, taken away after `use`. */
  async function withOwnStream(name: string, use: (s: { sync: StreamFileSync; js: JetStreamClient; jsm: JetStreamManager }) => Promise<void>): Promise<void> {
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
    const sync = await StreamFileSync.open(nats.storeDir, name);
    try {
      await use({ sync, js: jetstream(nats.nc), jsm });
    } finally {
      await sync.close();
      await jsm.streams.delete(name).catch(() => undefined);
    }
  }

  it('relies on this: when the PubAck arrives, the message is already in a block file', async () => {
    // If nats-server ever acknowledged before writing (an async flush), syncing its files after
    // the ack would not cover the event and the file sync would need another design.
    const sync = await StreamFileSync.open(nats.storeDir, 'STRATA');
    await sync.close();
    const js = jetstream(nats.nc);
    let absent = 0;
    for (let i = 0; i < 100; i++) {
      const marker = `inblock-${process.pid}-${i}-${Date.now()}`;
      await js.publish(`strata.ev._test.inblock.${i % 7}`, Buffer.from(marker));
      const blocks = (await readdir(sync.msgsDir)).filter((n) => n.endsWith('.blk'));
      if (!blocks.some((b) => readFileSync(join(sync.msgsDir, b)).includes(marker))) absent++;
    }
    expect(absent).toBe(0);
  });

  it('returns from publish only after an fdatasync that started with the event in its block file', async () => {
    const sync = await StreamFileSync.open(nats.storeDir, 'STRATA');
    const log = await EventLog.open(nats.nc, { fileSync: sync });
    try {
      const ids = Array.from({ length: 64 }, (_, i) => `filesync-${process.pid}-${i}-${Date.now()}`);
      for (const id of ids) watched.add(id);
      // Concurrent publishes: each is checked at the moment its own publish returns.
      const missing: string[] = [];
      await Promise.all(
        ids.map(async (id) => {
          const r = await log.publish(`strata.ev._test.filesync.${id}`, bucketCreatedEvent(id));
          expect(r.ok).toBe(true);
          if (!durable.has(id)) missing.push(id);
        }),
      );
      expect(missing).toEqual([]);
      const { syncs, requests } = sync.stats();
      console.log(`64 concurrent publishes: ${requests} sync requests, ${syncs} fdatasync rounds`);
      expect(requests).toBeGreaterThanOrEqual(64);
    } finally {
      log.close();
      await sync.close();
    }
  });

  it('without it, publish returns with the event not yet synced (what the file sync is for)', async () => {
    const log = await EventLog.open(nats.nc);
    try {
      const id = `nosync-${process.pid}-${Date.now()}`;
      watched.add(id);
      await log.publish(`strata.ev._test.filesync.${id}`, bucketCreatedEvent(id));
      expect(durable.has(id)).toBe(false);
    } finally {
      log.close();
    }
  });

  it('syncs a block that filled up since the last sync, the new block, and the directory that gained it', async () => {
    // nats-server 2.9 starts a new block file every ~8 MiB (seen with 2.9.10), so 32 KiB messages
    // roll over about every 260.
    await withOwnStream('ROLL', async ({ sync, js }) => {
      const payload = Buffer.alloc(32 * 1024, 0x61);
      let lastBlocks = await readdir(sync.msgsDir);
      let rolls = 0;
      for (let i = 0; i < 1200 && rolls < 2; i++) {
        const id = `roll-${process.pid}-${i}-${Date.now()}`;
        watched.add(id);
        await js.publish(`roll.${i}`, Buffer.concat([Buffer.from(id), payload]));
        const blocks = (await readdir(sync.msgsDir)).filter((n) => n.endsWith('.blk'));
        const newBlock = blocks.some((b) => !lastBlocks.includes(b));
        // Synced every 50 messages, and at a roll: the old block then holds messages written
        // since the last sync.
        if (i % 50 === 49 || newBlock) {
          const before = syncedPaths.length;
          await sync.sync();
          const paths = syncedPaths.slice(before);
          if (newBlock) {
            rolls++;
            expect(paths).toContain(sync.msgsDir);
          }
          for (const w of watched) expect(durable.has(w), w).toBe(true);
          watched.clear();
        }
        lastBlocks = blocks;
      }
      expect(rolls).toBeGreaterThan(0);
    });
  });

  it('after the stream is made again (block numbers restart), syncs its new blocks', async () => {
    await withOwnStream('AGAIN', async ({ sync, js, jsm }) => {
      // Past the first block, so that the newest block known is one the new stream does not have.
      const payload = Buffer.alloc(32 * 1024, 0x62);
      for (let i = 0; (await readdir(sync.msgsDir)).filter((n) => n.endsWith('.blk')).length < 2; i++) {
        expect(i).toBeLessThan(2000);
        await js.publish(`again.${i}`, payload);
      }
      await sync.sync();
      await jsm.streams.delete('AGAIN');
      await jsm.streams.add({ name: 'AGAIN', subjects: ['again.>'] });
      const id = `again-${process.pid}-${Date.now()}`;
      watched.add(id);
      await js.publish('again.new', Buffer.from(id));
      await sync.sync();
      expect(durable.has(id)).toBe(true);
    });
  });

  it('keeps the synced block open only while its name leads to the same file', async () => {
    // A store laid out as nats-server's, with a block file this test writes and then replaces
    // under its name (write a new file, rename it over): the next sync must sync the new file,
    // not the unlinked one it still holds open.
    const store = await mkdtemp(join(tmpdir(), 'strata-file-sync-'));
    try {
      const msgs = join(store, 'jetstream', '$G', 'streams', 'FAKE', 'msgs');
      await mkdir(msgs, { recursive: true });
      const block = join(msgs, '1.blk');
      await writeFile(block, 'first');
      const sync = await StreamFileSync.open(store, 'FAKE');
      try {
        const first = `held-${process.pid}-a`;
        watched.add(first);
        await appendFile(block, first);
        await sync.sync();
        expect(durable.has(first)).toBe(true);
        const second = `held-${process.pid}-b`;
        watched.add(second);
        await writeFile(`${block}.tmp`, `rewritten ${first} ${second}`);
        await rename(`${block}.tmp`, block);
        const before = syncedPaths.length;
        await sync.sync();
        expect(syncedPaths.slice(before)).toEqual([block]);
        expect(durable.has(second)).toBe(true);
      } finally {
        await sync.close();
      }
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  it('close waits for a sync queued behind the running one, and leaves no block file open (not even one that sync opened)', async () => {
    const store = await mkdtemp(join(tmpdir(), 'strata-file-sync-'));
    try {
      const msgs = join(store, 'jetstream', '$G', 'streams', 'FAKE', 'msgs');
      await mkdir(msgs, { recursive: true });
      await writeFile(join(msgs, '1.blk'), 'block');
      const sync = await StreamFileSync.open(store, 'FAKE');
      // The first runs at once (its probe for block 2 has run when sync() returns); the second
      // waits for it, starts when it ends, finds block 2 and opens it.
      const first = sync.sync();
      writeFileSync(join(msgs, '2.blk'), 'next block');
      const second = sync.sync();
      await sync.close();
      await expect(first).resolves.toBeUndefined();
      await expect(second).resolves.toBeUndefined();
      const open = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(msgs);
        } catch {
          return false; // closed since the listing
        }
      });
      expect(open).toEqual([]);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  it('refuses to start when the stream has no directory under the store', async () => {
    await expect(StreamFileSync.open(join(nats.storeDir, 'nowhere'), 'STRATA')).rejects.toThrow(/STRATA_LOG_FSYNC=off/);
  });
});

describe('Strata embedded', () => {
  it("answers a PUT only after the event's block file was fdatasync'd with the event in it, even when the sync is slow", async () => {
    const t = await startTestStrata();
    try {
      const s3 = t.client();
      const bucket = 'file-sync';
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      // A slow disk for the log: the projection is applied long before the event's sync ends, and
      // the answer must still wait for the sync.
      slowBlockSyncMs = 40;
      for (let i = 0; i < 8; i++) {
        const key = `durable-${process.pid}-${i}-${Date.now()}`;
        watched.add(key);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${i}` }));
        expect(durable.has(key), key).toBe(true);
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(await got.Body?.transformToString()).toBe(`body ${i}`);
      }
    } finally {
      await t.stop();
    }
  });

  it("the embedded storage node's own events (repairs, corruption) are synced before their publish returns too", async () => {
    const t = await startTestStrata();
    try {
      const events = t.strata.node?.repair.events;
      expect(events, 'the test Strata hosts its storage node').toBeDefined();
      for (let i = 0; i < 8; i++) {
        const id = `node-event-${process.pid}-${i}-${Date.now()}`;
        watched.add(id);
        await events?.publish(`strata.ev._test.node.${i}`, bucketCreatedEvent(id));
        expect(durable.has(id), id).toBe(true);
      }
    } finally {
      await t.stop();
    }
  });
});
