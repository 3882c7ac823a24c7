/** Pieces shared by the storage benchmark and its profiling script (storage-rows.prof.ts). */
import { closeSync, openSync, readSync } from 'node:fs';
import { makeBatch } from '../storage/batches.js';

export const MIB = 1024 * 1024;

export function mbps(bytes: number, ms: number): number { return bytes / MIB / (ms / 1000); }

/** A record batch of 1,000 records of 1,000 bytes (about 1 MiB), and raw bytes of the same size. */
export const oneMiBBatch = makeBatch(Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(1000, i) })));
export const payload = Buffer.alloc(oneMiBBatch.length, 7);

/** Raw sequential readSync of `bytes` of `path` into one reused 1 MiB buffer (the reference read rate), MB/s. */
export function rawReadSync(path: string, bytes: number): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(MIB);
  const t0 = performance.now();
  for (let pos = 0; pos < bytes;) { const n = readSync(fd, buf, 0, MIB, pos); if (n === 0) break; pos += n; }
  const ms = performance.now() - t0;
  closeSync(fd);
  return mbps(bytes, ms);
}
