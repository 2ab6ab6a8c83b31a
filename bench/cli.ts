/** Command line: `npm run bench -- [--quick] [--only put,get] [--profile DIR] [--keep]`. */
import { parseArgs } from 'node:util';
import type { BenchOptions } from './types.ts';

export const usage = `usage: npm run bench -- [options]
  --quick          shorter cells and probes (about a third of the time)
  --only a,b       run only these sections (and the ceilings they are compared with):
                   md5, disk, loopback, put, get
  --profile DIR    write a V8 CPU profile (.cpuprofile) of the Strata server process into DIR
  --keep           keep the temp data dir after the run
  --help`;

const mib = 1024 * 1024;

/** A bad command line: main prints the message and the usage, without a stack. */
export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const quick = values.quick;
  const only =
    values.only === undefined
      ? undefined
      : new Set(
          values.only
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter((s) => s !== ''),
        );
  return {
    quick,
    only,
    profileDir: values.profile,
    keep: values.keep,
    strataCell: quick ? { warmupMs: 300, durationMs: 1500 } : { warmupMs: 750, durationMs: 4000 },
    loopbackCell: quick ? { warmupMs: 200, durationMs: 1000 } : { warmupMs: 500, durationMs: 2500 },
    diskSmallSyncMs: quick ? 1000 : 3000,
    diskSeqBytes: (quick ? 64 : 256) * mib,
    md5Ms: quick ? 300 : 1000,
  };
}

// The return type is left to inference: parseArgs derives the option value types from the config.
function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}
