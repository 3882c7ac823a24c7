import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultIo, type StorageIo } from '../../src/storage/io.js';

export function tempDir(prefix = 'raftka-storage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Real I/O that counts fdatasync and directory fsync calls. */
export function countingIo(): StorageIo & { syncs: number; dirSyncs: number } {
  const io = {
    syncs: 0,
    dirSyncs: 0,
    fdatasync(fd: number) { io.syncs++; return defaultIo.fdatasync(fd); },
    fsyncDir(dir: string) { io.dirSyncs++; return defaultIo.fsyncDir(dir); },
  };
  return io;
}
