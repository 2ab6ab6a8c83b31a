import { describe, expect, it } from 'vitest';
import { nodeTuningFromEnv } from '../../src/app/node-tuning.ts';

describe('storage node settings from the environment', () => {
  it('reads group commit on/off and its delay, and leaves unset ones to the defaults', () => {
    expect(nodeTuningFromEnv({})).toEqual({});
    expect(nodeTuningFromEnv({ STRATA_GROUP_COMMIT: 'off', STRATA_GROUP_COMMIT_MS: '2' })).toEqual({ groupCommit: false, groupCommitDelayMs: 2 });
    expect(nodeTuningFromEnv({ STRATA_GROUP_COMMIT: 'on' })).toEqual({ groupCommit: true });
    expect(nodeTuningFromEnv({ STRATA_GROUP_COMMIT: '' })).toEqual({});
  });

  it('refuses values it cannot read rather than guessing', () => {
    expect(() => nodeTuningFromEnv({ STRATA_GROUP_COMMIT: 'false' })).toThrow(/STRATA_GROUP_COMMIT must be on or off/);
    expect(() => nodeTuningFromEnv({ STRATA_GROUP_COMMIT_MS: '-1' })).toThrow(/non-negative/);
    expect(() => nodeTuningFromEnv({ STRATA_SEGMENT_BYTES: 'lots' })).toThrow(/STRATA_SEGMENT_BYTES/);
  });
});
