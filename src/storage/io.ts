import { close, closeSync, fdatasync, fsync, open, openSync, rename, writeFile, type PathLike } from 'node:fs';
import { promisify } from 'node:util';
import { LRUCache } from 'lru-cache';

const fdatasyncP = promisify(fdatasync);
const fsyncP = promisify(fsync);
const openP = promisify(open);
const closeP = promisify(close);
const renameP = promisify(rename);
const writeFileP = promisify(writeFile);

/**
 * The few durability calls storage makes, injectable so tests can count fsyncs or drop them.
 * Everything else is plain node:fs.
 */
export interface StorageIo {
  /** Make the file's data durable (fdatasync(2)). */
  fdatasync(fd: number): Promise<void>;
  /** Make a directory entry change (create, rename, unlink) durable (fsync(2) on the directory). */
  fsyncDir(dir: string): Promise<void>;
}

/**
 * Directory fsyncs are group-committed per path (10,000 partitions created under one data dir
 * cost a couple of fsyncs of it, not 10,000) and at most DIR_SYNC_CONCURRENCY run at once, so a
 * burst never holds thousands of directory descriptors.
 */
const DIR_SYNC_CONCURRENCY = 32;
interface Waiter { resolve: () => void; reject: (e: unknown) => void }
/** Per directory: callers waiting for the next fsync round (present while a round runs). */
const dirSyncs = new Map<string, Waiter[]>();
let dirSyncSlots = DIR_SYNC_CONCURRENCY;
const dirSyncWaiters: (() => void)[] = [];

async function fsyncDirNow(dir: string): Promise<void> {
  if (dirSyncSlots === 0) await new Promise<void>((resolve) => dirSyncWaiters.push(resolve));
  else dirSyncSlots--;
  try {
    const fd = await openP(dir, 'r');
    try { await fsyncP(fd); } finally { await closeP(fd); }
  } finally {
    const next = dirSyncWaiters.shift();
    if (next !== undefined) next(); else dirSyncSlots++;
  }
}

function coalescedFsyncDir(dir: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const next = dirSyncs.get(dir);
    if (next !== undefined) { next.push({ resolve, reject }); return; } // a round runs: join the next one
    dirSyncs.set(dir, []);
    const round = (batch: Waiter[]): void => {
      fsyncDirNow(dir).then(() => { for (const w of batch) w.resolve(); }, (e: unknown) => { for (const w of batch) w.reject(e); })
        .finally(() => {
          const waiting = dirSyncs.get(dir) ?? [];
          if (waiting.length === 0) { dirSyncs.delete(dir); return; }
          dirSyncs.set(dir, []);
          round(waiting);
        });
    };
    round([{ resolve, reject }]);
  });
}

export const defaultIo: StorageIo = {
  fdatasync: (fd) => fdatasyncP(fd),
  fsyncDir: coalescedFsyncDir,
};

/** Replace `path` atomically: write a temp file, optionally fsync it, rename, optionally fsync the dir. */
export async function writeFileAtomic(path: string, data: string | Buffer, durable: boolean, io: StorageIo): Promise<void> {
  const tmp = `${path}.tmp`;
  if (durable) {
    const fd = await openP(tmp, 'w');
    try {
      await writeFileP(fd, data);
      await io.fdatasync(fd);
    } finally { await closeP(fd); }
  } else {
    await writeFileP(tmp, data);
  }
  await renameP(tmp, path);
  if (durable) await io.fsyncDir(dirOf(path));
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * A reference-counted file descriptor: closed once it is both released by its owner and no
 * reader holds it, so an async read never races a close (fd numbers are reused).
 */
export class FdRef {
  private refs = 1;
  private closed = false;
  constructor(readonly fd: number) {}
  retain(): this { this.refs++; return this; }
  release(): void {
    if (--this.refs === 0 && !this.closed) { this.closed = true; closeSync(this.fd); }
  }
}

/**
 * Descriptors of segment files bounded by an LRU, so thousands of partitions do not exhaust file
 * handles: evicted descriptors close once their last user releases them, and the next use opens
 * the file again (an fdatasync through any descriptor covers the file's data).
 */
export class FdCache {
  private readonly lru: LRUCache<string, FdRef>;
  /** `flags`: 'r' for reading inactive segments, 'r+' for writing active ones. */
  constructor(max: number, private readonly flags: 'r' | 'r+' = 'r') {
    this.lru = new LRUCache<string, FdRef>({ max, dispose: (ref) => ref.release() });
  }
  /** A retained reference; the caller must release() it. */
  acquire(path: PathLike & string): FdRef {
    let ref = this.lru.get(path);
    if (ref === undefined) {
      ref = new FdRef(openSync(path, this.flags));
      this.lru.set(path, ref);
    }
    return ref.retain();
  }
  forget(path: string): void { this.lru.delete(path); }
  get size(): number { return this.lru.size; }
}

/** Shared by every PartitionLog of the process unless one is injected: inactive segments, read-only. */
export const sharedReadFdCache = new FdCache(1024);
/** Active (and rolled but not yet flushed) segments' read-write descriptors, shared the same way. */
export const sharedWriteFdCache = new FdCache(1024, 'r+');
