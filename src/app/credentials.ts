/**
 * Root credentials: from STRATA_ROOT_USER / STRATA_ROOT_PASSWORD, or generated on the first start
 * and kept in <data>/credentials.json (mode 0600), as MinIO does, so a restart keeps them.
 * Written atomically: temp file → fsync → rename → fsync directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface RootCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly generated: boolean;
}

export async function loadRootCredentials(dataDir: string, user: string | undefined, password: string | undefined): Promise<RootCredentials> {
  if (user && password) return { accessKeyId: user, secretAccessKey: password, generated: false };
  const file = join(dataDir, 'credentials.json');
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { accessKeyId?: unknown; secretAccessKey?: unknown };
    if (typeof saved.accessKeyId === 'string' && typeof saved.secretAccessKey === 'string') {
      return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey, generated: false };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const creds = {
    accessKeyId: `STRATA${randomBytes(7).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await writeFileAtomic(file, JSON.stringify(creds, null, 2) + '\n', 0o600);
  return { ...creds, generated: true };
}

export async function writeFileAtomic(file: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
