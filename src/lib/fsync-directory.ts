import { open } from 'node:fs/promises';

/** fsyncs what a path names: a file's data and metadata, or a directory's entries. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a directory's entries (a created, renamed or removed file) durable. */
export function fsyncDirectory(dir: string): Promise<void> {
  return fsyncPath(dir);
}
