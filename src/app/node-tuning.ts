/**
 * Storage node settings from the environment (all optional; defaults in src/lib/limits.ts):
 *   STRATA_SEGMENT_BYTES          segment size before roll-over
 *   STRATA_GROUP_COMMIT           on (default) | off: off gives every sync append its own fdatasync
 *   STRATA_GROUP_COMMIT_MS        group commit: longest wait before an fsync for waiting appends
 *   STRATA_SHARD_GRACE_MS         an unreferenced shard is reclaimable this long after written/released
 *   STRATA_COMPACT_INTERVAL_MS    periodic compaction (0 = only on demand)
 *   STRATA_COMPACT_DEAD_RATIO     dead share of a sealed segment that makes it a victim (0..1)
 *   STRATA_SCRUB_BYTES_PER_SEC    background scrub rate (0 = off)
 *   STRATA_SCRUB_INTERVAL_MS      pause between scrub passes
 *   STRATA_REPAIR_INTERVAL_MS     re-replication check period (0 = on demand only)
 */
import type { NodeTuning } from '../storage/node-host.ts';

export function nodeTuningFromEnv(env: NodeJS.ProcessEnv = process.env): NodeTuning {
  const t: { -readonly [K in keyof NodeTuning]: NodeTuning[K] } = {};
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
    return n;
  };
  const seg = num('STRATA_SEGMENT_BYTES');
  if (seg !== undefined) t.segmentBytesMax = seg;
  const grouping = env.STRATA_GROUP_COMMIT;
  if (grouping !== undefined && grouping !== '') {
    if (grouping !== 'on' && grouping !== 'off') throw new Error(`STRATA_GROUP_COMMIT must be on or off, got ${grouping}`);
    t.groupCommit = grouping === 'on';
  }
  const gc = num('STRATA_GROUP_COMMIT_MS');
  if (gc !== undefined) t.groupCommitDelayMs = gc;
  const grace = num('STRATA_SHARD_GRACE_MS');
  if (grace !== undefined) t.shardGraceMs = grace;
  const interval = num('STRATA_COMPACT_INTERVAL_MS');
  if (interval !== undefined) t.compactIntervalMs = interval;
  const ratio = num('STRATA_COMPACT_DEAD_RATIO');
  if (ratio !== undefined) t.compactDeadRatioMin = ratio;
  const scrub = num('STRATA_SCRUB_BYTES_PER_SEC');
  if (scrub !== undefined) t.scrubBytesPerSec = scrub;
  const scrubEvery = num('STRATA_SCRUB_INTERVAL_MS');
  if (scrubEvery !== undefined) t.scrubPassIntervalMs = scrubEvery;
  const repair = num('STRATA_REPAIR_INTERVAL_MS');
  if (repair !== undefined) t.repairIntervalMs = repair;
  return t;
}
