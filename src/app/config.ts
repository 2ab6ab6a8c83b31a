/**
 * Configuration from the environment, with the embedded defaults a newcomer needs: data under
 * ./data, S3 on 127.0.0.1:9000, a nats-server of our own unless NATS_URL names one.
 */
import { resolve } from 'node:path';

export interface StrataConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  /** Domains under which `<bucket>.<domain>` addresses a bucket (virtual-host style). */
  readonly baseDomains: readonly string[];
  /** An external NATS server; when unset, Strata runs its own nats-server. */
  readonly natsUrl: string | undefined;
  readonly natsServerBin: string;
  readonly natsConfigFile: string;
  readonly natsHost: string;
  readonly natsPort: number;
  readonly rootUser: string | undefined;
  readonly rootPassword: string | undefined;
  /** Id of this gateway: names its read model's durable consumer. */
  readonly gatewayId: string;
  /** Id of the embedded storage node. */
  readonly nodeId: string;
  /** Remote storage node ids to write to instead of an embedded node (`strata gateway`). */
  readonly remoteNodes: readonly string[];
  readonly segmentBytesMax: number | undefined;
  readonly streamReplicas: number;
  /** Fence GET/HEAD/LIST on the log so reads through this gateway see writes made through others. */
  readonly readFence: boolean;
  /** Embedded nats-server: fdatasync its stream files before a publish counts (stream-file-sync.ts). */
  readonly logFsync: boolean;
}

const projectRoot = new URL('../../', import.meta.url).pathname;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<StrataConfig> = {}): StrataConfig {
  const num = (name: string, dflt: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const base: StrataConfig = {
    dataDir: resolve(env['STRATA_DATA_DIR'] ?? './data'),
    host: env['STRATA_HOST'] ?? '127.0.0.1',
    port: num('STRATA_PORT', 9000),
    region: env['STRATA_REGION'] ?? 'us-east-1',
    baseDomains: list(env['STRATA_DOMAINS'] ?? 'localhost'),
    natsUrl: env['NATS_URL'] || undefined,
    natsServerBin: env['NATS_SERVER_BIN'] ?? 'nats-server',
    natsConfigFile: env['STRATA_NATS_CONF'] ?? resolve(projectRoot, 'nats.conf'),
    natsHost: env['STRATA_NATS_HOST'] ?? '127.0.0.1',
    natsPort: num('STRATA_NATS_PORT', 4222),
    rootUser: env['STRATA_ROOT_USER'] || undefined,
    rootPassword: env['STRATA_ROOT_PASSWORD'] || undefined,
    gatewayId: env['STRATA_GATEWAY_ID'] ?? 'gw1',
    nodeId: env['STRATA_NODE_ID'] ?? 'node1',
    remoteNodes: list(env['STRATA_NODES']),
    segmentBytesMax: env['STRATA_SEGMENT_BYTES'] ? num('STRATA_SEGMENT_BYTES', 0) : undefined,
    streamReplicas: num('STRATA_STREAM_REPLICAS', 1),
    readFence: (env['STRATA_READ_FENCE'] ?? 'on') !== 'off',
    logFsync: (env['STRATA_LOG_FSYNC'] ?? 'on') !== 'off',
  };
  return { ...base, ...overrides };
}
