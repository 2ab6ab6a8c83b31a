/**
 * The node registry: a JetStream KV bucket `strata-nodes`, one key per storage node id, value a
 * JSON announcement. Each node puts its announcement every limits.nodeHeartbeatMs; the bucket's
 * max age (limits.nodeLivenessTtlMs) makes the server drop a node that stopped heartbeating, and
 * readers also check `heartbeatAtMs` against their clock. A node that stops cleanly deletes its key.
 *
 *   { "v": 1, "nodeId": "n1", "heartbeatAtMs": 0, "startedAtMs": 0,
 *     "capacityBytes": 0, "freeBytes": 0, "shards": 0 }
 */
import { statfs } from 'node:fs/promises';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Clock } from '../lib/clock.ts';
import { limits } from '../lib/limits.ts';

export const registryBucket = 'strata-nodes';
/** The KV bucket's stream and the subject prefix of its keys (JetStream's KV layout). */
const registryStream = `KV_${registryBucket}`;
const registryKeyPrefix = `$KV.${registryBucket}.`;

export interface NodeAnnouncement {
  readonly v: 1;
  readonly nodeId: string;
  readonly heartbeatAtMs: number;
  readonly startedAtMs: number;
  readonly capacityBytes: number;
  readonly freeBytes: number;
  readonly shards: number;
}

export async function openRegistry(nc: NatsConnection): Promise<KV> {
  return new Kvm(nc).create(registryBucket, { history: 1, ttl: limits.nodeLivenessTtlMs });
}

export interface Heartbeat {
  stop(): Promise<void>;
}

/** Announces a node now and every heartbeat until stopped; stop() removes the announcement. */
export async function startHeartbeat(
  nc: NatsConnection,
  o: { nodeId: string; dataDir: string; clock: Clock; shards: () => number; log: (line: string) => void },
): Promise<Heartbeat> {
  const kv = await openRegistry(nc);
  const startedAtMs = o.clock.nowMs();
  const announce = async (): Promise<void> => {
    const fs = await statfs(o.dataDir);
    const a: NodeAnnouncement = {
      v: 1,
      nodeId: o.nodeId,
      heartbeatAtMs: o.clock.nowMs(),
      startedAtMs,
      capacityBytes: fs.blocks * fs.bsize,
      freeBytes: fs.bavail * fs.bsize,
      shards: o.shards(),
    };
    await kv.put(o.nodeId, JSON.stringify(a));
  };
  await announce();
  let stopped = false;
  let beat: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    // A missed heartbeat (NATS briefly away) is reported; the next one retries. Readers see the
    // node as down only after limits.nodeLivenessTtlMs without one, which is the point.
    beat = announce().catch((err: unknown) => o.log(`storage ${o.nodeId}: heartbeat failed: ${String(err)}`));
  }, limits.nodeHeartbeatMs);
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await beat;
      await kv.delete(o.nodeId).catch(() => {});
    },
  };
}

/** Which nodes are live, refreshed from the registry every half heartbeat. */
export class NodeDirectory {
  private nodes = new Map<string, NodeAnnouncement>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private refreshInFlight = false;

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly clock: Clock,
  ) {}

  static async open(nc: NatsConnection, clock: Clock): Promise<NodeDirectory> {
    const d = new NodeDirectory(await openRegistry(nc), await jetstreamManager(nc), clock);
    await d.refresh();
    d.timer = setInterval(() => {
      // One refresh at a time: a slow one (NATS busy or away) must not pile up key listings.
      if (d.refreshInFlight) return;
      d.refreshInFlight = true;
      d.refreshing = d
        .refresh()
        .catch(() => {
          // Keep the last known view while NATS is away; entries age out by their heartbeat time.
        })
        .finally(() => {
          d.refreshInFlight = false;
        });
    }, limits.nodeHeartbeatMs / 2);
    return d;
  }

  /**
   * Reads every announcement. The keys come from one stream-info request (its per-subject
   * counts): the KV client's `keys()` creates and deletes a consumer on the server for each
   * listing, and every gateway and node lists the registry every second.
   */
  async refresh(): Promise<void> {
    const next = new Map<string, NodeAnnouncement>();
    const info = await this.jsm.streams.info(registryStream, { subjects_filter: `${registryKeyPrefix}>` });
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      if (!subject.startsWith(registryKeyPrefix)) continue;
      const key = subject.slice(registryKeyPrefix.length);
      const e = await this.kv.get(key);
      if (e === null || e.operation !== 'PUT' || e.value.length === 0) continue;
      const a = JSON.parse(e.string()) as NodeAnnouncement;
      if (a.v === 1 && a.nodeId === key) next.set(key, a);
    }
    this.nodes = next;
  }

  /** Node ids whose last heartbeat is recent enough, sorted. */
  live(): string[] {
    const now = this.clock.nowMs();
    return [...this.nodes.values()]
      .filter((a) => now - a.heartbeatAtMs < limits.nodeLivenessTtlMs)
      .map((a) => a.nodeId)
      .sort();
  }

  announcement(nodeId: string): NodeAnnouncement | undefined {
    return this.nodes.get(nodeId);
  }

  /**
   * Stops refreshing. A refresh still running is waited for at most
   * limits.nodeDirectoryStopWaitMs: its requests have only their own timeouts, and a shutdown must
   * not hang on one (it ends with an error once the connection closes, and that is ignored).
   */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, limits.nodeDirectoryStopWaitMs);
    });
    await Promise.race([this.refreshing, gaveUp]);
    clearTimeout(timer);
  }
}
