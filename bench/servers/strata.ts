/**
 * The system under test: the embedded Strata (nats-server child, storage node, projector, S3
 * gateway) started with `startStrata` on the bench's temp data dir, in a process of its own.
 */
import { configFromEnv } from '../../src/app/config.ts';
import { startStrata } from '../../src/app/strata.ts';
import { freePort } from '../../test/support/ports.ts';
import { childSpec, reportToParent, serveUntilStopped } from '../lib/child-server.ts';

export interface StrataChildSpec {
  readonly dataDir: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const spec = childSpec<StrataChildSpec>();
try {
  const config = configFromEnv(process.env, {
    dataDir: spec.dataDir,
    host: '127.0.0.1',
    port: 0,
    natsPort: await freePort(),
    rootUser: spec.accessKeyId,
    rootPassword: spec.secretAccessKey,
  });
  const strata = await startStrata(config, { log: (line) => process.stderr.write(`[strata] ${line}\n`) });
  serveUntilStopped(() => strata.stop());
  reportToParent({ type: 'ready', endpoint: strata.endpoint, natsUrl: strata.natsUrl });
} catch (err) {
  reportToParent({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
}
