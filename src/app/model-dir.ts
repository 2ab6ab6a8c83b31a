/**
 * Where a gateway's read model lives. A rebuild writes a new LMDB environment beside the live one
 * and then switches a pointer file (written atomically) to it, so the switch survives a crash at
 * any point: before the pointer moves, the old model is the model; after, the new one is.
 * (Renaming an open environment's directory would confuse LMDB's per-path environment cache.)
 *
 *   <data>/gateways/<id>/current        name of the live model directory
 *   <data>/gateways/<id>/<name>/        LMDB environment(s)
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './credentials.ts';

const pointerName = 'current';
const defaultName = 'readmodel';

export async function currentModelDir(gatewayDir: string): Promise<string> {
  try {
    const name = (await readFile(join(gatewayDir, pointerName), 'utf8')).trim();
    if (/^readmodel[\w.-]*$/.test(name)) return join(gatewayDir, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return join(gatewayDir, defaultName);
}

/** A fresh directory name for a rebuilt model. */
export function nextModelDir(gatewayDir: string, nowMs: number): string {
  return join(gatewayDir, `${defaultName}-${nowMs.toString(36)}`);
}

/** Makes `dir` the live model, then deletes every other model directory (stale or replaced). */
export async function switchModelDir(gatewayDir: string, dir: string): Promise<void> {
  const name = dir.slice(gatewayDir.length + 1);
  await writeFileAtomic(join(gatewayDir, pointerName), `${name}\n`, 0o644);
  for (const entry of await readdir(gatewayDir)) {
    if (entry !== name && entry.startsWith(defaultName)) await rm(join(gatewayDir, entry), { recursive: true, force: true });
  }
}
