/**
 * Test harness: a real Strata (real nats-server on a temp dir, real LMDB, real segment files)
 * started in-process, and S3 clients for it in their default configuration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { configFromEnv, type StrataConfig } from '../../src/app/config.ts';
import { startStrata, type Strata } from '../../src/app/strata.ts';
import { freePort } from './ports.ts';

export const testCredentials = { accessKeyId: 'STRATATESTKEY', secretAccessKey: 'strata-test-secret-key-0123456789' };

export interface TestStrata {
  readonly strata: Strata;
  readonly dataDir: string;
  readonly config: StrataConfig;
  client(opts?: { forcePathStyle?: boolean; secretAccessKey?: string; endpoint?: string }): S3Client;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestStrata(overrides: Partial<StrataConfig> = {}): Promise<TestStrata> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'strata-test-'));
  const config = configFromEnv(
    {},
    {
      dataDir,
      port: await freePort(),
      natsPort: await freePort(),
      rootUser: testCredentials.accessKeyId,
      rootPassword: testCredentials.secretAccessKey,
      ...overrides,
    },
  );
  const lines: string[] = [];
  const log = (l: string): void => {
    lines.push(l);
    // A slow or failing shutdown step is always shown: a hung stop is otherwise a bare hook timeout.
    if (process.env['STRATA_TEST_LOG'] || l.startsWith('stop:')) console.error(l);
  };
  let strata = await startStrata(config, { log });
  const h: TestStrata = {
    get strata() {
      return strata;
    },
    dataDir,
    config,
    client(opts = {}) {
      return new S3Client({
        endpoint: opts.endpoint ?? strata.endpoint,
        region: 'us-east-1',
        forcePathStyle: opts.forcePathStyle ?? true,
        credentials: { accessKeyId: testCredentials.accessKeyId, secretAccessKey: opts.secretAccessKey ?? testCredentials.secretAccessKey },
      });
    },
    async restart() {
      await strata.stop();
      strata = await startStrata(config, { log });
    },
    async stop() {
      await strata.stop();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
