/**
 * Errors a shard store caller can act on. The node's core returns discriminated unions
 * (`ReadShardResult`); these classes are how the `ShardStore` interface, which returns plain
 * promises, surfaces the same outcomes, locally and over NATS alike.
 */

import { retryableMark, type Retryable, type RetryableKind } from '../lib/retryable.ts';

export type StorageErrorCode =
  | 'not-found'
  | 'corrupt'
  | 'out-of-range'
  | 'too-large'
  | 'bad-request'
  | 'checksum-mismatch'
  | 'overloaded'
  | 'unavailable'
  | 'closed'
  | 'internal';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ShardNotFoundError extends StorageError {
  override name = 'ShardNotFoundError';
  constructor(readonly shardId: string) {
    super('not-found', `shard ${shardId} not found`);
  }
}

export class ShardCorruptError extends StorageError {
  override name = 'ShardCorruptError';
  constructor(
    readonly shardId: string,
    readonly reason: string,
  ) {
    super('corrupt', `shard ${shardId} is corrupt: ${reason}`);
  }
}

export class ShardRangeError extends StorageError {
  override name = 'ShardRangeError';
  constructor(shardId: string, offset: number, length: number, size: number) {
    super('out-of-range', `range ${offset}+${length} outside shard ${shardId} of ${size} bytes`);
  }
}

export class ShardTooLargeError extends StorageError {
  override name = 'ShardTooLargeError';
  constructor(size: number, max: number) {
    super('too-large', `shard of ${size} bytes exceeds the ${max} byte limit`);
  }
}

/** A node is unreachable (no responder, timeout, connection closed): the caller may try another. */
export class NodeUnavailableError extends StorageError implements Retryable {
  override name = 'NodeUnavailableError';
  readonly [retryableMark]: RetryableKind = 'unavailable';
  constructor(nodeId: string, options?: ErrorOptions) {
    super('unavailable', `storage node ${nodeId} unavailable`, options);
  }
}

export class NodeOverloadedError extends StorageError implements Retryable {
  override name = 'NodeOverloadedError';
  readonly [retryableMark]: RetryableKind = 'overloaded';
  constructor(nodeId: string) {
    super('overloaded', `storage node ${nodeId} is overloaded`);
  }
}

export class NodeClosedError extends StorageError implements Retryable {
  override name = 'NodeClosedError';
  readonly [retryableMark]: RetryableKind = 'unavailable';
  constructor(nodeId: string) {
    super('closed', `storage node ${nodeId} is closed`);
  }
}
