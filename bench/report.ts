/**
 * The report: each section's cells and figures, then Strata's object cells as fractions of their
 * ceilings, the issue's targets with a verdict, and the data for the BENCH_JSON line.
 *
 * Ceilings, per cell (same op, size and concurrency):
 *   The loopback cell is the paired one (run right before the Strata cell, same load) when the
 *   run has it, else the one of the loopback section.
 *   GET: the loopback GET cell.
 *   PUT: min(loopback PUT cell, fsync'd sequential disk bandwidth, MD5 speed), in MiB/s; for
 *        4 KiB objects this is in practice the loopback cell.
 * Targets (from the issue), at each concurrency:
 *   1 MiB GET ≥ 50% of the loopback GET ceiling;
 *   1 MiB PUT ≥ 40% of min(loopback PUT ceiling, fsync'd disk bandwidth)  (MD5 not included).
 */
import { num, pct, renderTable } from './lib/format.ts';
import { sizeLabel } from './lib/pattern.ts';
import type { CellResult, HttpOp, SectionResult } from './types.ts';

const mib = 1024 * 1024;

export interface Comparison {
  readonly cellId: string;
  readonly op: HttpOp;
  readonly sizeBytes: number;
  readonly concurrency: number;
  readonly opsPerSec: number;
  readonly mibPerSec: number;
  readonly ceilingMiBps: number | null;
  readonly ceilingOpsPerSec: number | null;
  readonly ceilingBy: string | null;
  readonly ratio: number | null;
  readonly errors: number;
}

export interface TargetCheck {
  readonly concurrency: number;
  readonly mibPerSec: number | null;
  readonly ceilingMiBps: number | null;
  readonly ratio: number | null;
  readonly met: boolean | null;
}

export interface TargetVerdict {
  readonly id: string;
  readonly text: string;
  readonly threshold: number;
  readonly checks: readonly TargetCheck[];
  /** null when a figure it needs was not measured in this run. */
  readonly met: boolean | null;
}

function allCells(results: readonly SectionResult[]): CellResult[] {
  return results.flatMap((r) => [...r.cells]);
}

function figure(results: readonly SectionResult[], id: string): number | undefined {
  for (const r of results) for (const f of r.figures) if (f.id === id) return f.value;
  return undefined;
}

function findCell(cells: readonly CellResult[], target: string, op: HttpOp, size: number, concurrency: number): CellResult | undefined {
  return cells.find((c) => c.target === target && c.op === op && c.sizeBytes === size && c.concurrency === concurrency);
}

/** Name of the section holding the loopback cells run right before each Strata cell (main.ts). */
export const pairedSectionName = 'loopback-paired';

/** The bounds a cell is compared with, named, in MiB/s (undefined ones left out). */
function bounds(results: readonly SectionResult[], cell: CellResult, withMd5: boolean): { name: string; mibPerSec: number }[] {
  const out: { name: string; mibPerSec: number }[] = [];
  const paired = results.find((r) => r.name === pairedSectionName)?.cells ?? [];
  const pairedLb = findCell(paired, 'loopback', cell.op, cell.sizeBytes, cell.concurrency);
  const usable = (c: CellResult | undefined): c is CellResult => c !== undefined && c.errors === 0 && c.ops > 0;
  const lb = usable(pairedLb) ? pairedLb : findCell(allCells(results.filter((r) => r.name !== pairedSectionName)), 'loopback', cell.op, cell.sizeBytes, cell.concurrency);
  if (usable(lb)) out.push({ name: `loopback ${cell.op}${lb === pairedLb ? ' (paired)' : ''}`, mibPerSec: lb.mibPerSec });
  if (cell.op === 'PUT') {
    const disk = figure(results, 'disk.seq_fdatasync_mibps');
    if (disk !== undefined) out.push({ name: 'fsync disk', mibPerSec: disk });
    const md5 = withMd5 ? figure(results, 'md5.mibps') : undefined;
    if (md5 !== undefined) out.push({ name: 'md5', mibPerSec: md5 });
  }
  return out;
}

/** Every bound must be present for a ceiling: a partial minimum would overstate the ratio. */
function ceiling(results: readonly SectionResult[], cell: CellResult, withMd5: boolean): { name: string; mibPerSec: number } | undefined {
  const b = bounds(results, cell, withMd5);
  const needed = cell.op === 'PUT' ? (withMd5 ? 3 : 2) : 1;
  if (b.length < needed) return undefined;
  return b.reduce((lo, x) => (x.mibPerSec < lo.mibPerSec ? x : lo));
}

export function compare(results: readonly SectionResult[]): Comparison[] {
  return allCells(results)
    .filter((c) => c.target === 'strata')
    .map((c) => {
      const ceil = ceiling(results, c, true);
      return {
        cellId: c.id,
        op: c.op,
        sizeBytes: c.sizeBytes,
        concurrency: c.concurrency,
        opsPerSec: c.opsPerSec,
        mibPerSec: c.mibPerSec,
        ceilingMiBps: ceil?.mibPerSec ?? null,
        ceilingOpsPerSec: ceil ? (ceil.mibPerSec * mib) / c.sizeBytes : null,
        ceilingBy: ceil?.name ?? null,
        ratio: ceil && ceil.mibPerSec > 0 ? c.mibPerSec / ceil.mibPerSec : null,
        errors: c.errors,
      };
    });
}

function verdict(results: readonly SectionResult[], op: HttpOp, threshold: number, id: string, text: string, concurrencies: readonly number[]): TargetVerdict {
  const cells = allCells(results);
  const checks = concurrencies.map((concurrency): TargetCheck => {
    const cell = findCell(cells, 'strata', op, mib, concurrency);
    const ceil = cell ? ceiling(results, cell, false) : undefined;
    if (!cell || !ceil) return { concurrency, mibPerSec: cell?.mibPerSec ?? null, ceilingMiBps: null, ratio: null, met: null };
    const ratio = ceil.mibPerSec > 0 ? cell.mibPerSec / ceil.mibPerSec : 0;
    return { concurrency, mibPerSec: cell.mibPerSec, ceilingMiBps: ceil.mibPerSec, ratio, met: cell.errors === 0 && ratio >= threshold };
  });
  const met = checks.some((c) => c.met === null) ? null : checks.every((c) => c.met === true);
  return { id, text, threshold, checks, met };
}

export function targets(results: readonly SectionResult[], concurrencies: readonly number[]): TargetVerdict[] {
  return [
    verdict(results, 'GET', 0.5, 'get_1mib_vs_loopback', '1 MiB GET ≥ 50% of the loopback GET ceiling', concurrencies),
    verdict(results, 'PUT', 0.4, 'put_1mib_vs_loopback_and_disk', "1 MiB PUT ≥ 40% of min(loopback PUT ceiling, fsync'd disk bandwidth)", concurrencies),
  ];
}

export function renderSection(r: SectionResult): string {
  const out: string[] = [`== ${r.title} ==`];
  if (r.cells.length > 0) {
    const rows = r.cells.map((c) => [
      c.op,
      sizeLabel(c.sizeBytes),
      `c${c.concurrency}`,
      String(c.ops),
      num(c.opsPerSec),
      num(c.mibPerSec),
      num(c.p50Ms),
      num(c.p99Ms),
      num(c.maxMs),
      `${c.cpu.clientPct.toFixed(0)}/${c.cpu.serverPct.toFixed(0)}${c.target === 'strata' ? `/${c.cpu.childrenPct.toFixed(0)}` : ''}`,
      num(c.serverCpuMsPerOp),
      c.cpu.otherPct.toFixed(0),
      c.op === 'GET' ? String(c.verifiedBodies) : '-',
      String(c.errors),
    ]);
    const cpuHeader = r.cells.some((c) => c.target === 'strata') ? 'cpu% cli/srv/nats' : 'cpu% cli/srv';
    out.push(
      renderTable(
        ['op', 'size', 'conc', 'ops', 'ops/s', 'MiB/s', 'p50 ms', 'p99 ms', 'max ms', cpuHeader, 'srv cpu ms/op', 'other%', 'verified', 'errors'],
        rows,
        [false, true, true, true, true, true, true, true, true, true, true, true, true, true],
      ),
    );
    for (const c of r.cells) if (c.firstError !== null) out.push(`  ${c.id}: first error: ${c.firstError}`);
  }
  if (r.figures.length > 0) {
    const w = Math.max(...r.figures.map((f) => f.label.length));
    for (const f of r.figures) out.push(`${f.label.padEnd(w)}  ${num(f.value).padStart(8)} ${f.unit}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

export function renderComparison(rows: readonly Comparison[]): string {
  const body = rows.map((c) => [
    c.op,
    sizeLabel(c.sizeBytes),
    `c${c.concurrency}`,
    num(c.opsPerSec),
    num(c.mibPerSec),
    c.ceilingOpsPerSec === null ? '-' : num(c.ceilingOpsPerSec),
    c.ceilingMiBps === null ? '-' : num(c.ceilingMiBps),
    c.ceilingBy ?? 'not measured',
    c.ratio === null ? '-' : pct(c.ratio),
    c.errors > 0 ? `${c.errors} errors` : '',
  ]);
  return [
    '== Strata vs ceilings (ratio = Strata / ceiling) ==',
    renderTable(['op', 'size', 'conc', 'ops/s', 'MiB/s', 'ceil ops/s', 'ceil MiB/s', 'bound by', 'ratio', ''], body, [
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      true,
      false,
    ]),
    "ceilings: GET = loopback GET; PUT = min(loopback PUT, fsync'd sequential disk, MD5), same size and concurrency; '(paired)': the loopback cell run right before the Strata cell",
  ].join('\n');
}

export function renderTargets(verdicts: readonly TargetVerdict[]): string {
  const out = ['== Targets (from the issue) =='];
  for (const v of verdicts) {
    const state = v.met === null ? 'NOT MEASURED' : v.met ? 'MET' : 'NOT MET';
    const detail = v.checks
      .map((c) =>
        c.ratio === null || c.ceilingMiBps === null || c.mibPerSec === null
          ? `c${c.concurrency}: -`
          : `c${c.concurrency}: ${pct(c.ratio)} (${num(c.mibPerSec)} of ${num(c.ceilingMiBps)} MiB/s)${c.met ? '' : ' ✗'}`,
      )
      .join(', ');
    out.push(`[${state}] ${v.text}: ${detail}`);
  }
  return out.join('\n');
}
