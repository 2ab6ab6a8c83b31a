/**
 * Assembles a Strata process: the log (embedded nats-server or NATS_URL), the embedded storage
 * node, the read-model projector and the S3 gateway. `stop()` takes them down in reverse order.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Engine } from '../gateway/engine.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { crcImplementation } from '../lib/checksums.ts';
import { DigestPool } from '../lib/digest-pool.ts';
import { limits } from '../lib/limits.ts';
import { startEmbeddedNats, type EmbeddedNats } from '../log/nats-server.ts';
import { EventLog } from '../log/publisher.ts';
import { StreamFileSync } from '../log/stream-file-sync.ts';
import { streamName } from '../events/subjects.ts';
import { ensureStream } from '../log/stream.ts';
import { Projector } from '../projections/projector.ts';
import { ReadModelStore } from '../model/store.ts';
import { createS3Server } from '../s3/server.ts';
import { hostNode, type HostedNode, type NodeTuning } from '../storage/node-host.ts';
import { LocalShardStore, maxShardBytes } from '../storage/shard-store.ts';
import type { StrataConfig } from './config.ts';
import { loadRootCredentials, type RootCredentials } from './credentials.ts';
import { serveAdmin } from './admin.ts';
import { rebuildAndSwap, type LiveModel, type RebuildSummary } from './rebuild.ts';
import { currentModelDir } from './model-dir.ts';
import type { RebuildProgress } from '../projections/rebuild.ts';
import type { ProjectionName } from '../model/store.ts';
import { nodeTuningFromEnv } from './node-tuning.ts';
import { ReplicatedPlacement, staticNodes, type NodeSource } from './placement.ts';
import { NodeDirectory } from '../storage/registry.ts';

export interface Strata {
  readonly endpoint: string;
  readonly natsUrl: string;
  readonly credentials: RootCredentials;
  readonly nats: EmbeddedNats | undefined;
  readonly store: ReadModelStore;
  readonly projector: Projector;
  /** The gateway's engine (what the S3 handlers call). */
  readonly engine: Engine;
  /** Rebuilds the read model from the log and swaps it in without stopping. */
  rebuild(o?: { projection?: ProjectionName; onProgress?: (p: RebuildProgress) => void }): Promise<RebuildSummary>;
  /** The embedded storage node, when this process hosts one. */
  readonly node: HostedNode | undefined;
  readonly placement: ReplicatedPlacement;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** Run the S3 gateway (false for a process that only hosts a storage node). */
  readonly gateway?: boolean;
  /** Storage node settings (default: from the environment, src/app/node-tuning.ts). */
  readonly nodeTuning?: NodeTuning;
  /** Host a storage node in this process (default: when no remote nodes are configured). */
  readonly embeddedNode?: boolean;
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  // noAsyncTraces: otherwise every request (each publish's PubAck, each shard request) builds an
  // Error up front to capture a stack, which profiled at ~20% of CPU under publish load.
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true });
}

export async function startStrata(config: StrataConfig, opts: StartOptions = {}): Promise<Strata> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const clock = opts.clock ?? systemClock;
  const stops: { readonly name: string; readonly stop: () => Promise<void> }[] = [];
  const onStop = (name: string, stop: () => Promise<void>): void => {
    stops.push({ name, stop });
  };
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) {
      const started = Date.now();
      // A step that hangs would hang the whole shutdown silently: say which one is slow.
      const slow = setInterval(() => log(`stop: ${s.name} still stopping after ${Math.round((Date.now() - started) / 1000)} s`), limits.stopStepReportMs);
      try {
        await s.stop();
      } catch (err) {
        log(`stop: ${s.name}: ${String(err)}`);
      } finally {
        clearInterval(slow);
      }
    }
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
      onStop('nats-server', () => n.stop());
    }
    const nc = await connectNats(natsUrl, `strata-${config.gatewayId}`);
    onStop('nats connection', async () => {
      await nc.drain();
    });
    await ensureStream(nc, { replicas: config.streamReplicas, duplicateWindowMs: 2 * 60 * 1000, maxMsgBytes: 1024 * 1024 });

    // The embedded nats-server (one replica, files under our data dir) does not fsync what it
    // acknowledges; publishers (the gateway's and the embedded node's) then wait for an fdatasync
    // of the stream's files. Made before the node, so it is closed after the node stops.
    const fileSync = nats !== undefined && config.streamReplicas === 1 && config.logFsync ? await StreamFileSync.open(join(config.dataDir, 'nats'), streamName) : undefined;
    if (fileSync !== undefined) {
      onStop('event log file sync', () => fileSync.close());
    } else if (nats !== undefined && config.streamReplicas === 1) {
      log('event log: STRATA_LOG_FSYNC=off: acknowledged events reach the disk within nats-server\'s sync interval (2 minutes); a power cut can lose them');
    }

    // PUT bodies are hashed on these threads (MD5, SHA-256, checksums), and the embedded node reads
    // large records into the pool's reused buffers. Stopped after the node.
    const digests = await DigestPool.start();
    onStop('digest workers', () => digests.stop());
    if (crcImplementation === 'portable') log('checksums: the native CRC code (@node-rs/crc32) did not load here; CRC32 runs in zlib, about 5x slower');

    let local: LocalShardStore | undefined;
    let hosted: HostedNode | undefined;
    if (opts.embeddedNode ?? config.remoteNodes.length === 0) {
      const h = await hostNode(nc, {
        nodeId: config.nodeId,
        dataDir: join(config.dataDir, 'nodes', config.nodeId),
        log,
        readBuffers: digests,
        ...(fileSync === undefined ? {} : { eventFileSync: fileSync }),
        ...(opts.nodeTuning ?? nodeTuningFromEnv(process.env)),
        ...(config.segmentBytesMax === undefined ? {} : { segmentBytesMax: config.segmentBytesMax }),
      });
      hosted = h;
      onStop('storage node', () => h.stop());
      local = new LocalShardStore(h.node);
    }
    let source: NodeSource;
    if (config.remoteNodes.length > 0) {
      source = staticNodes(config.remoteNodes);
    } else {
      // Discovery: the nodes announcing themselves in the registry (the embedded one included).
      const directory = await NodeDirectory.open(nc, clock);
      onStop('node directory', () => directory.stop());
      source = directory;
    }
    const placement = new ReplicatedPlacement(nc, local, source, maxShardBytes(nc), clock);

    const gatewayDir = join(config.dataDir, 'gateways', config.gatewayId);
    const store = ReadModelStore.open(await currentModelDir(gatewayDir));
    if (store.discardedAfterMachineRestart) log(`gateway ${config.gatewayId}: the read model was open when the machine went down; replaying it from the log`);
    // The live model can be replaced by a rebuild (strata replay --rebuild): stop whichever is live.
    const live: LiveModel = { store, projector: new Projector(nc, store, `projector-${config.gatewayId}`) };
    onStop('read model', () => live.store.close());
    await live.projector.start();
    onStop('projector', () => live.projector.stop());
    const projector = live.projector;

    const eventLog = await EventLog.open(nc, fileSync === undefined ? {} : { fileSync });
    onStop('event log', async () => eventLog.close());
    const engine = new Engine({ log: eventLog, projector, store, placement, clock, region: config.region, readFence: config.readFence, digests });
    const server = createS3Server({
      engine,
      lookupSecret: (ak) => (ak === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
      clock,
      config: { region: config.region, baseDomains: config.baseDomains, ownerId: credentials.accessKeyId, ownerName: credentials.accessKeyId },
      log,
    });
    server.listen(config.port, config.host);
    await once(server, 'listening');
    onStop(
      'http server',
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const rebuild = (o: { projection?: ProjectionName; onProgress?: (p: RebuildProgress) => void } = {}): Promise<RebuildSummary> =>
      rebuildAndSwap(nc, live, engine, { gatewayDir, gatewayId: config.gatewayId, ...o });
    const admin = serveAdmin(nc, config.gatewayId, rebuild, log);
    onStop('admin', () => admin.stop());
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    return {
      endpoint: `http://${config.host}:${port}`,
      natsUrl,
      credentials,
      nats,
      get store() {
        return live.store;
      },
      get projector() {
        return live.projector;
      },
      engine,
      rebuild,
      node: hosted,
      placement,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
