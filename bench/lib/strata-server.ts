/** Starts the embedded Strata for the bench (bench/servers/strata.ts) and creates its bucket. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { StrataChildSpec } from '../servers/strata.ts';
import type { StrataServer } from '../types.ts';
import { startChildServer } from './child-server.ts';
import { BenchClient, describeFailure } from './http-client.ts';
import { SigV4Signer } from './sigv4.ts';

export const benchBucket = 'bench';

/** Servers started in this run: each gets a data dir of its own (a restart starts afresh). */
let started = 0;

export async function startBenchStrata(workDir: string, profileDir: string | undefined): Promise<StrataServer> {
  started++;
  const spec: StrataChildSpec = {
    dataDir: join(workDir, started === 1 ? 'data' : `data-${started}`),
    accessKeyId: `BENCH${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const server = await startChildServer({
    script: 'servers/strata.ts',
    spec,
    extraExecArgv: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  const client = new BenchClient(server.endpoint, 1, new SigV4Signer({ ...spec, region: 'us-east-1' }));
  try {
    const r = await client.request('PUT', `/${benchBucket}`, undefined, false);
    if (r.status !== 200) throw new Error(`creating the bench bucket: ${describeFailure('PUT', `/${benchBucket}`, r)}`);
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    client.close();
  }
  return { ...server, dataDir: spec.dataDir, accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey, bucket: benchBucket };
}
