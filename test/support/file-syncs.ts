/**
 * Watches every FileHandle fdatasync/fsync in this process: `around` runs in place of each, with
 * the handle and the real call to make. Returns what puts the real methods back.
 */
import { open, type FileHandle } from 'node:fs/promises';

export type SyncHook = (fh: FileHandle, sync: () => Promise<void>) => Promise<void>;

export async function hookFileSyncs(around: SyncHook): Promise<() => void> {
  const probe = await open(import.meta.filename, 'r');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const { datasync, sync } = proto;
  const wrap = (fn: () => Promise<void>) =>
    function (this: FileHandle): Promise<void> {
      return around(this, () => fn.call(this));
    };
  proto.datasync = wrap(datasync);
  proto.sync = wrap(sync);
  return () => {
    proto.datasync = datasync;
    proto.sync = sync;
  };
}
