import { existsSync, ftruncateSync, openSync, read, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BATCH_HEADER_SIZE, headerProblem, readHeader, type BatchHeader } from './batch-header.js';
import { OffsetIndex, TimeIndex } from './indexes.js';
import { FdRef, type FdCache } from './io.js';

const readP = promisify(read);
const WALK_CHUNK = 64 * 1024;
const RECENT_BATCHES = 64;
/** Sequential readers remembered per segment (consumers and followers reading the same segment). */
const READ_CURSORS = 8;

/** One batch's place in a segment. */
export interface BatchLocation {
  baseOffset: bigint;
  lastOffset: bigint;
  position: number;
  size: number;
  epoch: number;
  maxTimestamp: bigint;
}

export function segmentFileName(baseOffset: bigint, suffix: string): string {
  return `${baseOffset.toString().padStart(20, '0')}${suffix}`;
}

/** What a segment needs from its log. */
export interface SegmentEnv {
  indexIntervalBytes: number;
  warn: (message: string) => void;
  /** Read-write descriptors of writable segments (an LRU shared across logs). */
  readonly writers: FdCache;
}

/** A walk step: either a well-formed header (with its bytes when asked) or the reason it is not. */
export type WalkStep =
  | { position: number; header: BatchHeader; bytes: Buffer | undefined; problem?: undefined }
  | { position: number; problem: string; header?: undefined; bytes?: undefined };

/** Walk batch headers of a file range synchronously (recovery and index rebuilds). */
export function* walkBatchesSync(fd: number, start: number, end: number, withBytes: boolean): Generator<WalkStep> {
  let chunk = Buffer.allocUnsafe(0), chunkPos = 0;
  let pos = start;
  while (pos < end) {
    const available = end - pos;
    const need = Math.min(BATCH_HEADER_SIZE, available);
    if (pos < chunkPos || pos + need > chunkPos + chunk.length) {
      chunk = Buffer.allocUnsafe(Math.min(WALK_CHUNK, available));
      const n = readFully(fd, chunk, pos);
      chunk = chunk.subarray(0, n);
      chunkPos = pos;
      if (n < need) { yield { position: pos, problem: `file ends ${n} bytes into a batch header` }; return; }
    }
    const at = pos - chunkPos;
    const problem = headerProblem(chunk, at, available);
    if (problem !== undefined) { yield { position: pos, problem }; return; }
    const header = readHeader(chunk, at);
    let bytes: Buffer | undefined;
    if (withBytes) {
      if (at + header.size <= chunk.length) bytes = chunk.subarray(at, at + header.size);
      else {
        bytes = Buffer.allocUnsafe(header.size);
        if (readFully(fd, bytes, pos) < header.size) { yield { position: pos, problem: 'file ends inside a batch' }; return; }
      }
    }
    yield { position: pos, header, bytes };
    pos += header.size;
  }
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * One segment: `<base>.log` (batches exactly as stored), `<base>.index`, `<base>.timeindex`.
 * The active segment keeps a read-write descriptor; inactive ones read through a shared LRU of
 * descriptors. Indexes of inactive segments load lazily and are rebuilt from the log when their
 * files are missing or inconsistent.
 */
export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** Bytes of whole batches in the .log. */
  size: number;
  /** Bytes known durable (fdatasync'd). */
  flushedSize: number;
  /** Offset after the last batch; baseOffset when empty. Exact for the active segment. */
  nextOffset: bigint;
  /** Largest batch maxTimestamp, -1 when empty or not yet known. */
  maxTimestamp = -1n;
  /** Wall-clock ms of the first append since open (drives segment.ms), undefined when empty. */
  rollBaseMs: number | undefined;
  /** Active, or rolled and not yet flushed: its writes and fsyncs go through env.writers. */
  private writable = false;
  private offsetIndex: OffsetIndex | undefined;
  private timeIndex: TimeIndex | undefined;
  private relOffsetOfMaxTimestamp = 0;
  private bytesSinceIndexEntry = 0;
  private readonly recent: BatchLocation[] = [];
  /**
   * Where recent reads ended: the file position of the first batch whose last offset is >=
   * `offset` (a sequential reader's next fetch offset), newest last. Cleared when the file is cut.
   */
  private readonly cursors: { offset: bigint; position: number }[] = [];
  /** Bumped whenever the indexes are reset (truncation, recovery): a read that began before must not leave a cursor. */
  private resets = 0;
  private deleted = false;

  private constructor(readonly dir: string, readonly baseOffset: bigint, size: number, private readonly fdCache: FdCache, private readonly env: SegmentEnv) {
    this.logPath = join(dir, segmentFileName(baseOffset, '.log'));
    this.indexPath = join(dir, segmentFileName(baseOffset, '.index'));
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, '.timeindex'));
    this.size = size;
    this.flushedSize = size;
    this.nextOffset = baseOffset;
  }

  /** A new, empty, active segment (any stale files of that name are replaced). */
  static create(dir: string, baseOffset: bigint, fdCache: FdCache, env: SegmentEnv): Segment {
    const seg = new Segment(dir, baseOffset, 0, fdCache, env);
    fdCache.forget(seg.logPath);
    env.writers.forget(seg.logPath);
    closeQuietly(openSync(seg.logPath, 'w'));
    seg.writable = true;
    for (const p of [seg.indexPath, seg.timeIndexPath]) if (existsSync(p)) unlinkSync(p);
    seg.offsetIndex = new OffsetIndex();
    seg.timeIndex = new TimeIndex();
    return seg;
  }

  /** An existing segment of `size` valid bytes; indexes load on first use. */
  static existing(dir: string, baseOffset: bigint, size: number, fdCache: FdCache, env: SegmentEnv): Segment {
    return new Segment(dir, baseOffset, size, fdCache, env);
  }

  get isActive(): boolean { return this.writable; }
  get dirty(): boolean { return this.flushedSize < this.size; }

  /** Make this the active (writable) segment, e.g. the last segment after open. */
  openForAppend(): void {
    if (this.writable) return;
    this.fdCache.forget(this.logPath);
    this.env.writers.forget(this.logPath);
    this.writable = true;
  }

  /** Descriptor for reading; release() it when done. */
  acquireReader(): FdRef {
    if (this.deleted) throw new Error(`segment ${this.logPath} was deleted`);
    return this.writable ? this.env.writers.acquire(this.logPath) : this.fdCache.acquire(this.logPath);
  }

  /** Descriptor of the writer for fsync, retained; undefined when the segment is not writable. */
  retainWriter(): FdRef | undefined { return this.writable ? this.env.writers.acquire(this.logPath) : undefined; }

  // ---- indexes ---------------------------------------------------------------------------

  /** Load indexes, rebuilding them (and saying so) when their files are missing or inconsistent. */
  ensureIndexes(): void {
    if (this.offsetIndex !== undefined && this.timeIndex !== undefined) return;
    const relMax = Number(this.nextOffset > this.baseOffset ? this.nextOffset - this.baseOffset : 0x7fffffffn);
    const oi = existsSync(this.indexPath) ? OffsetIndex.parse(readFileSync(this.indexPath), Math.max(this.size, 1)) : undefined;
    const ti = existsSync(this.timeIndexPath) ? TimeIndex.parse(readFileSync(this.timeIndexPath), relMax) : undefined;
    if (oi !== undefined && ti !== undefined && !(this.size > 0 && ti.entries === 0)) {
      this.offsetIndex = oi;
      this.timeIndex = ti;
      this.maxTimestamp = ti.lastTimestamp;
      this.relOffsetOfMaxTimestamp = ti.lastRelOffset;
      return;
    }
    this.rebuildIndexes();
    if (!this.isActive) this.writeIndexFiles();
    this.env.warn(`${oi === undefined ? 'offset' : 'time'} index of segment ${this.baseOffset} was missing or inconsistent; rebuilt it from the log`);
  }

  /** Rebuild indexes (and nextOffset / maxTimestamp) from the log bytes, which are trusted. */
  rebuildIndexes(): void {
    this.resetIndexes();
    const ref = this.acquireReader();
    try {
      for (const step of walkBatchesSync(ref.fd, 0, this.size, false)) {
        if (step.problem !== undefined) throw new Error(`segment ${this.logPath} position ${step.position}: ${step.problem}`);
        const h = step.header;
        this.track({ baseOffset: h.baseOffset, lastOffset: h.baseOffset + BigInt(h.lastOffsetDelta), position: step.position, size: h.size, epoch: h.epoch, maxTimestamp: h.maxTimestamp });
      }
    } finally { ref.release(); }
    this.sealTimeIndex();
  }

  /** Empty in-memory indexes, to be refilled by track() during a scan of the whole segment. */
  resetIndexes(): void {
    this.offsetIndex = new OffsetIndex();
    this.timeIndex = new TimeIndex();
    this.maxTimestamp = -1n;
    this.relOffsetOfMaxTimestamp = 0;
    this.bytesSinceIndexEntry = 0;
    this.recent.length = 0;
    this.cursors.length = 0;
    this.resets++;
    this.nextOffset = this.baseOffset;
  }

  /** Account a batch that now sits at `loc.position` in the file. */
  track(loc: BatchLocation): void {
    const oi = this.offsetIndex!, ti = this.timeIndex!;
    const rel = Number(loc.baseOffset - this.baseOffset);
    if (loc.maxTimestamp > this.maxTimestamp) { this.maxTimestamp = loc.maxTimestamp; this.relOffsetOfMaxTimestamp = rel; }
    if (this.bytesSinceIndexEntry > this.env.indexIntervalBytes) {
      oi.append(rel, loc.position);
      ti.maybeAppend(this.maxTimestamp, this.relOffsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += loc.size;
    this.nextOffset = loc.lastOffset + 1n;
    this.recent.push(loc);
    if (this.recent.length > RECENT_BATCHES) this.recent.shift();
  }

  /** Final time-index entry so the segment's largest timestamp is on disk (Kafka does this on roll). */
  sealTimeIndex(): void {
    if (this.maxTimestamp >= 0n) this.timeIndex!.maybeAppend(this.maxTimestamp, this.relOffsetOfMaxTimestamp);
  }

  writeIndexFiles(): void {
    if (this.offsetIndex === undefined || this.timeIndex === undefined || this.deleted) return;
    writeAtomicSync(this.indexPath, this.offsetIndex.serialize());
    writeAtomicSync(this.timeIndexPath, this.timeIndex.serialize());
  }

  /** File position to start scanning for the batch containing `offset`. */
  scanPosition(offset: bigint): number { return this.locate(offset).position; }

  /**
   * Where to start scanning for the batch containing `offset`. `exact` when the batch at
   * `position` is known (from the recent batches or an index entry) to be the first batch whose
   * last offset is >= offset, so a read may start there without slack for skipping batches;
   * `size` is that batch's size when known.
   */
  locate(offset: bigint): { position: number; exact: boolean; size?: number } {
    const recent = this.locateRecent(offset);
    if (recent?.exact === true) return recent;
    const c = this.cursors;
    for (let i = c.length - 1; i >= 0; i--) if (c[i]!.offset === offset && c[i]!.position <= this.size) return { position: c[i]!.position, exact: true };
    return recent ?? this.locateIndexed(offset);
  }

  /** Pass to noteReadEnd: it ignores a read that a truncation overtook. */
  get readState(): number { return this.resets; }

  /**
   * A read returned the batches before file position `position`, ending at offset `offset`:
   * the next read from `offset` (a sequential reader's) starts there without an index lookup.
   */
  noteReadEnd(offset: bigint, position: number, readState: number): void {
    if (readState !== this.resets) return;
    const c = this.cursors;
    for (let i = 0; i < c.length; i++) if (c[i]!.offset === offset) { c.splice(i, 1); break; }
    c.push({ offset, position });
    if (c.length > READ_CURSORS) c.shift();
  }

  private locateRecent(offset: bigint): { position: number; exact: boolean; size?: number } | undefined {
    const r = this.recent;
    if (r.length > 0 && offset >= r[0]!.baseOffset) {
      for (let i = r.length - 1; i >= 0; i--) {
        const b = r[i]!;
        if (b.baseOffset <= offset) return b.lastOffset >= offset ? { position: b.position, exact: true, size: b.size } : { position: b.position, exact: false };
      }
    }
    return undefined;
  }

  private locateIndexed(offset: bigint): { position: number; exact: boolean } {
    this.ensureIndexes();
    const rel = Number(offset - this.baseOffset);
    const hit = this.offsetIndex!.lookup(rel);
    // An index entry is a batch's base offset; with no entry at or below, position 0 holds the
    // segment's first batch, whose base is the segment base only when nothing was compacted away.
    return { position: hit.position, exact: hit.relOffset === rel && (hit.position > 0 || rel === 0) };
  }

  /**
   * File position of the batch whose base offset is `offset` when the recent batches know it
   * (a read bounded by the high watermark stops there); the segment size for its next offset.
   */
  knownBatchStart(offset: bigint): number | undefined {
    if (offset === this.nextOffset && this.isActive) return this.size;
    const r = this.recent;
    if (r.length === 0 || offset < r[0]!.baseOffset) return undefined;
    for (let i = r.length - 1; i >= 0; i--) {
      const b = r[i]!;
      if (b.baseOffset === offset) return b.position;
      if (b.baseOffset < offset) return undefined;
    }
    return undefined;
  }

  /** File position to start scanning for the first record with timestamp >= ts. */
  timeScanPosition(ts: bigint): number {
    this.ensureIndexes();
    return this.offsetIndex!.lookup(this.timeIndex!.scanStart(ts)).position;
  }

  // ---- data ------------------------------------------------------------------------------

  /** Append bytes [start, end) of buf holding whole batches described by locs (positions relative to start). */
  append(buf: Buffer, start: number, end: number, locs: readonly BatchLocation[], nowMs: number): void {
    const w = this.retainWriter();
    if (w === undefined) throw new Error(`segment ${this.baseOffset} is not active`);
    this.ensureIndexes();
    let done = 0;
    const len = end - start;
    try {
      while (done < len) done += writeSync(w.fd, buf, start + done, len - done, this.size + done);
    } finally { w.release(); }
    const base = this.size;
    for (const loc of locs) this.track({ ...loc, position: base + loc.position });
    this.size += len;
    this.rollBaseMs ??= nowMs;
  }

  async readAt(position: number, length: number): Promise<Buffer> {
    const ref = this.acquireReader();
    try {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await readP(ref.fd, buf, done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    } finally { ref.release(); }
  }

  /** Cut the log at `position` (a batch boundary) whose first offset is `nextOffset`. */
  truncateTo(position: number, nextOffset: bigint): void {
    if (position >= this.size) return;
    const w = this.retainWriter();
    if (w !== undefined) {
      try { ftruncateSync(w.fd, position); } finally { w.release(); }
    } else {
      const fd = openSync(this.logPath, 'r+');
      try { ftruncateSync(fd, position); } finally { closeQuietly(fd); }
      this.fdCache.forget(this.logPath);
    }
    this.size = position;
    this.flushedSize = Math.min(this.flushedSize, position);
    this.rebuildIndexes();
    this.nextOffset = nextOffset;
    if (!this.isActive) this.writeIndexFiles();
    if (this.size === 0) this.rollBaseMs = undefined;
  }

  /** Stop being the active segment: seal and persist indexes; keep the writer until flushed. */
  deactivate(): void {
    this.sealTimeIndex();
    this.writeIndexFiles();
  }

  /** Close the writer once nothing is left to flush (the fsync path retains its own reference). */
  closeWriter(): void {
    if (!this.writable) return;
    this.writable = false;
    this.env.writers.forget(this.logPath);
  }

  /** Drop in-memory indexes of an inactive segment to bound memory; they reload on demand. */
  unloadIndexes(): void {
    if (this.isActive) return;
    this.offsetIndex = undefined;
    this.timeIndex = undefined;
    this.recent.length = 0;
    this.cursors.length = 0;
  }

  delete(): void {
    this.deleted = true;
    this.closeWriter();
    this.fdCache.forget(this.logPath);
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) {
      try { unlinkSync(p); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    }
  }
}

function writeAtomicSync(path: string, data: Buffer): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

function closeQuietly(fd: number): void {
  new FdRef(fd).release();
}
