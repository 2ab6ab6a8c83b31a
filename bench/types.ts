/**
 * The common shapes every bench section shares. A section measures something and returns a
 * `SectionResult`: load cells (a request loop at one size and concurrency) and single figures
 * (a ceiling, a rate). The report prints any section generically, and main.ts prints one JSON line
 * holding every result, so a new section (storage appends, listing at scale, multipart) is a new
 * file under sections/ plus one line in sections/index.ts.
 */

export type HttpOp = 'PUT' | 'GET';

/** What a load cell was run against. */
export type CellTarget = 'strata' | 'loopback';

/** CPU time spent during a measured phase, as % of one core (200 = both cores of this machine). */
export interface CpuShare {
  /** The bench process itself: the HTTP client. */
  readonly clientPct: number;
  /** The server process (Strata's node process, or the bare loopback server). */
  readonly serverPct: number;
  /** The server's child processes (nats-server for Strata). */
  readonly childrenPct: number;
  /**
   * Everything else busy on the machine meanwhile (other processes, kernel softirq work not
   * charged to ours). High values mean the cell shared the cores and its figures are noisy.
   */
  readonly otherPct: number;
}

export interface CellResult {
  /** Stable id, e.g. `strata.put.1mib.c16`. */
  readonly id: string;
  readonly target: CellTarget;
  readonly op: HttpOp;
  readonly sizeBytes: number;
  readonly concurrency: number;
  /** Operations completed in the measured phase (warm-up excluded). */
  readonly ops: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
  readonly mibPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** GET bodies compared byte for byte with what was written (a sample). */
  readonly verifiedBodies: number;
  readonly cpu: CpuShare;
  /**
   * CPU time of the server process and its children per operation, in ms. Less sensitive than
   * ops/s to other load on the machine: it says what an operation costs, not how many fit.
   */
  readonly serverCpuMsPerOp: number;
}

export interface Figure {
  /** Stable id, e.g. `disk.seq_fdatasync_mibps`. */
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
}

export interface SectionResult {
  readonly name: string;
  readonly title: string;
  readonly cells: readonly CellResult[];
  readonly figures: readonly Figure[];
  readonly notes: readonly string[];
}

/** Warm-up and measured phase of one load cell; the phase ends at whichever bound comes first. */
export interface CellTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface BenchOptions {
  readonly quick: boolean;
  /** Section names to run; ceilings the selected sections are compared with are added. */
  readonly only: ReadonlySet<string> | undefined;
  /** Write a V8 CPU profile of the Strata server process into this directory. */
  readonly profileDir: string | undefined;
  /** Keep the temp data dir after the run (for inspecting segment files). */
  readonly keep: boolean;
  readonly strataCell: CellTiming;
  readonly loopbackCell: CellTiming;
  /** Seconds of 4 KiB write + fdatasync, and bytes of the sequential fdatasync'd write. */
  readonly diskSmallSyncMs: number;
  readonly diskSeqBytes: number;
  readonly md5Ms: number;
}

export interface RunningServer {
  readonly endpoint: string;
  /** The NATS server the system under test uses (Strata only). */
  readonly natsUrl?: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface StrataServer extends RunningServer {
  readonly dataDir: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
}

export interface BenchContext {
  readonly options: BenchOptions;
  /** Temp dir for this run; the Strata data dir and the disk probes live under it. */
  readonly workDir: string;
  /** Sections that will run in this invocation (after ceilings were added). */
  readonly selected: ReadonlySet<string>;
  /** The embedded Strata server, started on first use and stopped by main.ts. */
  strata(): Promise<StrataServer>;
  /** Progress lines (stderr), so stdout holds only the report. */
  progress(line: string): void;
  /** Results of the sections that already ran (ceilings run first), to compare against. */
  readonly results: readonly SectionResult[];
  /**
   * Runs the loopback cell of this op, size and concurrency now, right before the Strata cell
   * that calls it, so that their ratio compares figures taken under the same machine load (on a
   * shared machine the load moves a lot between the ceiling section and the Strata sections).
   * The report prefers these paired cells. No-op when the loopback ceiling is not selected.
   */
  pairedCeiling(op: HttpOp, sizeBytes: number, concurrency: number): Promise<void>;
}

export interface Section {
  readonly name: string;
  readonly title: string;
  /** Other sections whose figures this one is compared with (run first when this one is selected). */
  readonly ceilings: readonly string[];
  /**
   * Runs alone on the machine: the shared Strata server (with its scrubber, compaction and repair
   * loops and whatever the earlier sections left it) is stopped first; a later section that needs
   * it starts it again.
   */
  readonly isolated?: boolean;
  run(ctx: BenchContext): Promise<SectionResult>;
}
