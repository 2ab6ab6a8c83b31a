import { describe, expect, it } from 'vitest';
import { UnavailableError, retryableKindOf } from '../../src/lib/retryable.ts';
import { NodeClosedError, NodeOverloadedError, NodeUnavailableError, ShardCorruptError, ShardNotFoundError } from '../../src/storage/errors.ts';

describe('retryableKindOf', () => {
  it('names storage nodes that are down, closing or overloaded', () => {
    expect(retryableKindOf(new NodeUnavailableError('n1'))).toBe('unavailable');
    expect(retryableKindOf(new NodeClosedError('n1'))).toBe('unavailable');
    expect(retryableKindOf(new NodeOverloadedError('n1'))).toBe('overloaded');
    expect(retryableKindOf(new UnavailableError('log'))).toBe('unavailable');
  });

  it('finds the mark along the cause chain', () => {
    const wrapped = new Error('write failed', { cause: new Error('replica', { cause: new NodeOverloadedError('n2') }) });
    expect(retryableKindOf(wrapped)).toBe('overloaded');
  });

  it('leaves data errors and everything else unmarked', () => {
    expect(retryableKindOf(new ShardNotFoundError('ab'.repeat(16)))).toBeUndefined();
    expect(retryableKindOf(new ShardCorruptError('ab'.repeat(16), 'bad crc'))).toBeUndefined();
    expect(retryableKindOf(new Error('bug'))).toBeUndefined();
    expect(retryableKindOf('not an error')).toBeUndefined();
  });
});
