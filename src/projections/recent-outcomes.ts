/**
 * Outcomes of the most recently applied events, by stream sequence, for writers whose PubAck
 * arrives after their event was applied (and for a rebuilt projector taking over the writers of
 * the one it replaces).
 *
 * A ring indexed by `seq mod capacity`: stream sequences only grow, so the slot of a sequence
 * holds it until a sequence `capacity` later lands there. Setting and getting are O(1). (It
 * replaces a Map trimmed by deleting its oldest key: V8 leaves deleted entries in place until a
 * rehash, so finding the oldest key walked every entry deleted since, about 30 µs an event at a
 * 65,536-entry bound — most of the projector's and the rebuild's time.)
 */
import { assert } from '../lib/assert.ts';
import type { Outcome } from '../model/evolve.ts';

/** Sequences remembered: far more than the events applied while one writer awaits its PubAck. */
export const recentOutcomesMax = 65_536;

export class RecentOutcomes implements Iterable<readonly [number, Outcome]> {
  private readonly seqs: Float64Array;
  private readonly outcomes: (Outcome | undefined)[];

  constructor(private readonly capacity: number = recentOutcomesMax) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, 'capacity');
    this.seqs = new Float64Array(capacity);
    this.outcomes = new Array<Outcome | undefined>(capacity).fill(undefined);
  }

  set(seq: number, outcome: Outcome): void {
    const slot = seq % this.capacity;
    this.seqs[slot] = seq;
    this.outcomes[slot] = outcome;
  }

  get(seq: number): Outcome | undefined {
    const slot = seq % this.capacity;
    return this.seqs[slot] === seq ? this.outcomes[slot] : undefined;
  }

  /** Every outcome held, in no particular order. */
  *[Symbol.iterator](): IterableIterator<readonly [number, Outcome]> {
    for (let slot = 0; slot < this.capacity; slot++) {
      const o = this.outcomes[slot];
      if (o !== undefined) yield [this.seqs[slot] ?? 0, o];
    }
  }
}
