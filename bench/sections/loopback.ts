/**
 * Ceiling (a): the same client, sizes and concurrencies against a bare node:http server in its
 * own process (bench/servers/loopback.ts) that drops PUT bodies and serves a fixed buffer for
 * GET. Strata's object cells are read as a fraction of these.
 */
import { startChildServer } from '../lib/child-server.ts';
import { BenchClient } from '../lib/http-client.ts';
import { runCell } from '../lib/load.ts';
import { concurrencies, getOperation, maxOpsFor, objectOps, objectSizesBytes, putOperation } from '../lib/object-ops.ts';
import { patternBuffer, sizeLabel } from '../lib/pattern.ts';
import type { BenchContext, CellResult, CellTiming, HttpOp, RunningServer, Section, SectionResult } from '../types.ts';

const title = 'Ceiling: loopback HTTP (bare node:http server, same client)';

/** Object ops whose ceilings this run needs: those of the selected object sections, else all. */
export function loopbackOps(selected: ReadonlySet<string>): HttpOp[] {
  const ops = objectOps.filter((op) => selected.has(op.toLowerCase()));
  return ops.length > 0 ? ops : [...objectOps];
}

export function startLoopbackServer(): Promise<RunningServer> {
  return startChildServer({ script: 'servers/loopback.ts', spec: {} });
}

/** One loopback cell: the same client and operations as Strata's cells, against the bare server. */
export async function runLoopbackCell(server: RunningServer, op: HttpOp, size: number, concurrency: number, timing: CellTiming): Promise<CellResult> {
  const client = new BenchClient(server.endpoint, concurrency, undefined);
  const operation =
    op === 'PUT'
      ? putOperation({ client, bucket: 'lb', prefix: `${size}`, body: patternBuffer(size, 3), etag: undefined })
      : getOperation({ client, bucket: 'lb', keys: [`${size}/x`], bodies: [patternBuffer(size, 1)] });
  try {
    return await runCell({ target: 'loopback', op, sizeBytes: size, concurrency, timing, maxOps: maxOpsFor(size), serverPid: server.pid }, operation);
  } finally {
    client.close();
  }
}

export const loopbackSection: Section = {
  name: 'loopback',
  title,
  ceilings: [],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const server = await startLoopbackServer();
    const cells: CellResult[] = [];
    try {
      for (const op of loopbackOps(ctx.selected)) {
        for (const size of objectSizesBytes) {
          for (const concurrency of concurrencies) {
            const cell = await runLoopbackCell(server, op, size, concurrency, ctx.options.loopbackCell);
            cells.push(cell);
            ctx.progress(`loopback ${op} ${sizeLabel(size)} c${concurrency}: ${cell.opsPerSec.toFixed(0)} ops/s, ${cell.mibPerSec.toFixed(1)} MiB/s`);
          }
        }
      }
    } finally {
      await server.stop();
    }
    return { name: 'loopback', title, cells, figures: [], notes: [] };
  },
};
