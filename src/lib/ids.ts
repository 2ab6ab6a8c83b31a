/** Identifiers. Random parts come from the CSPRNG: ids are unguessable and collision-free. */
import { randomBytes, randomFillSync } from 'node:crypto';

/** x-amz-request-id: 16 upper-case hex characters, as AWS sends. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** Event ids sort by creation time (ms, base36, fixed width) and end with 80 random bits. */
export function newEventId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(9, '0')}${randomBytes(10).toString('hex')}`;
}

/** CSPRNG bytes for shard ids, drawn a block at a time: one system call per 256 ids, not per id. */
const shardIdBlock = Buffer.alloc(16 * 256);
let shardIdBlockUsed = shardIdBlock.length;

/** Shard ids: 16 random bytes as 32 hex characters (one per shard of every PUT). */
export function newShardId(): string {
  if (shardIdBlockUsed === shardIdBlock.length) {
    randomFillSync(shardIdBlock);
    shardIdBlockUsed = 0;
  }
  shardIdBlockUsed += 16;
  return shardIdBlock.toString('hex', shardIdBlockUsed - 16, shardIdBlockUsed);
}

/** Version ids: time-ordered like event ids (9 base36 digits of ms, 20 hex random), 29 chars. */
export function newVersionId(nowMs: number): string {
  return newEventId(nowMs);
}

/** Whether a versionId query parameter has a form this store can have issued ("null" included). */
export function isWellFormedVersionId(v: string): boolean {
  return v === 'null' || /^[0-9a-z]{9}[0-9a-f]{20}$/.test(v);
}
