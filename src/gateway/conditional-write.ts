/**
 * Conditional writes (PutObject, CompleteMultipartUpload, CopyObject with If-None-Match: * or
 * If-Match: <etag>), race-free across gateways.
 *
 * The condition is evaluated on the read model after a fence on the key's subject, and the event
 * is published with `expect.lastSubjectSequence` = the sequence the decision was based on. A writer
 * on another gateway that committed to the same key in between makes the publish fail (JetStream
 * compares atomically), and the decision is taken again on the fresh state: now the condition
 * usually fails (412 PreconditionFailed); if it still holds (the other write was rejected, or it
 * deleted the key) the publish is retried. A key that keeps changing under the writer ends with
 * 409 ConditionalRequestConflict, as AWS answers a conflicting concurrent conditional write.
 */
import { objectSubject } from '../events/subjects.ts';
import type { StrataEvent } from '../events/types.ts';
import type { Outcome } from '../model/evolve.ts';
import type { ObjectRecord } from '../model/records.ts';
import { commit, fence, type CommitDeps } from './commit.ts';
import { fail, ok, type Result } from './types.ts';

/** Preconditions on the key a write replaces. ETags are normalized (no quotes). */
export interface WriteCondition {
  /** If-None-Match: * — the key must not exist. */
  readonly ifNoneMatch?: '*';
  /** If-Match: the current object's ETag must be this ('*': any object must exist). */
  readonly ifMatch?: string;
}

/** Attempts of a conditional publish whose expected sequence was overtaken by another writer. */
const conditionalAttemptsMax = 8;

export function hasCondition(c: WriteCondition | undefined): c is WriteCondition {
  return c !== undefined && (c.ifNoneMatch !== undefined || c.ifMatch !== undefined);
}

/** Whether the condition holds for the key's current object (undefined: the key is absent). */
export function checkCondition(c: WriteCondition, current: ObjectRecord | undefined): Result<void> {
  if (c.ifNoneMatch === '*' && current) return fail('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold (If-None-Match).');
  if (c.ifMatch !== undefined) {
    // AWS answers 404 NoSuchKey to an If-Match on a key that does not exist.
    if (!current) return fail('NoSuchKey');
    if (c.ifMatch !== '*' && c.ifMatch !== current.etag) return fail('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold (If-Match).');
  }
  return ok(undefined);
}

/** Cheap early check (before a body is streamed): the same fence and evaluation, no publish. */
export async function precheckCondition(d: CommitDeps, bucket: string, key: string, c: WriteCondition): Promise<Result<void>> {
  await fence(d, objectSubject(bucket, key));
  return checkCondition(c, d.store.object(bucket, key));
}

/**
 * Commits the event made by `makeEvent` on the key's subject if `c` holds, retrying the decision
 * when another writer overtook it. Without a condition, a plain publish.
 */
export async function commitToKey(d: CommitDeps, bucket: string, key: string, c: WriteCondition | undefined, makeEvent: () => StrataEvent): Promise<Result<Outcome>> {
  const subject = objectSubject(bucket, key);
  if (!hasCondition(c)) {
    const outcome = await commit(d, subject, makeEvent());
    return outcome === 'conflict' ? fail('ServiceUnavailable') : ok(outcome);
  }
  for (let attempt = 0; attempt < conditionalAttemptsMax; attempt++) {
    const last = await fence(d, subject);
    const holds = checkCondition(c, d.store.object(bucket, key));
    if (!holds.ok) return holds;
    const outcome = await commit(d, subject, makeEvent(), last);
    if (outcome !== 'conflict') return ok(outcome);
  }
  return fail('ConditionalRequestConflict');
}
