/**
 * Listing at scale (issue 4): a bucket of 1,000,000 keys (`user-NNNNN/photos/YYYY/NNNN.jpg`,
 * 10,000 top-level prefixes) filled by publishing events straight to the log, then
 *   - live projection and rebuild-by-replay throughput (events/s),
 *   - ListObjectsV2 1,000-key pages, flat (random start-after) and with delimiter at the root,
 *     p50/p99 measured at the client over loopback,
 *   - a full-bucket scan following continuation tokens (keys/s),
 *   - the read fence's cost: one JetStream last-by-subject lookup (p50/p99).
 * Targets: flat page p99 < 25 ms, delimiter page p99 < 50 ms, rebuild ≥ 30,000 events/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectNats } from '../../src/app/strata.ts';
import { objectSubject } from '../../src/events/subjects.ts';
import { EventLog } from '../../src/log/publisher.ts';
import { rebuildInto } from '../../src/projections/rebuild.ts';
import { bulkLoad, hierarchyKey } from '../../test/support/bulk-load.ts';
import { BenchClient, describeFailure } from '../lib/http-client.ts';
import { SigV4Signer } from '../lib/sigv4.ts';
import { canonicalQuery, signQueryRequest } from '../lib/sigv4-query.ts';
import type { BenchContext, Figure, Section, SectionResult } from '../types.ts';

const title = 'Listing at scale (1,000,000 keys), rebuild, read fence';
const bucket = 'listing';
const perUser = 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const listingSection: Section = {
  name: 'listing',
  title,
  ceilings: [],
  async run(ctx: BenchContext): Promise<SectionResult> {
    const keys = ctx.options.quick ? 200_000 : 1_000_000;
    const server = await ctx.strata();
    if (!server.natsUrl) throw new Error('listing bench needs the Strata child to report its NATS URL');
    const creds = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: 'us-east-1' };
    const client = new BenchClient(server.endpoint, 1, new SigV4Signer(creds));
    const nc = await connectNats(server.natsUrl, 'bench-listing');
    const figures: Figure[] = [];
    const notes: string[] = [];
    const rebuildDir = mkdtempSync(join(ctx.workDir, 'rebuild-'));
    try {
      const made = await client.request('PUT', `/${bucket}`, undefined, false);
      if (made.status !== 200) throw new Error(describeFailure('PUT', `/${bucket}`, made));

      // Fill through the log; the gateway's projector applies as events arrive.
      const t0 = performance.now();
      const load = await bulkLoad(nc, bucket, keys, (i) => hierarchyKey(i, perUser));
      ctx.progress(`listing: published ${keys} events in ${(load.elapsedMs / 1000).toFixed(1)} s`);
      const lastKey = hierarchyKey(keys - 1, perUser);
      for (;;) {
        const r = await client.request('HEAD', `/${bucket}/${encodeURIComponent(lastKey).replace(/%2F/g, '/')}`, undefined, false);
        if (r.status === 200) break;
        ctx.progress(`listing: waiting for the projector (HEAD ${r.status})`);
      }
      const liveMs = performance.now() - t0;
      figures.push({ id: 'listing.publish.eps', label: 'events published to the log', value: (keys * 1000) / load.elapsedMs, unit: 'events/s' });
      figures.push({ id: 'listing.project.eps', label: 'live projection (publish start → last key visible)', value: (keys * 1000) / liveMs, unit: 'events/s' });

      const rb = await rebuildInto(nc, rebuildDir);
      await rb.store.close();
      const rebuildEps = (rb.events * 1000) / rb.elapsedMs;
      figures.push({ id: 'listing.rebuild.eps', label: 'rebuild by replay (whole stream, fresh LMDB)', value: rebuildEps, unit: 'events/s' });
      ctx.progress(`listing: rebuild ${rb.events} events at ${rebuildEps.toFixed(0)} events/s`);

      const list = async (params: Record<string, string>): Promise<{ ms: number; body: string }> => {
        const query = canonicalQuery(params);
        const headers = signQueryRequest(creds, 'GET', `/${bucket}`, query, client.host);
        const start = performance.now();
        const r = await client.requestWithHeaders('GET', `/${bucket}?${query}`, headers, true);
        const ms = performance.now() - start;
        if (r.status !== 200) throw new Error(describeFailure('GET', `/${bucket}?${query}`, r));
        return { ms, body: r.body?.toString('utf8') ?? '' };
      };

      // Flat pages from random positions. Like the object cells (which run a warm-up before they
      // are timed), the first pages are not timed: they pay for the server's JIT warming up after
      // the fill, which is not what a page costs.
      const flat: number[] = [];
      let seed = 12345;
      const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const warmupPages = 20;
      const flatPages = ctx.options.quick ? 200 : 500;
      for (let i = 0; i < warmupPages + flatPages; i++) {
        const r = await list({ 'list-type': '2', 'max-keys': '1000', 'start-after': hierarchyKey(Math.floor(rand() * (keys - 1000)), perUser) });
        if ((r.body.match(/<Key>/g) ?? []).length !== 1000) throw new Error('flat page did not hold 1000 keys');
        if (i >= warmupPages) flat.push(r.ms);
      }
      flat.sort((a, b) => a - b);

      // Delimiter pages at the root: walk every page of common prefixes, repeatedly (the first
      // walk untimed, as above), for at least 100 timed pages.
      const delim: number[] = [];
      let prefixes = 0;
      const pagesPerRound = Math.ceil(keys / perUser / 1000);
      const rounds = 1 + Math.ceil(100 / pagesPerRound);
      for (let round = 0; round < rounds; round++) {
        let token: string | undefined;
        prefixes = 0;
        do {
          const r = await list({ 'list-type': '2', 'max-keys': '1000', delimiter: '/', ...(token ? { 'continuation-token': token } : {}) });
          if (round > 0) delim.push(r.ms);
          prefixes += (r.body.match(/<CommonPrefixes>/g) ?? []).length;
          token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(r.body)?.[1];
        } while (token);
      }
      if (prefixes !== keys / perUser) throw new Error(`delimiter listing found ${prefixes} prefixes, expected ${keys / perUser}`);
      delim.sort((a, b) => a - b);

      // Full scan.
      let scanned = 0;
      let token: string | undefined;
      const scanStart = performance.now();
      do {
        const r = await list({ 'list-type': '2', 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) });
        scanned += (r.body.match(/<Key>/g) ?? []).length;
        token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(r.body)?.[1];
      } while (token);
      const scanMs = performance.now() - scanStart;
      if (scanned !== keys) throw new Error(`full scan saw ${scanned} keys, expected ${keys}`);

      // The read fence: one last-by-subject lookup per GET/HEAD.
      const log = await EventLog.open(nc);
      const fence: number[] = [];
      for (let i = 0; i < 500; i++) {
        const start = performance.now();
        await log.lastSubjectSeq(objectSubject(bucket, hierarchyKey(i * 37, perUser)));
        fence.push(performance.now() - start);
      }
      log.close();
      fence.sort((a, b) => a - b);

      figures.push(
        { id: 'listing.flat.p50', label: 'ListObjectsV2 1,000-key page, flat: p50', value: percentile(flat, 50), unit: 'ms' },
        { id: 'listing.flat.p99', label: 'ListObjectsV2 1,000-key page, flat: p99 (target < 25)', value: percentile(flat, 99), unit: 'ms' },
        { id: 'listing.delim.p50', label: 'ListObjectsV2 delimiter page at the root: p50', value: percentile(delim, 50), unit: 'ms' },
        { id: 'listing.delim.p99', label: 'ListObjectsV2 delimiter page at the root: p99 (target < 50)', value: percentile(delim, 99), unit: 'ms' },
        { id: 'listing.scan.kps', label: 'full-bucket scan (continuation tokens)', value: (scanned * 1000) / scanMs, unit: 'keys/s' },
        { id: 'listing.fence.p50', label: 'read fence (last-by-subject lookup) per GET: p50', value: percentile(fence, 50), unit: 'ms' },
        { id: 'listing.fence.p99', label: 'read fence per GET: p99', value: percentile(fence, 99), unit: 'ms' },
      );
      const verdict = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');
      notes.push(
        `${keys} keys, ${keys / perUser} top-level prefixes; pages timed at the client over loopback, XML included; ${flat.length} flat and ${delim.length} delimiter pages timed after ${warmupPages} flat pages and one delimiter walk untimed`,
        `[${verdict(percentile(flat, 99) < 25)}] flat page p99 < 25 ms; [${verdict(percentile(delim, 99) < 50)}] delimiter page p99 < 50 ms; [${verdict(rebuildEps >= 30_000)}] rebuild ≥ 30,000 events/s`,
      );
      for (const f of figures) ctx.progress(`listing: ${f.label}: ${f.value.toFixed(f.unit === 'ms' ? 2 : 0)} ${f.unit}`);
      return { name: 'listing', title, cells: [], figures, notes };
    } finally {
      client.close();
      await nc.close();
      rmSync(rebuildDir, { recursive: true, force: true });
    }
  },
};
