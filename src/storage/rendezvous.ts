/**
 * Rendezvous (highest-random-weight) hashing: every node gets a score for a shard, and the shard's
 * replicas go to the highest-scoring nodes. Adding a node moves only the shards for which the new
 * node scores highest (about 1/n of them), and removing one moves only the shards it held; no
 * other shard changes place. Pure: same ids in, same order out, on every gateway.
 *
 * score(node, shard) = the first 8 bytes of SHA-256("<nodeId>\n<shardId>") as an unsigned
 * big-endian integer; ties (practically impossible) are broken by node id.
 */
import { createHash } from 'node:crypto';

export function rendezvousScore(nodeId: string, shardId: string): bigint {
  return createHash('sha256').update(`${nodeId}\n${shardId}`).digest().readBigUInt64BE(0);
}

/** Node ids ordered by preference for this shard, best first. */
export function rendezvousRank(shardId: string, nodeIds: readonly string[]): string[] {
  return [...new Set(nodeIds)]
    .map((id) => ({ id, score: rendezvousScore(id, shardId) }))
    .sort((a, b) => (a.score === b.score ? (a.id < b.id ? -1 : 1) : a.score > b.score ? -1 : 1))
    .map((x) => x.id);
}

/** Copies per storage class when enough nodes are live (the embedded single node runs RF 1). */
export const defaultReplication: Readonly<Record<string, number>> = {
  STANDARD: 3,
  STANDARD_IA: 3,
  REDUCED_REDUNDANCY: 2,
  ONEZONE_IA: 2,
};

/** Replication factor for a storage class given how many nodes are live (never more than that). */
export function replicationFactor(storageClass: string, liveNodes: number, byClass: Readonly<Record<string, number>>): number {
  const wanted = byClass[storageClass] ?? byClass['STANDARD'] ?? 1;
  return Math.max(1, Math.min(wanted, liveNodes));
}
