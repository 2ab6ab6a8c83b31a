/** A well-formed event for log tests that publish events rather than drive S3. */
import type { StrataEvent } from '../../src/events/types.ts';

/** A BucketCreated event named `id` (event id, request id and bucket). */
export function bucketCreatedEvent(id: string): StrataEvent {
  return {
    eventId: id,
    timeMs: Date.now(),
    bucket: id,
    key: '',
    versionId: '',
    actor: 'test',
    requestId: id,
    sourceAddress: '127.0.0.1',
    body: { type: 'BucketCreated', region: 'us-east-1', owner: 'test' },
  };
}
