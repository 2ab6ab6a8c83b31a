/**
 * LastSeqBatch: lookups asked in one turn are shared per subject and sent after every caller of
 * the turn asked; a caller never joins a lookup that was already sent (its answer could predate
 * an event acknowledged before the caller asked, a stale read across gateways).
 */
import { describe, expect, it } from 'vitest';
import { LastSeqBatch } from '../../src/log/last-seq-batch.ts';

/** A log whose last sequence per subject the test sets, counting the lookups sent. */
function fakeLog() {
  const last = new Map<string, number>();
  const sent: string[] = [];
  const turns: (() => void)[] = [];
  const batch = new LastSeqBatch(
    (subject) => {
      sent.push(subject);
      // Read when sent, as JetStream answers with the stream as it is when the request arrives.
      const seq = last.get(subject) ?? 0;
      return Promise.resolve(seq);
    },
    (run) => void turns.push(run),
  );
  const endTurn = (): void => {
    const run = turns.shift();
    expect(run, 'a send was scheduled').toBeDefined();
    run?.();
  };
  return { last, sent, turns, batch, endTurn };
}

describe('LastSeqBatch', () => {
  it('sends one lookup per subject per turn, after the turn, and answers every caller', async () => {
    const f = fakeLog();
    f.last.set('b', 7);
    f.last.set('k1', 3);
    const answers = Promise.all([f.batch.lastSubjectSeq('b'), f.batch.lastSubjectSeq('k1'), f.batch.lastSubjectSeq('b'), f.batch.lastSubjectSeq('b')]);
    expect(f.sent).toEqual([]);
    expect(f.turns).toHaveLength(1);
    f.endTurn();
    expect(f.sent).toEqual(['b', 'k1']);
    expect(await answers).toEqual([7, 3, 7, 7]);
  });

  it('a caller after the send starts a new lookup and sees what landed meanwhile', async () => {
    const f = fakeLog();
    f.last.set('b', 1);
    const first = f.batch.lastSubjectSeq('b');
    f.endTurn();
    // An event acknowledged now, before the next caller asks: that caller must see it.
    f.last.set('b', 2);
    const second = f.batch.lastSubjectSeq('b');
    expect(f.turns).toHaveLength(1);
    f.endTurn();
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(f.sent).toEqual(['b', 'b']);
  });

  it('a failed lookup fails every caller that shared it, and the next turn asks again', async () => {
    let fail = true;
    const turns: (() => void)[] = [];
    const batch = new LastSeqBatch(
      (subject) => {
        if (fail) throw new Error(`no answer for ${subject}`);
        return Promise.resolve(5);
      },
      (run) => void turns.push(run),
    );
    const a = batch.lastSubjectSeq('s');
    const b = batch.lastSubjectSeq('s');
    turns.shift()?.();
    await expect(a).rejects.toThrow('no answer for s');
    await expect(b).rejects.toThrow('no answer for s');
    fail = false;
    const c = batch.lastSubjectSeq('s');
    turns.shift()?.();
    expect(await c).toBe(5);
  });

  it('with the default schedule, callers in one synchronous stretch share a lookup sent at setImmediate', async () => {
    const sent: string[] = [];
    const batch = new LastSeqBatch((subject) => {
      sent.push(subject);
      return Promise.resolve(sent.length);
    });
    const a = batch.lastSubjectSeq('x');
    const b = batch.lastSubjectSeq('x');
    await Promise.resolve();
    expect(sent).toEqual([]); // not sent from a microtask: later callers of the turn may still join
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    expect(await batch.lastSubjectSeq('x')).toBe(2);
  });
});
