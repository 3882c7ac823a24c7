import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { silentLogger, type Logger } from '../util/log.js';
import { defaultIo, writeFileAtomic, type StorageIo } from './io.js';

/** Raft hard state of one group: what must survive a crash before a vote or term change is acted on. */
export interface HardState {
  term: number;
  /** -1: voted for nobody in this term. */
  votedFor: number;
  /** Optional commit point, a bigint as a decimal string. */
  commitOffset?: string;
  /** Optional membership configuration, any JSON value. */
  config?: unknown;
}

export interface HardStateStoreOptions {
  io?: StorageIo;
  /** Rewrite the file when it exceeds this many bytes and 4x its live content (default 1 MiB). */
  compactBytes?: number;
}

const RECORD_HEADER = 8; // u32 payload length, u32 crc32 of the payload

interface Waiter { resolve: () => void; reject: (e: Error) => void }

/**
 * Node-level store of the Raft hard state of every group on a broker (Redpanda's kvstore idea):
 * one append-only file of checksummed records `[len u32][crc32 u32][JSON {g, s}]`, replayed on
 * open (a torn tail is cut off) and rewritten compactly when it grows. Every set()/delete() in
 * the same turn of the event loop, and all that arrive while an fsync runs, share one write and
 * one fdatasync: 10,000 groups electing at once cost a handful of fsyncs, not 10,000.
 */
export class HardStateStore {
  private readonly states = new Map<string, HardState>();
  private fd: number;
  private fileSize: number;
  private pending: Buffer[] = [];
  private waiters: Waiter[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private failed: Error | undefined;
  private closed = false;
  private readonly io: StorageIo;

  private constructor(readonly path: string, private readonly logger: Logger, private readonly options: HardStateStoreOptions, fd: number, size: number) {
    this.io = options.io ?? defaultIo;
    this.fd = fd;
    this.fileSize = size;
  }

  static async open(path: string, logger: Logger = silentLogger, options: HardStateStoreOptions = {}): Promise<HardStateStore> {
    const io = options.io ?? defaultIo;
    const existed = existsSync(path);
    const bytes = existed ? readFileSync(path) : Buffer.alloc(0);
    const { states, validBytes, records } = replay(bytes);
    const fd = openSync(path, existed ? 'r+' : 'w+');
    const store = new HardStateStore(path, logger.child({ hardState: path }), options, fd, validBytes);
    for (const [g, s] of states) store.states.set(g, s);
    if (validBytes < bytes.length) {
      store.logger.warn({ validBytes, fileBytes: bytes.length }, 'hard state file had a torn or corrupt tail; truncated');
      ftruncateSync(fd, validBytes);
      await io.fdatasync(fd);
    }
    if (!existed) await io.fsyncDir(dirname(path));
    if (records > 2 * states.size + 16) await store.compact();
    return store;
  }

  get(groupId: string): HardState | undefined { return this.states.get(groupId); }

  /** Group ids with a stored state. */
  groups(): IterableIterator<string> { return this.states.keys(); }

  set(groupId: string, state: HardState): Promise<void> {
    if (!Number.isInteger(state.term) || state.term < 0) throw new RangeError(`term ${state.term} must be a non-negative integer`);
    if (!Number.isInteger(state.votedFor) || state.votedFor < -1) throw new RangeError(`votedFor ${state.votedFor} must be -1 or a node id`);
    const copy: HardState = { term: state.term, votedFor: state.votedFor };
    if (state.commitOffset !== undefined) copy.commitOffset = state.commitOffset;
    if (state.config !== undefined) copy.config = state.config;
    return this.enqueue(groupId, copy);
  }

  delete(groupId: string): Promise<void> { return this.enqueue(groupId, null); }

  private enqueue(groupId: string, state: HardState | null): Promise<void> {
    if (this.closed) return Promise.reject(new Error('hard state store is closed'));
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (state === null) this.states.delete(groupId); else this.states.set(groupId, state);
    this.pending.push(encode(groupId, state));
    const p = new Promise<void>((resolve, reject) => { this.waiters.push({ resolve, reject }); });
    if (!this.scheduled && this.draining === undefined) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; this.startDrain(); });
    }
    return p;
  }

  private startDrain(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // set() calls made by waiters resolved in the last round found a drain still running.
      if (this.pending.length > 0 && !this.closed) this.startDrain();
    });
  }

  /** Write and fsync everything pending, batch after batch, until nothing is left. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = Buffer.concat(this.pending);
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        let done = 0;
        while (done < batch.length) done += writeSync(this.fd, batch, done, batch.length - done, this.fileSize + done);
        this.fileSize += batch.length;
        await this.io.fdatasync(this.fd);
      } catch (e) {
        this.failed = e instanceof Error ? e : new Error(String(e));
        this.logger.error({ err: this.failed }, 'hard state write failed; the store refuses further writes');
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
        this.waiters = [];
        this.pending = [];
        return;
      }
      for (const w of waiters) w.resolve();
      const threshold = this.options.compactBytes ?? 1024 * 1024;
      if (this.fileSize > threshold && this.fileSize > 4 * this.liveBytes()) await this.compact();
    }
  }

  private liveBytes(): number {
    let n = 0;
    for (const [g, s] of this.states) n += RECORD_HEADER + Buffer.byteLength(JSON.stringify({ g, s }));
    return n;
  }

  /** Rewrite the file with only live states (temp file, fsync, rename, fsync dir). */
  private async compact(): Promise<void> {
    const parts: Buffer[] = [];
    for (const [g, s] of this.states) parts.push(encode(g, s));
    const data = Buffer.concat(parts);
    await writeFileAtomic(this.path, data, true, this.io);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'r+');
    this.fileSize = data.length;
    this.logger.debug({ bytes: data.length, groups: this.states.size }, 'compacted hard state file');
  }

  /** Wait for pending writes, then close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.scheduled || this.draining !== undefined || this.pending.length > 0) {
      if (this.draining === undefined) { this.scheduled = false; this.startDrain(); }
      await this.draining;
    }
    this.closed = true;
    closeSync(this.fd);
  }
}

function encode(groupId: string, state: HardState | null): Buffer {
  const payload = Buffer.from(JSON.stringify({ g: groupId, s: state }));
  const buf = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  buf.writeUInt32BE(payload.length, 0);
  buf.writeUInt32BE(crc32(payload), 4);
  payload.copy(buf, RECORD_HEADER);
  return buf;
}

function replay(bytes: Buffer): { states: Map<string, HardState>; validBytes: number; records: number } {
  const states = new Map<string, HardState>();
  let pos = 0, records = 0;
  while (pos + RECORD_HEADER <= bytes.length) {
    const len = bytes.readUInt32BE(pos);
    if (pos + RECORD_HEADER + len > bytes.length) break;
    const payload = bytes.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + len);
    if (crc32(payload) !== bytes.readUInt32BE(pos + 4)) break;
    let rec: { g: string; s: HardState | null };
    try { rec = JSON.parse(payload.toString('utf8')) as { g: string; s: HardState | null }; } catch { break; }
    if (typeof rec.g !== 'string') break;
    if (rec.s === null) states.delete(rec.g); else states.set(rec.g, rec.s);
    pos += RECORD_HEADER + len;
    records++;
  }
  return { states, validBytes: pos, records };
}
