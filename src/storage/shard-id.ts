/**
 * Shard ids are 16 bytes: 6 of creation time then 10 random (lib/ids.ts says why). APIs and NATS
 * headers carry them as 32 lowercase hex characters; segment records and the index carry the raw
 * bytes.
 */
import { assert } from '../lib/assert.ts';
import { newShardId as newRandomShardId } from '../lib/ids.ts';
import { SHARD_ID_BYTES } from './segment-format.ts';

/** Value of a lowercase hex digit's char code, -1 for anything else. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** 32 lowercase hex characters (a loop, not a regex: this runs for every shard written and read). */
export function isValidShardId(shardId: string): boolean {
  if (shardId.length !== 2 * SHARD_ID_BYTES) return false;
  for (let i = 0; i < shardId.length; i++) if (hexDigit(shardId.charCodeAt(i)) < 0) return false;
  return true;
}

/** The 16 bytes of a shard id, checked and decoded in one pass (every shard written and read). */
export function shardIdToBytes(shardId: string): Buffer {
  const out = Buffer.allocUnsafe(SHARD_ID_BYTES);
  let ok = shardId.length === 2 * SHARD_ID_BYTES;
  for (let i = 0; ok && i < SHARD_ID_BYTES; i++) {
    const hi = hexDigit(shardId.charCodeAt(2 * i));
    const lo = hexDigit(shardId.charCodeAt(2 * i + 1));
    ok = hi >= 0 && lo >= 0;
    out[i] = (hi << 4) | lo;
  }
  if (!ok) assert(false, `bad shard id ${JSON.stringify(shardId)}`);
  return out;
}

export function shardIdFromBytes(bytes: Uint8Array): string {
  assert(bytes.length === SHARD_ID_BYTES, 'shard id must be 16 bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** The random source is a parameter so tests can make ids deterministic. */
export function newShardId(random?: (bytes: number) => Uint8Array): string {
  return random === undefined ? newRandomShardId() : shardIdFromBytes(random(SHARD_ID_BYTES));
}
