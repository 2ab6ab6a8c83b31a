/**
 * Runs the AWS CLI v2 (the Debian package at /usr/bin/aws; an `aws` earlier on PATH may be a v1
 * shim) against a Strata, with credentials in the environment and no user config files read.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testCredentials } from './strata.ts';

export const awsCliPath = '/usr/bin/aws';
const cliTimeoutMs = 60_000;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AwsCli {
  run(args: readonly string[]): Promise<CliResult>;
  /** Runs and throws with the CLI's output unless it exits 0. */
  ok(args: readonly string[]): Promise<string>;
}

export function awsCli(endpoint: string): AwsCli {
  const home = mkdtempSync(join(tmpdir(), 'strata-awscli-'));
  const config = join(home, 'config');
  writeFileSync(config, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: config,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_CLI_AUTO_PROMPT: 'off',
  };
  const run = (args: readonly string[]): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      execFile(
        awsCliPath,
        ['--endpoint-url', endpoint, '--no-cli-pager', ...args],
        { env, timeout: cliTimeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (err && typeof err.code !== 'number') {
            reject(new Error(`aws ${args.join(' ')}: ${err.message}${err.killed ? ' (killed after timeout)' : ''}\n${stderr}`));
            return;
          }
          resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
        },
      );
    });
  return {
    run,
    async ok(args) {
      const r = await run(args);
      if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** `aws --version` of /usr/bin/aws; throws a clear message when it is missing or not v2. */
export async function requireAwsCliV2(): Promise<string> {
  const version = await new Promise<string>((resolve, reject) => {
    execFile(awsCliPath, ['--version'], { timeout: cliTimeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`the AWS CLI v2 is required at ${awsCliPath} (Debian package awscli; CI installs it): ${err.message}`));
        return;
      }
      resolve(`${stdout}${stderr}`.trim());
    });
  });
  if (!version.startsWith('aws-cli/2.')) throw new Error(`${awsCliPath} must be the AWS CLI v2, found: ${version}`);
  return version;
}
