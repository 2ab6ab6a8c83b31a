/**
 * Body of a digest worker thread (started by digest-pool.ts through digest-worker-entry.mjs).
 *
 * Messages are handled in the order they were posted, so a stream's updates are always hashed
 * before its cut or finish answers. Only `cut` and `finish` are answered; an `update` that fails
 * (a programmer error) is reported by the stream's next answer.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { createChecksum, type Checksum } from './checksums.ts';
import type { DigestOpen, DigestReply, DigestRequest, SharedRange } from './digest-protocol.ts';

interface StreamState {
  readonly md5: Hash;
  readonly sha256: Hash | undefined;
  readonly checksum: Checksum | undefined;
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
    streams.set(s, {
      md5: createHash('md5'),
      sha256: open.sha256 ? createHash('sha256') : undefined,
      checksum: open.checksum === null ? undefined : createChecksum(open.checksum),
      error: undefined,
    });
  }
  return streams.get(s);
}

function update(st: StreamState, r: SharedRange): void {
  const data = view(r);
  st.md5.update(data);
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
      return { id: m.id };
    }
    case 'finish': {
      const st = stream(m.s, m.open);
      streams.delete(m.s);
      if (st === undefined) return { id: m.id, error: `digest stream ${m.s} unknown` };
      if (st.error !== undefined) return { id: m.id, error: st.error };
      if (m.bytes !== null) update(st, m.bytes);
      return {
        id: m.id,
        md5: st.md5.digest(),
        ...(st.sha256 ? { sha256Hex: st.sha256.digest('hex') } : {}),
        ...(st.checksum ? { checksum: st.checksum.digest() } : {}),
      };
    }
    case 'drop':
      streams.delete(m.s);
      return undefined;
  }
}

port.on('message', (m: DigestRequest) => {
  let reply: DigestReply | undefined;
  try {
    reply = handle(m);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if ('id' in m) reply = { id: m.id, error: message };
    else {
      const st = streams.get(m.s);
      if (st) st.error = message;
    }
  }
  if (reply !== undefined) port.postMessage(reply);
});
port.postMessage({ id: 0, ready: true } satisfies DigestReply);
