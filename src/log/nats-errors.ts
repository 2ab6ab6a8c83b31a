/** Recognises JetStream "not found" answers (stream or consumer), across client error shapes. */
import { JetStreamApiError } from '@nats-io/jetstream';

export function isNotFoundError(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.status === 404 || err.code === 10014 || err.code === 10059;
  return /not found/i.test(err instanceof Error ? err.message : String(err));
}
