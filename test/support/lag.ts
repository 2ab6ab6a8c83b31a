/**
 * Makes a gateway's projector lag: every batch it applies is held back `lagMs` first. This stands
 * for a busy or distant gateway (the test machine is too quick for cross-gateway races to show on
 * their own), so a missing read fence shows as a stale answer. It is injected lag, not a wait in
 * a test. Returns the undo.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ReadModelStore } from '../../src/model/store.ts';

export function lagProjector(store: ReadModelStore, lagMs: number): () => void {
  const original = store.apply;
  store.apply = async (...args) => {
    await delay(lagMs);
    return original.apply(store, args);
  };
  return () => {
    store.apply = original;
  };
}
