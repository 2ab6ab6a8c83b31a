/** `strata server` (the default) and `strata gateway`. */
import { configFromEnv, type StrataConfig } from '../app/config.ts';
import { startStrata } from '../app/strata.ts';
import { flag, stopOnSignals } from './signals.ts';

async function run(config: StrataConfig, opts: { embeddedNode?: boolean } = {}): Promise<void> {
  const s = await startStrata(config, opts);
  stopOnSignals(() => s.stop());
  const lines = [
    `Strata is up.`,
    `  S3 endpoint:   ${s.endpoint}`,
    `  Access key:    ${s.credentials.accessKeyId}`,
    `  Secret key:    ${s.credentials.secretAccessKey}${s.credentials.generated ? '   (generated; kept in ' + config.dataDir + '/credentials.json)' : ''}`,
    `  Region:        ${config.region}`,
    `  NATS:          ${s.natsUrl}${s.nats ? ' (embedded nats-server, pid ' + s.nats.pid + ')' : ''}`,
    `  Data:          ${config.dataDir}`,
    `  Storage:       ${s.node ? 'embedded node ' + config.nodeId + ', ' : ''}${config.remoteNodes.length > 0 ? 'nodes ' + config.remoteNodes.join(', ') : 'nodes from the registry'}; live now: ${s.placement.ranking('').join(', ') || 'none'}; replication factor ${s.placement.replicationFactor()} (STANDARD: 3 once 3 nodes are up)`,
    `Try: AWS_ACCESS_KEY_ID=${s.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.credentials.secretAccessKey} aws --endpoint-url ${s.endpoint} s3 mb s3://my-bucket`,
  ];
  console.log(lines.join('\n'));
}

function overrides(args: string[]): Partial<StrataConfig> {
  const o: { -readonly [K in keyof StrataConfig]?: StrataConfig[K] } = {};
  const data = flag(args, 'data');
  const port = flag(args, 'port');
  if (data) o.dataDir = data;
  if (port) o.port = Number(port);
  return o;
}

export async function runServer(args: string[]): Promise<void> {
  await run(configFromEnv(process.env, overrides(args)));
}

export async function runGateway(args: string[]): Promise<void> {
  const config = configFromEnv(process.env, overrides(args));
  if (!config.natsUrl) {
    console.error('strata gateway needs NATS_URL (and STRATA_NODES, comma-separated storage node ids, unless nodes are discovered from the registry)');
    process.exit(2);
  }
  await run(config, { embeddedNode: false });
}
