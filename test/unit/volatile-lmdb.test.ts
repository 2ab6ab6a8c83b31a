import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootIdMarkerName, prepareVolatileEnv, readBootId } from '../../src/lib/volatile-lmdb.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-volatile-'));
  dirs.push(d);
  return join(d, 'env');
}

describe('prepareVolatileEnv', () => {
  it('marks an environment open with the boot id, and clean after close', () => {
    const dir = tempDir();
    const env = prepareVolatileEnv(dir, { bootId: () => 'boot-a' });
    expect(env).toMatchObject({ noSync: true, discardedAfterMachineRestart: false });
    expect(readFileSync(join(dir, bootIdMarkerName), 'utf8').trim()).toBe('boot-a');
    writeFileSync(join(dir, 'data.mdb'), 'pages');
    env.closed();
    expect(existsSync(join(dir, bootIdMarkerName))).toBe(false);
    expect(readFileSync(join(dir, 'data.mdb'), 'utf8')).toBe('pages');
  });

  it('keeps an environment left open in the same boot, and removes one left open in another', () => {
    const dir = tempDir();
    prepareVolatileEnv(dir, { bootId: () => 'boot-a' });
    writeFileSync(join(dir, 'data.mdb'), 'pages');
    const same = prepareVolatileEnv(dir, { bootId: () => 'boot-a' });
    expect(same.discardedAfterMachineRestart).toBe(false);
    expect(existsSync(join(dir, 'data.mdb'))).toBe(true);
    const other = prepareVolatileEnv(dir, { bootId: () => 'boot-b' });
    expect(other.discardedAfterMachineRestart).toBe(true);
    expect(existsSync(join(dir, 'data.mdb'))).toBe(false);
    expect(readFileSync(join(dir, bootIdMarkerName), 'utf8').trim()).toBe('boot-b');
  });

  it('falls back to fsynced commits and no marker where no boot id can be read', () => {
    const dir = tempDir();
    const env = prepareVolatileEnv(dir, { bootId: () => undefined });
    expect(env).toMatchObject({ noSync: false, discardedAfterMachineRestart: false });
    expect(existsSync(join(dir, bootIdMarkerName))).toBe(false);
    env.closed();
  });

  it('reads this Linux machine a boot id', () => {
    expect(readBootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
