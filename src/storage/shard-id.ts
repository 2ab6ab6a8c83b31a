/**
 * Shard ids are 16 random bytes. APIs and NATS headers carry them as 32 lowercase hex characters;
 * segment records and the index carry the raw bytes.
 */
import { assert } from '../lib/assert.ts';
import { newShardId as newRandomShardId } from '../lib/ids.ts';
import { SHARD_ID_BYTES } from './segment-format.ts';

const SHARD_ID_PATTERN = /^[0-9a-f]{32}$/;

export function isValidShardId(shardId: string): boolean {
  return SHARD_ID_PATTERN.test(shardId);
}

export function shardIdToBytes(shardId: string): Buffer {
  assert(isValidShardId(shardId), `bad shard id ${JSON.stringify(shardId)}`);
  return Buffer.from(shardId, 'hex');
}

export function shardIdFromBytes(bytes: Uint8Array): string {
  assert(bytes.length === SHARD_ID_BYTES, 'shard id must be 16 bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** The random source is a parameter so tests can make ids deterministic. */
export function newShardId(random?: (bytes: number) => Uint8Array): string {
  return random === undefined ? newRandomShardId() : shardIdFromBytes(random(SHARD_ID_BYTES));
}
