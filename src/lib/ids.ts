/** Identifiers. Random parts come from the CSPRNG: ids are unguessable and collision-free. */
import { randomFillSync } from 'node:crypto';

/**
 * CSPRNG bytes for every id, drawn 4 KiB at a time: one call into the CSPRNG per ~400 ids rather
 * than one each (a request id, an event id and a version id per PUT each called randomBytes).
 * Each byte is handed out once.
 */
const randomBlock = Buffer.alloc(4096);
let randomBlockUsed = randomBlock.length;

/** `bytes` fresh CSPRNG bytes as lower-case hex. */
function randomHex(bytes: number): string {
  if (randomBlockUsed + bytes > randomBlock.length) {
    randomFillSync(randomBlock);
    randomBlockUsed = 0;
  }
  randomBlockUsed += bytes;
  return randomBlock.toString('hex', randomBlockUsed - bytes, randomBlockUsed);
}

/** x-amz-request-id: 16 upper-case hex characters, as AWS sends. */
export function newRequestId(): string {
  return randomHex(8).toUpperCase();
}

/** Event ids sort by creation time (ms, base36, fixed width) and end with 80 random bits. */
export function newEventId(nowMs: number): string {
  return `${nowMs.toString(36).padStart(9, '0')}${randomHex(10)}`;
}

const SHARD_ID_RANDOM_BYTES = 10;
/** The time part of the last shard id made (many ids share a millisecond). */
let shardIdPrefixMs = -1;
let shardIdPrefix = '';

/**
 * Shard ids: 16 bytes as 32 hex characters (one per shard of every PUT): 6 bytes of the creation
 * time in ms (big-endian) then 10 CSPRNG bytes. Time first, so a storage node's index and
 * liveness model take each new id next to the previous ones, at the right edge of their B-trees,
 * rather than on a random page: an LMDB put of a random 16-byte key into a 150k-entry tree cost
 * ~7 us against ~2.3 us for time-ordered ones, a third of a 4 KiB append's CPU. 80 random bits per
 * millisecond keep ids unique across gateways; placement hashes the id (rendezvous.ts), so the
 * time prefix does not skew it.
 */
export function newShardId(nowMs: number = Date.now()): string {
  if (nowMs !== shardIdPrefixMs) {
    shardIdPrefixMs = nowMs;
    shardIdPrefix = nowMs.toString(16).padStart(12, '0');
  }
  return shardIdPrefix + randomHex(SHARD_ID_RANDOM_BYTES);
}

/** Version ids: time-ordered like event ids (9 base36 digits of ms, 20 hex random), 29 chars. */
export function newVersionId(nowMs: number): string {
  return newEventId(nowMs);
}

/** Whether a versionId query parameter has a form this store can have issued ("null" included). */
export function isWellFormedVersionId(v: string): boolean {
  return v === 'null' || /^[0-9a-z]{9}[0-9a-f]{20}$/.test(v);
}
