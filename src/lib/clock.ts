/** Time is passed in (STYLE.md), so tests can fix it and pure code never reads the wall clock. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
