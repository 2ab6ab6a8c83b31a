/**
 * Errors that mean "a dependency is down or shedding load, try again later" (a storage node
 * unreachable or overloaded, the log not answering) carry a mark, so the protocol layer can answer
 * 503 (which S3 clients retry with backoff) without knowing the layers that threw them.
 */
export type RetryableKind = 'overloaded' | 'unavailable';

export const retryableMark: unique symbol = Symbol.for('strata.retryable');

export interface Retryable {
  readonly [retryableMark]: RetryableKind;
}

/** The mark of `err` or of an error in its cause chain, if any. */
export function retryableKindOf(err: unknown): RetryableKind | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    const kind = (e as Partial<Retryable>)[retryableMark];
    if (kind !== undefined) return kind;
    e = e.cause;
  }
  return undefined;
}

/** An error whose outcome the caller may retry; `cause` keeps what actually happened. */
export class UnavailableError extends Error implements Retryable {
  override name = 'UnavailableError';
  readonly [retryableMark]: RetryableKind = 'unavailable';
}
