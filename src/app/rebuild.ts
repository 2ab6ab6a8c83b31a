/**
 * `strata replay --rebuild`: rebuild the read model from the log while the gateway keeps serving
 * from the old copy, then swap with no downtime:
 *
 *   1. replay the whole stream into a new LMDB environment beside the live one;
 *   2. start a projector on it (its own durable consumer) and let it catch up with the live one;
 *   3. stop the live projector, handing the writers that wait on it to the new one;
 *   4. point the engine at the new model (reads fence on the log, so none is older than before);
 *   5. close the old environment, point `current` at the new one and delete the old.
 *
 * Projections decide together (a put needs its bucket; the listing follows the versions), so they
 * are rebuilt together; `--projection NAME` also reports whether that projection's rebuilt
 * databases equal the live ones, a direct check of replay determinism.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Engine } from '../gateway/engine.ts';
import { projections, type ProjectionName, type ReadModelStore } from '../model/store.ts';
import { Projector } from '../projections/projector.ts';
import { rebuildInto, type RebuildProgress } from '../projections/rebuild.ts';
import { nextModelDir, switchModelDir } from './model-dir.ts';

export interface LiveModel {
  store: ReadModelStore;
  projector: Projector;
}

export interface RebuildSummary {
  readonly events: number;
  readonly lastSeq: number;
  readonly elapsedMs: number;
  readonly eventsPerSec: number;
  readonly projection: ProjectionName | undefined;
  /** For --projection: whether its rebuilt databases equal the live ones at the swap. */
  readonly equal: boolean | undefined;
}

export function isProjectionName(s: string): s is ProjectionName {
  return Object.prototype.hasOwnProperty.call(projections, s);
}

export async function rebuildAndSwap(
  nc: NatsConnection,
  live: LiveModel,
  engine: Engine,
  o: { gatewayDir: string; gatewayId: string; projection?: ProjectionName; onProgress?: (p: RebuildProgress) => void },
): Promise<RebuildSummary> {
  const shadowDir = nextModelDir(o.gatewayDir, Date.now());
  const r = await rebuildInto(nc, shadowDir, o.onProgress ? { onProgress: o.onProgress } : {});
  const next = new Projector(nc, r.store, `projector-${o.gatewayId}-rebuild`);
  next.rememberOutcomes(r.recentOutcomes);
  await next.start();
  await next.waitApplied(live.projector.appliedSeq);
  const old = live.projector;
  await old.stop(next);
  await next.waitApplied(old.appliedSeq);
  let equal: boolean | undefined;
  // Compared only when both stand at the same sequence (nothing was written during the swap).
  if (o.projection && live.store.checkpoint() === r.store.checkpoint()) equal = live.store.sameAs(r.store, projections[o.projection].dbs);
  engine.swapModel(r.store, next);
  const oldStore = live.store;
  live.store = r.store;
  live.projector = next;
  await old.deleteConsumer();
  await oldStore.close();
  await switchModelDir(o.gatewayDir, shadowDir);
  const eventsPerSec = r.elapsedMs > 0 ? Math.round((r.events * 1000) / r.elapsedMs) : r.events;
  return { events: r.events, lastSeq: r.lastSeq, elapsedMs: r.elapsedMs, eventsPerSec, projection: o.projection, equal };
}
