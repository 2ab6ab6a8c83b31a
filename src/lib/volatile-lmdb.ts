/**
 * LMDB environments that hold a cache or a projection (rebuildable: the shard index from the
 * segments, read models from the log) commit without fsync (LMDB `noSync`). That survives a crash
 * of the process — committed pages are in the page cache, and LMDB commits are atomic there — but
 * not a crash of the machine, which can lose or tear pages.
 *
 * So while such an environment is open, `<dir>/open-boot-id` holds the kernel's boot id (written
 * durably before the environment is opened); a clean close fsyncs `data.mdb` and removes it. An
 * environment found open under another boot id was open when the machine went down: it is
 * removed, and its owner rebuilds it. Where no boot id can be read (not Linux), environments are
 * opened with fsynced commits, as LMDB does by default, and no marker is written.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const bootIdMarkerName = 'open-boot-id';

/** The kernel's id of this boot, or undefined where there is none to read. */
export function readBootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
}

export interface VolatileOpenOptions {
  /** The boot id source (tests stand in a machine restart); readBootId by default. */
  readonly bootId?: () => string | undefined;
}

export interface VolatileEnv {
  /** Pass to lmdb's open(): no fsync per commit when the boot id guards the environment. */
  readonly noSync: boolean;
  /** The environment was found open under another boot id and removed: rebuild it. */
  readonly discardedAfterMachineRestart: boolean;
  /** After the environment is closed: make it durable and mark it clean. */
  closed(): void;
}

/** Prepares `dir` for an LMDB environment opened without fsync; call before lmdb's open(). */
export function prepareVolatileEnv(dir: string, opts: VolatileOpenOptions = {}): VolatileEnv {
  const bootId = (opts.bootId ?? readBootId)();
  if (bootId === undefined) return { noSync: false, discardedAfterMachineRestart: false, closed: () => {} };
  const marker = join(dir, bootIdMarkerName);
  let discarded = false;
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() !== bootId) {
    rmSync(dir, { recursive: true, force: true });
    discarded = true;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(marker, `${bootId}\n`);
  fsyncPath(marker);
  fsyncPath(dir);
  return {
    noSync: true,
    discardedAfterMachineRestart: discarded,
    closed: () => {
      // Everything committed is in the page cache: make it durable, then the environment is clean.
      const data = join(dir, 'data.mdb');
      if (existsSync(data)) fsyncPath(data);
      unlinkSync(marker);
      fsyncPath(dir);
    },
  };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
