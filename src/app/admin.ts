/**
 * Operator requests to a running gateway over NATS: `strata.admin.<gatewayId>.rebuild`.
 * The gateway streams progress messages to the request's reply subject, then a final one with
 * `done: true` (or `error`). JSON bodies; one rebuild at a time.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { ProjectionName } from '../model/store.ts';
import type { RebuildProgress } from '../projections/rebuild.ts';
import type { RebuildSummary } from './rebuild.ts';
import { isProjectionName } from './rebuild.ts';

export function adminSubject(gatewayId: string, verb: 'rebuild'): string {
  return `strata.admin.${gatewayId}.${verb}`;
}

export type AdminMessage =
  | { readonly kind: 'progress'; readonly progress: RebuildProgress }
  | { readonly kind: 'done'; readonly summary: RebuildSummary }
  | { readonly kind: 'error'; readonly error: string };

type Rebuild = (o: { projection?: ProjectionName; onProgress?: (p: RebuildProgress) => void }) => Promise<RebuildSummary>;

export function serveAdmin(nc: NatsConnection, gatewayId: string, rebuild: Rebuild, log: (line: string) => void): { stop(): Promise<void> } {
  let busy = false;
  const sub: Subscription = nc.subscribe(adminSubject(gatewayId, 'rebuild'), {
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      const reply = msg.reply;
      const send = (m: AdminMessage): void => nc.publish(reply, JSON.stringify(m));
      if (busy) {
        send({ kind: 'error', error: 'a rebuild is already running' });
        return;
      }
      let projection: ProjectionName | undefined;
      try {
        const body = msg.data.length > 0 ? (JSON.parse(new TextDecoder().decode(msg.data)) as { projection?: unknown }) : {};
        if (typeof body.projection === 'string') {
          if (!isProjectionName(body.projection)) {
            send({ kind: 'error', error: `unknown projection ${body.projection}` });
            return;
          }
          projection = body.projection;
        }
      } catch {
        send({ kind: 'error', error: 'request body is not JSON' });
        return;
      }
      busy = true;
      log(`rebuilding the read model from the log${projection ? ` (${projection})` : ''}`);
      rebuild({ ...(projection ? { projection } : {}), onProgress: (progress) => send({ kind: 'progress', progress }) })
        .then(
          (summary) => {
            log(`rebuild done: ${summary.events} events in ${summary.elapsedMs} ms (${summary.eventsPerSec} events/s), swapped in`);
            send({ kind: 'done', summary });
          },
          (e: unknown) => {
            log(`rebuild failed: ${String(e)}`);
            send({ kind: 'error', error: String(e) });
          },
        )
        .finally(() => {
          busy = false;
        });
    },
  });
  return {
    stop: async () => {
      await sub.drain();
    },
  };
}
