/** Small file helpers shared by the segment writer, reader and recovery. */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../lib/assert.ts';
import { fsyncDirectory } from '../lib/fsync-directory.ts';

/** Positional writev that keeps going after a short write. Buffers are passed on, not copied. */
export async function writeFully(fh: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let pos = position;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, pos);
    assert(bytesWritten > 0, 'writev wrote nothing');
    pos += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    pending = rest;
  }
}

/** Positional read that continues after short reads; returns the bytes read (fewer only at EOF). */
export async function readFully(fh: FileHandle, into: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await fh.read(into, got, into.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Atomic file replacement: write a temp file, fsync it, rename over the target, fsync the directory. */
export async function writeFileAtomic(dir: string, name: string, data: Buffer | string): Promise<void> {
  const target = join(dir, name);
  const temp = `${target}.tmp`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, target);
  await fsyncDirectory(dir);
}

/** Removes a file if it exists and makes the removal durable. */
export async function removeFileDurably(dir: string, name: string): Promise<boolean> {
  try {
    await unlink(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await fsyncDirectory(dir);
  return true;
}
