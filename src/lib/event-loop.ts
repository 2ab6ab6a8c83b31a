/**
 * Long loops on the event loop. A pass over every shard of a node (compaction's scans,
 * re-replication) does a few microseconds of work per item and rarely awaits: over 100,000
 * items it held the event loop for 0.8–1.5 s, and with it every request of the embedded gateway.
 */

/** Lets timers, I/O callbacks and other requests run before the caller goes on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The items of `items`, with a yield to the event loop after every `every` of them. */
export async function* yieldingEvery<T>(items: Iterable<T>, every: number): AsyncGenerator<T> {
  let n = 0;
  for (const item of items) {
    yield item;
    if (++n >= every) {
      n = 0;
      await yieldToEventLoop();
    }
  }
}
