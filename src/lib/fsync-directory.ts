import { open } from 'node:fs/promises';

/** Makes a directory's entries (a created, renamed or removed file) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
