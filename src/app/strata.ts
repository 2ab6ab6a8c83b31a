/**
 * Assembles a Strata process: the log (embedded nats-server or NATS_URL), the embedded storage
 * node, the read-model projector and the S3 gateway. `stop()` takes them down in reverse order.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Engine } from '../gateway/engine.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { startEmbeddedNats, type EmbeddedNats } from '../log/nats-server.ts';
import { EventLog } from '../log/publisher.ts';
import { ensureStream } from '../log/stream.ts';
import { Projector } from '../projections/projector.ts';
import { ReadModelStore } from '../model/store.ts';
import { createS3Server } from '../s3/server.ts';
import { hostNode, type HostedNode, type NodeTuning } from '../storage/node-host.ts';
import { LocalShardStore, maxShardBytes } from '../storage/shard-store.ts';
import type { StrataConfig } from './config.ts';
import { loadRootCredentials, type RootCredentials } from './credentials.ts';
import { nodeTuningFromEnv } from './node-tuning.ts';
import { SimplePlacement } from './placement.ts';

export interface Strata {
  readonly endpoint: string;
  readonly natsUrl: string;
  readonly credentials: RootCredentials;
  readonly nats: EmbeddedNats | undefined;
  readonly store: ReadModelStore;
  readonly projector: Projector;
  /** The embedded storage node, when this process hosts one. */
  readonly node: HostedNode | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** Run the S3 gateway (false for a process that only hosts a storage node). */
  readonly gateway?: boolean;
  /** Storage node settings (default: from the environment, src/app/node-tuning.ts). */
  readonly nodeTuning?: NodeTuning;
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
}

export async function startStrata(config: StrataConfig, opts: StartOptions = {}): Promise<Strata> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const clock = opts.clock ?? systemClock;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`stop: ${String(err)}`));
    stops.length = 0;
  };
  try {
    const credentials = await loadRootCredentials(config.dataDir, config.rootUser, config.rootPassword);
    let nats: EmbeddedNats | undefined;
    let natsUrl = config.natsUrl;
    if (!natsUrl) {
      nats = await startEmbeddedNats({
        bin: config.natsServerBin,
        configFile: config.natsConfigFile,
        storeDir: join(config.dataDir, 'nats'),
        host: config.natsHost,
        port: config.natsPort,
        log,
      });
      natsUrl = nats.url;
      const n = nats;
      stops.push(() => n.stop());
    }
    const nc = await connectNats(natsUrl, `strata-${config.gatewayId}`);
    stops.push(async () => {
      await nc.drain();
    });
    await ensureStream(nc, { replicas: config.streamReplicas, duplicateWindowMs: 2 * 60 * 1000, maxMsgBytes: 1024 * 1024 });

    let local: LocalShardStore | undefined;
    let hosted: HostedNode | undefined;
    if (config.remoteNodes.length === 0) {
      const h = await hostNode(nc, {
        nodeId: config.nodeId,
        dataDir: join(config.dataDir, 'nodes', config.nodeId),
        log,
        ...(opts.nodeTuning ?? nodeTuningFromEnv(process.env)),
        ...(config.segmentBytesMax === undefined ? {} : { segmentBytesMax: config.segmentBytesMax }),
      });
      hosted = h;
      stops.push(() => h.stop());
      local = new LocalShardStore(h.node);
    }
    const placement = new SimplePlacement(nc, local, config.remoteNodes, maxShardBytes(nc));

    const store = ReadModelStore.open(join(config.dataDir, 'gateways', config.gatewayId, 'readmodel'));
    stops.push(() => store.close());
    const projector = new Projector(nc, store, `projector-${config.gatewayId}`);
    await projector.start();
    stops.push(() => projector.stop());

    const eventLog = await EventLog.open(nc);
    const engine = new Engine({ log: eventLog, projector, store, placement, clock, region: config.region });
    const server = createS3Server({
      engine,
      lookupSecret: (ak) => (ak === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
      clock,
      config: { region: config.region, baseDomains: config.baseDomains, ownerId: credentials.accessKeyId, ownerName: credentials.accessKeyId },
      log,
    });
    server.listen(config.port, config.host);
    await once(server, 'listening');
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    return {
      endpoint: `http://${config.host}:${port}`,
      natsUrl,
      credentials,
      nats,
      store,
      projector,
      node: hosted,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
