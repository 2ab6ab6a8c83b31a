/**
 * Body of a digest worker thread (started by digest-pool.ts through digest-worker-entry.mjs).
 *
 * Messages are handled in the order they were posted, so a stream's updates are always hashed
 * before its cut or finish answers. Only `cut`, `finish` and `crc` are answered; an `update` that
 * fails (a programmer error) is reported by the stream's next answer. A stream computes the
 * digests, the crc32, or both (DigestOpen.role); a 'both' finish answers the crc32 before it
 * hashes the last bytes for the digests.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { crc32, createChecksum, type Checksum } from './checksums.ts';
import type { DigestOpen, DigestReply, DigestRequest, SharedRange } from './digest-protocol.ts';

interface StreamState {
  readonly crc: boolean;
  /** Undefined for a crc-only stream. */
  readonly md5: Hash | undefined;
  readonly sha256: Hash | undefined;
  readonly checksum: Checksum | undefined;
  shardCrc32: number;
  error: string | undefined;
}

const streams = new Map<number, StreamState>();
const port = parentPort ?? fail('digest-worker.ts runs as a worker thread');

function fail(message: string): never {
  throw new Error(message);
}

function view(r: SharedRange): Buffer {
  return Buffer.from(r.sab, r.offset, r.length);
}

function stream(s: number, open: DigestOpen | null): StreamState | undefined {
  if (open !== null) {
    const digests = open.role !== 'crc';
    streams.set(s, {
      crc: open.role !== 'digests',
      md5: digests ? createHash('md5') : undefined,
      sha256: digests && open.sha256 ? createHash('sha256') : undefined,
      checksum: digests && open.checksum !== null ? createChecksum(open.checksum) : undefined,
      shardCrc32: 0,
      error: undefined,
    });
  }
  return streams.get(s);
}

function update(st: StreamState, r: SharedRange): void {
  const data = view(r);
  if (st.crc) st.shardCrc32 = crc32(data, st.shardCrc32);
  updateDigests(st, data);
}

function updateDigests(st: StreamState, data: Buffer): void {
  st.md5?.update(data);
  st.sha256?.update(data);
  st.checksum?.update(data);
}

function handle(m: DigestRequest): DigestReply | undefined {
  switch (m.t) {
    case 'update': {
      const st = stream(m.s, m.open);
      if (st !== undefined && st.error === undefined) update(st, m.bytes);
      return undefined;
    }
    case 'cut': {
      const st = stream(m.s, m.open);
      if (st === undefined) return { id: m.id, error: `digest stream ${m.s} unknown` };
      if (st.error !== undefined) return { id: m.id, error: st.error };
      // A digests-only stream answers a cut as a barrier: its earlier updates are hashed.
      if (!st.crc) return { id: m.id };
      const value = st.shardCrc32;
      st.shardCrc32 = 0;
      return { id: m.id, crc32: value };
    }
    case 'finish': {
      const st = stream(m.s, m.open);
      streams.delete(m.s);
      if (st === undefined || st.error !== undefined) {
        const error = st?.error ?? `digest stream ${m.s} unknown`;
        if (m.crcId !== null) port.postMessage({ id: m.crcId, error } satisfies DigestReply);
        return { id: m.id, error };
      }
      const last = m.bytes === null ? undefined : view(m.bytes);
      if (st.crc && last !== undefined) st.shardCrc32 = crc32(last, st.shardCrc32);
      if (m.crcId !== null) port.postMessage({ id: m.crcId, crc32: st.shardCrc32 } satisfies DigestReply);
      if (last !== undefined) updateDigests(st, last);
      if (st.md5 === undefined) return { id: m.id, crc32: st.shardCrc32 };
      return {
        id: m.id,
        ...(st.crc ? { crc32: st.shardCrc32 } : {}),
        md5: st.md5.digest(),
        ...(st.sha256 ? { sha256Hex: st.sha256.digest('hex') } : {}),
        ...(st.checksum ? { checksum: st.checksum.digest() } : {}),
      };
    }
    case 'drop':
      streams.delete(m.s);
      return undefined;
    case 'crc':
      return { id: m.id, crc32: crc32(view(m.bytes)) };
    case 'crcMoved':
      return { id: m.id, crc32: crc32(Buffer.from(m.buffer, m.offset, m.length)), buffer: m.buffer };
  }
}

port.on('message', (m: DigestRequest) => {
  let reply: DigestReply | undefined;
  try {
    reply = handle(m);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A finish that failed before its early crc32 answer must not leave that waiter hanging (a
    // second answer to an id is ignored).
    if (m.t === 'finish' && m.crcId !== null) port.postMessage({ id: m.crcId, error: message } satisfies DigestReply);
    if ('id' in m) reply = { id: m.id, error: message };
    else {
      const st = streams.get(m.s);
      if (st) st.error = message;
    }
  }
  // A moved buffer goes back the same way, without a copy.
  if (reply !== undefined) port.postMessage(reply, reply.buffer === undefined ? [] : [reply.buffer]);
});
port.postMessage({ id: 0, ready: true } satisfies DigestReply);
