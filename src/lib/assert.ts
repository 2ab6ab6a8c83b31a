/**
 * Programmer errors crash (STYLE.md): an assertion that fails means the code is wrong, not the
 * input. Expected outcomes are returned as discriminated unions instead.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
