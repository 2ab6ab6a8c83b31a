/**
 * One load cell: `concurrency` workers, each awaiting one operation at a time, first for the
 * warm-up (not recorded), then for the measured phase, which ends at `maxOps` operations or
 * `durationMs`, whichever comes first. Throughput is completed operations over the wall time from
 * the start of the phase until the last in-flight operation finished. A cell stops early after
 * `errorsMax` failures, so a broken server cannot make a fast-failing loop look like throughput.
 */
import { performance } from 'node:perf_hooks';
import type { CellResult, CellTarget, CellTiming, HttpOp } from '../types.ts';
import { startCpuProbe } from './cpu.ts';
import { sizeSlug } from './pattern.ts';

/** What one operation did: bytes of object data moved and whether its body was verified. */
export interface OpOutcome {
  readonly bytes: number;
  readonly verified: boolean;
}

/** `seq` is unique across the warm-up and measured phases of a cell. */
export type Operation = (seq: number) => Promise<OpOutcome>;

export interface CellSpec {
  readonly target: CellTarget;
  readonly op: HttpOp;
  readonly sizeBytes: number;
  readonly concurrency: number;
  readonly timing: CellTiming;
  readonly maxOps: number;
  /** Process whose CPU is reported as the server's (its children too). */
  readonly serverPid: number | undefined;
}

const errorsMax = 10;
const mib = 1024 * 1024;

export function cellId(target: CellTarget, op: HttpOp, sizeBytes: number, concurrency: number): string {
  return `${target}.${op.toLowerCase()}.${sizeSlug(sizeBytes)}.c${concurrency}`;
}

export async function runCell(spec: CellSpec, operation: Operation): Promise<CellResult> {
  let seq = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latenciesMs = new Float64Array(spec.maxOps);
  let recorded = 0;
  let bytes = 0;
  let verifiedBodies = 0;

  const phase = async (durationMs: number, maxOps: number, record: boolean): Promise<number> => {
    let issued = 0;
    const start = performance.now();
    const deadline = start + durationMs;
    const worker = async (): Promise<void> => {
      while (issued < maxOps && errors < errorsMax && performance.now() < deadline) {
        issued++;
        const t0 = performance.now();
        try {
          const out = await operation(seq++);
          if (record) {
            latenciesMs[recorded++] = performance.now() - t0;
            bytes += out.bytes;
            if (out.verified) verifiedBodies++;
          }
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, () => worker()));
    return performance.now() - start;
  };

  if (spec.timing.warmupMs > 0) await phase(spec.timing.warmupMs, Number.MAX_SAFE_INTEGER, false);
  const probe = startCpuProbe(spec.serverPid);
  const elapsedMs = errors < errorsMax ? await phase(spec.timing.durationMs, spec.maxOps, true) : 0;
  const cpu = probe.stop();

  const sorted = latenciesMs.subarray(0, recorded).sort();
  const seconds = elapsedMs / 1000;
  return {
    id: cellId(spec.target, spec.op, spec.sizeBytes, spec.concurrency),
    target: spec.target,
    op: spec.op,
    sizeBytes: spec.sizeBytes,
    concurrency: spec.concurrency,
    ops: recorded,
    errors,
    firstError,
    elapsedMs,
    opsPerSec: seconds > 0 ? recorded / seconds : 0,
    mibPerSec: seconds > 0 ? bytes / mib / seconds : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: recorded > 0 ? (sorted[recorded - 1] ?? 0) : 0,
    verifiedBodies,
    cpu,
    serverCpuMsPerOp: recorded > 0 ? ((cpu.serverPct + cpu.childrenPct) / 100) * (elapsedMs / recorded) : 0,
  };
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? 0;
}
