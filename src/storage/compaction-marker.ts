/**
 * The compaction decision file, `<dataDir>/compaction.marker`: a UTF-8 JSON object followed by a
 * newline, replaced atomically (temp file, fsync, rename, fsync directory):
 *
 *   { "v": 1, "phase": "copying" | "deleting", "victims": [segmentId, ...], "startedAtMs": n }
 *
 * `copying`: victims are being copied; on open, roll back (remove the marker).
 * `deleting`: every live record of the victims is durable elsewhere and indexed; on open, finish
 * (drop the victims, then remove the marker). No marker: no compaction in progress.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeFileDurably, writeFileAtomic } from './file-io.ts';

export const MARKER_FILE = 'compaction.marker';

export interface CompactionMarker {
  readonly v: 1;
  readonly phase: 'copying' | 'deleting';
  readonly victims: readonly number[];
  readonly startedAtMs: number;
}

export async function writeMarker(dataDir: string, marker: CompactionMarker): Promise<void> {
  await writeFileAtomic(dataDir, MARKER_FILE, `${JSON.stringify(marker)}\n`);
}

export async function readMarker(dataDir: string): Promise<CompactionMarker | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, MARKER_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = JSON.parse(text) as Partial<CompactionMarker>;
  const ok =
    m.v === 1 &&
    (m.phase === 'copying' || m.phase === 'deleting') &&
    Array.isArray(m.victims) &&
    m.victims.every((id) => Number.isSafeInteger(id) && id >= 1) &&
    typeof m.startedAtMs === 'number';
  // The file is only ever replaced atomically, so a marker we cannot read is not a torn write.
  if (!ok) throw new Error(`unreadable compaction marker in ${dataDir}: ${text.slice(0, 200)}`);
  return m as CompactionMarker;
}

export async function removeMarker(dataDir: string): Promise<void> {
  await removeFileDurably(dataDir, MARKER_FILE);
}
