/**
 * Serves a StorageNode over NATS request/reply (protocol in node-protocol.ts).
 *
 * One plain subscription per subject, not a queue group: a node id names one set of files, so two
 * processes serving the same id would be a deployment error that load balancing would only hide.
 *
 * At most `requestsInFlightMax` requests are served at once; a request beyond that is answered
 * `overloaded` straight away rather than queued, so a slow disk turns into fast, explicit
 * back-pressure for the gateway instead of unbounded memory here. stop() drains the subscriptions
 * and waits for the requests in flight; the connection stays the caller's.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { crc32 } from '../lib/checksums.ts';
import { AssertionError } from '../lib/assert.ts';
import { limits } from '../lib/limits.ts';
import { StorageError, type StorageErrorCode } from './errors.ts';
import type { StorageNode } from './node.ts';
import { NodeHeader, errorHeaders, nodeSubjects, okHeaders, parseNonNegativeInt, parseU32 } from './node-protocol.ts';
import { isValidShardId } from './shard-id.ts';

export interface NodeServiceOptions {
  readonly requestsInFlightMax?: number;
  /**
   * Called with a programmer error (a failed assertion, after the request got an `internal`
   * reply) or when a subscription fails. The default rethrows it outside any promise chain,
   * which crashes the process (STYLE.md: programmer errors crash, errors are not logged and
   * ignored).
   */
  readonly onFatal?: (err: unknown) => void;
  /** Serves `repair` requests (re-replication, repair.ts); answered `bad-request` when absent. */
  readonly repair?: (request: { lostNodeId?: string }) => Promise<unknown>;
}

export interface NodeService {
  readonly nodeId: string;
  /** Requests being served right now. */
  inFlight(): number;
  /** Stops taking requests, finishes those in flight. */
  stop(): Promise<void>;
}

type Kind = 'put' | 'read' | 'info' | 'compact' | 'repair';

export async function startNodeService(nc: NatsConnection, node: StorageNode, opts: NodeServiceOptions = {}): Promise<NodeService> {
  const max = opts.requestsInFlightMax ?? limits.nodeRequestsInFlightMax;
  const onFatal =
    opts.onFatal ??
    ((err: unknown) =>
      setImmediate(() => {
        throw err;
      }));
  const tasks = new Set<Promise<void>>();
  const subjects = nodeSubjects(node.nodeId);

  const dispatch = (kind: Kind, err: Error | null, msg: Msg): void => {
    if (err !== null) {
      // The subscription is closed (a permissions error, say): this node no longer serves.
      onFatal(err);
      return;
    }
    if (!msg.reply) return; // a message without a reply subject wants no answer
    if (tasks.size >= max) {
      msg.respond(undefined, { headers: errorHeaders('overloaded', `more than ${max} requests in flight`) });
      return;
    }
    const task: Promise<void> = serve(nc, node, kind, msg, opts).catch((e: unknown) => {
      const code: StorageErrorCode = e instanceof StorageError ? e.code : 'internal';
      try {
        msg.respond(undefined, { headers: errorHeaders(code, e instanceof Error ? e.message : String(e)) });
      } catch {
        // The connection is closed or draining: the requester times out, which it must handle anyway.
      }
      if (e instanceof AssertionError) onFatal(e);
    });
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
  };

  const subs: Subscription[] = (['put', 'read', 'info', 'compact', 'repair'] as const).map((kind) =>
    nc.subscribe(subjects[kind], { callback: (err, msg) => dispatch(kind, err, msg) }),
  );
  // Make sure the server has the subscriptions before callers are told the node is up.
  await nc.flush();

  let stopping: Promise<void> | undefined;
  return {
    nodeId: node.nodeId,
    inFlight: () => tasks.size,
    stop() {
      stopping ??= (async () => {
        await Promise.all(subs.map((s) => (s.isClosed() ? Promise.resolve() : s.drain())));
        await Promise.all(tasks);
      })();
      return stopping;
    },
  };
}

async function serve(nc: NatsConnection, node: StorageNode, kind: Kind, msg: Msg, opts: NodeServiceOptions): Promise<void> {
  switch (kind) {
    case 'compact': {
      const req = parseJson(msg.data) as { deadRatioMin?: unknown };
      const subject = nodeSubjects(node.nodeId).compactProgress;
      const summary = await node.compact({
        ...(typeof req.deadRatioMin === 'number' ? { deadRatioMin: req.deadRatioMin } : {}),
        onProgress: (p) => nc.publish(subject, JSON.stringify(p)),
      });
      msg.respond(JSON.stringify(summary), { headers: okHeaders({}) });
      return;
    }
    case 'repair': {
      if (opts.repair === undefined) {
        msg.respond(undefined, { headers: errorHeaders('bad-request', 'this node does not repair') });
        return;
      }
      const req = parseJson(msg.data) as { lostNodeId?: unknown };
      const summary = await opts.repair(typeof req.lostNodeId === 'string' ? { lostNodeId: req.lostNodeId } : {});
      msg.respond(JSON.stringify(summary), { headers: okHeaders({}) });
      return;
    }
    case 'put':
      return servePut(node, msg);
    case 'read':
      return serveRead(node, msg);
    case 'info':
      msg.respond(JSON.stringify(node.stats()), { headers: okHeaders({}) });
      return;
  }
}

function parseJson(data: Uint8Array): object {
  if (data.length === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    return v !== null && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

async function servePut(node: StorageNode, msg: Msg): Promise<void> {
  const shardId = msg.headers?.get(NodeHeader.shardId) ?? '';
  const sum = parseU32(msg.headers?.get(NodeHeader.crc32));
  const sync = msg.headers?.get(NodeHeader.sync);
  if (!isValidShardId(shardId) || sum === undefined || (sync !== '1' && sync !== '0')) {
    msg.respond(undefined, { headers: errorHeaders('bad-request', 'put needs a shard id, a crc32 and a sync flag') });
    return;
  }
  if (msg.data.length > limits.shardBytesMax) {
    msg.respond(undefined, { headers: errorHeaders('too-large', `shard of ${msg.data.length} bytes exceeds ${limits.shardBytesMax}`) });
    return;
  }
  if (crc32(msg.data) !== sum) {
    msg.respond(undefined, { headers: errorHeaders('checksum-mismatch', 'payload does not match its crc32') });
    return;
  }
  // A view of the message body, not a copy: it is written to the segment as it is.
  const data = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
  const loc = await node.putShard(shardId, [data], { sync: sync === '1', crc32OfData: sum });
  msg.respond(undefined, { headers: okHeaders({ [NodeHeader.size]: loc.size, [NodeHeader.crc32]: loc.crc32 }) });
}

async function serveRead(node: StorageNode, msg: Msg): Promise<void> {
  const shardId = msg.headers?.get(NodeHeader.shardId) ?? '';
  const offset = parseNonNegativeInt(msg.headers?.get(NodeHeader.offset));
  const length = parseNonNegativeInt(msg.headers?.get(NodeHeader.length));
  if (!isValidShardId(shardId) || offset === undefined || length === undefined) {
    msg.respond(undefined, { headers: errorHeaders('bad-request', 'read needs a shard id, an offset and a length') });
    return;
  }
  const result = await node.tryReadShard(shardId, offset, length);
  switch (result.kind) {
    case 'ok':
      msg.respond(result.data, {
        headers: okHeaders({ [NodeHeader.crc32]: result.crc32 ?? crc32(result.data), [NodeHeader.size]: result.data.length }),
      });
      return;
    case 'not-found':
      msg.respond(undefined, { headers: errorHeaders('not-found', `shard ${shardId} not found`) });
      return;
    case 'corrupt':
      msg.respond(undefined, { headers: errorHeaders('corrupt', result.reason) });
      return;
    case 'out-of-range':
      msg.respond(undefined, { headers: errorHeaders('out-of-range', `range ${offset}+${length} outside the shard`, result.size) });
      return;
  }
}
