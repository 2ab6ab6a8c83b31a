/**
 * `npm run bench`: starts the embedded Strata on a temp data dir and measures PutObject and
 * GetObject (4 KiB and 1 MiB, concurrency 1 and 16) next to the ceilings of this machine — the
 * loopback HTTP path, fsync'd disk writes on the same filesystem, MD5 speed — then prints each
 * section, Strata as a fraction of its ceilings, the targets, and one `BENCH_JSON ` line
 * holding every figure. Progress goes to stderr, the report to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crcImplementation } from '../src/lib/checksums.ts';
import { parseOptions, usage, UsageError } from './cli.ts';
import { concurrencies } from './lib/object-ops.ts';
import { startBenchStrata } from './lib/strata-server.ts';
import { compare, renderComparison, renderSection, renderTargets, targets } from './report.ts';
import { filesystemName } from './sections/disk.ts';
import { sections } from './sections/index.ts';
import { runLoopbackCell, startLoopbackServer } from './sections/loopback.ts';
import { pairedSectionName } from './report.ts';
import type { BenchContext, BenchOptions, CellResult, RunningServer, SectionResult, StrataServer } from './types.ts';

/** A cell during which other processes used more CPU than this (% of one core) is flagged as noisy. */
const noisyOtherPct = 25;

/** The selected sections plus, transitively, the ceilings they are compared with. */
function selectSections(options: BenchOptions): Set<string> {
  const known = new Set(sections.map((s) => s.name));
  if (options.only === undefined) return known;
  const unknown = [...options.only].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new UsageError(`unknown section(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  const selected = new Set<string>();
  const add = (name: string): void => {
    if (selected.has(name)) return;
    selected.add(name);
    for (const c of sections.find((s) => s.name === name)?.ceilings ?? []) add(c);
  };
  for (const n of options.only) add(n);
  return selected;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  const options = parsed;
  const selected = selectSections(options);
  const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  // Under os.tmpdir(): the data dir and the disk probes share one filesystem, so the disk
  // ceiling is measured where Strata writes.
  const workDir = await mkdtemp(join(tmpdir(), 'strata-bench-'));
  let strata: Promise<StrataServer> | undefined;
  let pairedServer: Promise<RunningServer> | undefined;
  const pairedCells: CellResult[] = [];
  const results: SectionResult[] = [];
  const ctx: BenchContext = {
    results,
    options,
    workDir,
    selected,
    strata: () => {
      strata ??= startBenchStrata(workDir, options.profileDir).then((s) => {
        progress(`strata: serving ${s.endpoint} (pid ${s.pid}), data in ${s.dataDir}`);
        return s;
      });
      return strata;
    },
    progress,
    pairedCeiling: async (op, sizeBytes, concurrency) => {
      if (!selected.has('loopback')) return;
      pairedServer ??= startLoopbackServer();
      const cell = await runLoopbackCell(await pairedServer, op, sizeBytes, concurrency, options.loopbackCell);
      pairedCells.push({ ...cell, id: cell.id.replace(/^loopback\./, 'loopback-paired.') });
      progress(`loopback (paired) ${op} ${sizeBytes} B c${concurrency}: ${cell.opsPerSec.toFixed(0)} ops/s, ${cell.mibPerSec.toFixed(1)} MiB/s`);
    },
  };
  const stopStrata = async (): Promise<void> => {
    const s = strata;
    strata = undefined;
    if (s) await s.then((x) => x.stop()).catch((err: unknown) => progress(`strata stop: ${String(err)}`));
  };
  const stopAll = async (): Promise<void> => {
    await stopStrata();
    const lb = pairedServer;
    pairedServer = undefined;
    if (lb) await lb.then((x) => x.stop()).catch((err: unknown) => progress(`loopback stop: ${String(err)}`));
    if (!options.keep) await rm(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void stopAll().finally(() => process.exit(130));
  });

  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const t0 = performance.now();
  const failures: { section: string; error: string }[] = [];
  try {
    for (const section of sections) {
      if (!selected.has(section.name)) continue;
      if (section.isolated && strata !== undefined) {
        progress(`section ${section.name} runs alone: stopping the shared Strata server`);
        await stopStrata();
      }
      progress(`section ${section.name}: ${section.title}`);
      try {
        results.push(await section.run(ctx));
      } catch (err) {
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        failures.push({ section: section.name, error });
        progress(`section ${section.name} FAILED: ${error}`);
      }
    }
  } finally {
    await stopAll();
  }
  const durationMs = performance.now() - t0;
  if (pairedCells.length > 0) {
    results.push({
      name: pairedSectionName,
      title: 'Ceiling: loopback HTTP again, each cell run right before its Strata cell (the ratios use these)',
      cells: pairedCells,
      figures: [],
      notes: ['measured next to the Strata cell, so both saw about the same load from other processes'],
    });
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tmpDir: tmpdir(),
    tmpFilesystem: await filesystemName(tmpdir()),
    crc: crcImplementation,
    loadAverage1m: loadAtStart,
  };
  const comparison = compare(results);
  const verdicts = targets(results, concurrencies);

  const out: string[] = [
    `Strata bench${options.quick ? ' (quick)' : ''} — ${startedAt.toISOString()}`,
    `machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, data dir on ${machine.tmpDir} (${machine.tmpFilesystem}), CRC32 code ${machine.crc}`,
    `cells: Strata ${options.strataCell.warmupMs} ms warm-up + ${options.strataCell.durationMs} ms; loopback ${options.loopbackCell.warmupMs} + ${options.loopbackCell.durationMs} ms (or the count bound)`,
    'client: one keep-alive HTTP/1.1 connection per worker, reused read buffer (bench/lib/http-client.ts), SigV4 header auth, UNSIGNED-PAYLOAD; each server in its own process',
    'cpu%: of one core (200 = this whole 2-core machine); srv cpu ms/op: server (+ nats-server) CPU per operation; other%: CPU used by other processes meanwhile (noise)',
    `load average at start: ${machine.loadAverage1m.toFixed(2)}${machine.loadAverage1m > 0.5 ? ' — the machine was not idle, expect noisy figures' : ''}`,
    '',
  ];
  for (const r of results) out.push(renderSection(r), '');
  if (comparison.length > 0) out.push(renderComparison(comparison), '');
  if (selected.has('put') || selected.has('get')) out.push(renderTargets(verdicts.filter((v) => selected.has(v.id.startsWith('get') ? 'get' : 'put'))), '');
  const cells = results.flatMap((r) => [...r.cells]);
  const noisy = cells.filter((c) => c.cpu.otherPct > noisyOtherPct);
  if (noisy.length > 0) {
    out.push(
      `noise: ${noisy.length} of ${cells.length} cells ran while other processes used more than ${noisyOtherPct}% of a core (other% column): ${noisy.map((c) => c.id).join(', ')}. Rerun on an idle machine for stable figures.`,
      '',
    );
  }
  for (const f of failures) out.push(`SECTION ${f.section} FAILED: ${f.error}`, '');
  out.push(`total ${(durationMs / 1000).toFixed(1)} s`);
  console.log(out.join('\n'));
  const json = {
    version: 1,
    startedAt: startedAt.toISOString(),
    durationMs,
    quick: options.quick,
    sections: [...selected],
    machine,
    options: { strataCell: options.strataCell, loopbackCell: options.loopbackCell, diskSeqBytes: options.diskSeqBytes, diskSmallSyncMs: options.diskSmallSyncMs },
    results,
    comparison,
    targets: verdicts,
    failures,
  };
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
