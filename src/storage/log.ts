import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/log.js';
import {
  ATTR_COMPRESSION_MASK, ATTR_LOG_APPEND_TIME, BATCH_HEADER_SIZE, headerProblem, LOG_OVERHEAD,
  OFF_LAST_OFFSET_DELTA, OFF_MAX_TIMESTAMP, readHeader, setBaseOffset, setLeaderEpoch,
} from './batch-header.js';
import { EpochCache } from './epoch-cache.js';
import { InvalidRecordError, LogCorruptionError, OffsetOutOfRangeError, StorageStateError } from './errors.js';
import { defaultIo, sharedReadFdCache, sharedWriteFdCache, writeFileAtomic, type FdRef, type FdCache, type StorageIo } from './io.js';
import { Segment, walkBatchesSync, type BatchLocation, type SegmentEnv } from './segment.js';
import { TxnIndex, type AbortedTxn } from './txn-index.js';
import {
  cleanLog, emptyStats, readCleanerCheckpoint, recoverInterruptedSwaps, verifyCrc32c,
  type CleanerHost, type CompactionStats, type CompactOptions,
} from './cleaner.js';

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll the active segment this long after its first append. */
  segmentMs: number;
  /** index.interval.bytes: one offset/time index entry per this many log bytes. */
  indexIntervalBytes: number;
  /** retention.bytes: -1 for unlimited. */
  retentionBytes: number;
  /** retention.ms: -1 for unlimited. */
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** file.delete.delay.ms: deleted segments are renamed `.deleted` and unlinked after this delay. */
  fileDeleteDelayMs?: number;
  /** CRC check used by recovery (e.g. CRC32C of a v2 batch); default: no CRC check. */
  verifyCrc?: (buf: Buffer, offset: number) => boolean;
  /** delete.retention.ms: how long compaction keeps a tombstone after the pass that first cleaned it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: a segment is compacted only once its newest batch is at least this old. */
  minCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: compact only when dirty bytes / cleanable bytes exceeds this. */
  minCleanableDirtyRatio: number;
}

/** Kafka's defaults. */
export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  indexIntervalBytes: 4096,
  retentionBytes: -1,
  retentionMs: 604_800_000,
  cleanupPolicy: 'delete',
  fileDeleteDelayMs: 60_000,
  deleteRetentionMs: 86_400_000,
  minCompactionLagMs: 0,
  minCleanableDirtyRatio: 0.5,
};

/** Knobs that are not Kafka topic configs. */
export interface LogOptions {
  io?: StorageIo;
  clock?: Clock;
  fdCache?: FdCache;
  /** Read-write descriptors of writable segments (default: shared by the process, LRU-bounded). */
  writeFdCache?: FdCache;
  /**
   * What recovery does when data below the recovery point (known durable) is damaged:
   * 'fail' (default) refuses to open the partition; 'truncate' cuts the log at the last good
   * batch (for an operator or a Raft layer that re-replicates the rest from its peers).
   */
  onCorruption?: 'fail' | 'truncate';
  /** How often flush() also checkpoints the recovery point (default 10 s; rolls and close always do). */
  checkpointIntervalMs?: number;
}

export { OffsetOutOfRangeError, InvalidRecordError, LogCorruptionError, StorageStateError } from './errors.js';
export { CompactionInterrupted, type CompactionStats, type CompactOptions, type SwapStep } from './cleaner.js';
export type { AbortedTxn } from './txn-index.js';

const RECOVERY_CHECKPOINT = 'recovery-point-checkpoint';
const EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
const LOG_FILE = /^(\d{20})\.log$/;
const READ_SLACK = 64 * 1024;
const MAX_REL_OFFSET = 0x7fffffffn;

interface RecoveryCheckpoint {
  logStartOffset: bigint;
  recoveryPoint: bigint;
  /** Present only when written by close(): the state a clean reopen may trust without a scan. */
  clean?: { logEndOffset: bigint; activeBase: bigint; activeSize: number; lastEpoch: number };
}

/** A batch of an append, positioned relative to the start of the appended buffer. */
type PendingBatch = BatchLocation;

/**
 * One partition replica's log, which is also its Raft log (term = partitionLeaderEpoch).
 *
 * Durability: appends go to the page cache; flush() fdatasyncs and is group-committed (every
 * caller that arrives while an fsync runs shares the next one). `flushedOffset` is the exclusive
 * end of what an fsync has covered. The recovery point (what recovery may assume durable) and the
 * leader-epoch checkpoint are written after a flush on roll, every checkpointIntervalMs, on
 * truncation and on close.
 */
/** How open() found the log: new, shut down cleanly (no scan), or recovered after an unclean stop. */
export interface LogOpenInfo {
  readonly kind: 'new' | 'clean' | 'recovered';
  /** Bytes of a torn or corrupt tail that recovery cut off (0 unless recovered). */
  readonly truncatedBytes: number;
}

export class PartitionLog {
  private segments: Segment[] = [];
  /** What open() found (for the broker's start-up summary). */
  openInfo: LogOpenInfo = { kind: 'new', truncatedBytes: 0 };
  private startOffset = 0n;
  private flushed = 0n;
  private readonly epochs: EpochCache;
  private flushing: Promise<bigint> | undefined;
  private queuedFlush: Promise<bigint> | undefined;
  private dirDirty = false;
  /** The partition directory was created by open(): its entry in the parent is made durable by the first flush. */
  private createdDir = false;
  private checkpointWrites: Promise<void> = Promise.resolve();
  private checkpointDue = false;
  private checkpointedRecoveryPoint = 0n;
  private lastCheckpointMs: number;
  private closed = false;
  private readonly io: StorageIo;
  private readonly clock: Clock;
  private readonly fdCache: FdCache;
  private readonly pendingDeletes = new Set<NodeJS.Timeout>();
  private readonly segmentEnv: SegmentEnv;
  /** The running compaction pass, if any. */
  private cleaning: Promise<CompactionStats> | undefined;
  private closing = false;
  /** Cleaner's first dirty offset (loaded from cleaner-offset-checkpoint on first use). */
  private firstDirty: bigint | undefined;
  /** Bumped whenever compaction swaps segments, so a read that raced a swap retries. */
  private generation = 0;
  /** Aborted-transaction index and open transactions (every replica keeps it, from the appended batches). */
  readonly txn: TxnIndex;

  private constructor(readonly dir: string, private cfg: LogConfig, private readonly logger: Logger, private readonly options: LogOptions, epochs: EpochCache) {
    this.io = options.io ?? defaultIo;
    this.clock = options.clock ?? systemClock;
    this.fdCache = options.fdCache ?? sharedReadFdCache;
    this.epochs = epochs;
    this.txn = new TxnIndex(dir);
    this.lastCheckpointMs = this.clock.monotonic();
    this.segmentEnv = { indexIntervalBytes: cfg.indexIntervalBytes, warn: (m) => this.logger.warn(m), writers: options.writeFdCache ?? sharedWriteFdCache };
  }

  /** Open the log in `dir`, creating it when missing and recovering it after an unclean stop. */
  static async open(dir: string, config: Partial<LogConfig> = {}, logger: Logger = silentLogger, options: LogOptions = {}): Promise<PartitionLog> {
    const cfg: LogConfig = { ...DEFAULT_LOG_CONFIG, ...config };
    const created = mkdirSync(dir, { recursive: true }) !== undefined;
    const log = new PartitionLog(dir, cfg, logger.child({ log: dir }), options, new EpochCache());
    log.createdDir = created;
    await log.load();
    return log;
  }

  /** The topic's log settings as they are now (AlterConfigs changes them at runtime). */
  get config(): LogConfig { return this.cfg; }

  /**
   * Applies changed topic settings to the open log: the next roll check, retention and compaction
   * pass use them, and new index entries follow the new index interval.
   */
  reconfigure(changes: Partial<LogConfig>): void {
    this.cfg = { ...this.cfg, ...changes };
    this.segmentEnv.indexIntervalBytes = this.cfg.indexIntervalBytes;
  }

  get logStartOffset(): bigint { return this.startOffset; }
  get logEndOffset(): bigint { return this.active.nextOffset; }
  get lastEpoch(): number { return this.epochs.latestEpoch; }
  get flushedOffset(): bigint { return this.flushed; }
  /** Bytes of all segments. */
  get size(): number { return this.segments.reduce((n, s) => n + s.size, 0); }
  get segmentCount(): number { return this.segments.length; }
  /** Base offsets of the segments, oldest first (for tests and tools). */
  get segmentBaseOffsets(): bigint[] { return this.segments.map((s) => s.baseOffset); }

  private get active(): Segment { return this.segments[this.segments.length - 1]!; }

  // ---- append ----------------------------------------------------------------------------

  appendAsLeader(batches: Buffer, epoch: number, appendTimeMs?: number): { baseOffset: bigint; lastOffset: bigint } {
    this.checkOpen();
    if (epoch < this.epochs.latestEpoch) throw new StorageStateError(`leader epoch ${epoch} is older than the log's last epoch ${this.epochs.latestEpoch}`);
    const pending = parseBatches(batches);
    let next = this.logEndOffset;
    for (const b of pending) {
      const count = batches.readInt32BE(b.position + 57);
      const delta = batches.readInt32BE(b.position + OFF_LAST_OFFSET_DELTA);
      if (count <= 0 || delta !== count - 1) throw new InvalidRecordError(`batch at byte ${b.position}: lastOffsetDelta ${delta} does not match ${count} records`);
      setBaseOffset(batches, b.position, next);
      setLeaderEpoch(batches, b.position, epoch);
      b.baseOffset = next;
      b.lastOffset = next + BigInt(delta);
      b.epoch = epoch;
      next = b.lastOffset + 1n;
    }
    return this.appendBatches(batches, pending, appendTimeMs ?? this.clock.now());
  }

  appendAsFollower(batches: Buffer): { baseOffset: bigint; lastOffset: bigint } {
    this.checkOpen();
    const pending = parseBatches(batches);
    let expected = this.logEndOffset, epoch = this.epochs.latestEpoch;
    for (const b of pending) {
      if (b.baseOffset !== expected) throw new StorageStateError(`follower append: batch base offset ${b.baseOffset} where ${expected} was expected`);
      if (b.epoch < epoch) throw new StorageStateError(`follower append: epoch ${b.epoch} at offset ${b.baseOffset} is older than ${epoch}`);
      expected = b.lastOffset + 1n;
      epoch = b.epoch;
    }
    return this.appendBatches(batches, pending, this.clock.now());
  }

  private appendBatches(buf: Buffer, pending: PendingBatch[], nowMs: number): { baseOffset: bigint; lastOffset: bigint } {
    let groupStart = 0; // index into pending of the first batch not yet written
    const writeGroup = (end: number): void => {
      if (end === groupStart) return;
      const from = pending[groupStart]!.position, to = pending[end - 1]!.position + pending[end - 1]!.size;
      const locs = pending.slice(groupStart, end).map((b) => ({ ...b, position: b.position - from }));
      this.active.append(buf, from, to, locs, nowMs);
      groupStart = end;
    };
    let groupBytes = 0;
    for (let i = 0; i < pending.length; i++) {
      const b = pending[i]!;
      if (this.shouldRoll(groupBytes, b, nowMs)) {
        writeGroup(i);
        groupBytes = 0;
        this.roll(b.baseOffset);
      }
      groupBytes += b.size;
      this.txn.observe(this.active.baseOffset, buf, b.position);
      if (this.epochs.assign(b.epoch, b.baseOffset)) this.logger.debug({ epoch: b.epoch, startOffset: String(b.baseOffset) }, 'new leader epoch');
    }
    writeGroup(pending.length);
    return { baseOffset: pending[0]!.baseOffset, lastOffset: pending[pending.length - 1]!.lastOffset };
  }

  private shouldRoll(pendingBytes: number, b: PendingBatch, nowMs: number): boolean {
    const seg = this.active;
    const size = seg.size + pendingBytes;
    if (size === 0) return false;
    return size + b.size > this.config.segmentBytes
      || (seg.rollBaseMs !== undefined && nowMs - seg.rollBaseMs > this.config.segmentMs)
      || b.lastOffset - seg.baseOffset > MAX_REL_OFFSET;
  }

  private roll(baseOffset: bigint): void {
    const old = this.active;
    old.deactivate();
    if (!old.dirty) old.closeWriter();
    this.segments.push(Segment.create(this.dir, baseOffset, this.fdCache, this.segmentEnv));
    this.txn.onRoll(baseOffset);
    this.dirDirty = true;
    this.checkpointDue = true;
    this.logger.debug({ baseOffset: String(baseOffset) }, 'rolled segment');
  }

  // ---- flush -----------------------------------------------------------------------------

  flush(): Promise<bigint> {
    if (this.flushing !== undefined) {
      this.queuedFlush ??= this.flushing.then(() => { this.queuedFlush = undefined; return this.startFlush(); });
      return this.queuedFlush;
    }
    return this.startFlush();
  }

  private startFlush(): Promise<bigint> {
    if (this.flushed === this.logEndOffset && !this.dirDirty && !this.segments.some((s) => s.dirty)) return Promise.resolve(this.flushed);
    const p = this.runFlush().finally(() => { this.flushing = undefined; });
    this.flushing = p;
    return p;
  }

  private async runFlush(): Promise<bigint> {
    const target = this.logEndOffset;
    const work: { seg: Segment; size: number; ref: FdRef }[] = [];
    for (const seg of this.segments) {
      if (!seg.dirty) continue;
      const ref = seg.retainWriter();
      if (ref !== undefined) work.push({ seg, size: seg.size, ref });
    }
    const syncDir = this.dirDirty;
    this.dirDirty = false;
    try {
      // Issued together (with a FlushScheduler they join one sync round): the flush counts only
      // once every file's data and every directory entry it needs are durable.
      const createdDir = this.createdDir;
      await allOrFirstError([
        ...work.map((w) => this.io.fdatasync(w.ref.fd)),
        ...(syncDir ? [this.io.fsyncDir(this.dir)] : []),
        ...(createdDir ? [this.io.fsyncDir(dirname(this.dir))] : []),
      ]);
      if (createdDir) this.createdDir = false;
    } catch (e) {
      this.dirDirty ||= syncDir;
      throw e;
    } finally {
      for (const w of work) w.ref.release();
    }
    for (const w of work) {
      w.seg.flushedSize = Math.max(w.seg.flushedSize, Math.min(w.size, w.seg.size));
      if (w.seg !== this.active && !w.seg.dirty) w.seg.closeWriter();
    }
    if (target > this.flushed && target <= this.logEndOffset) this.flushed = target;
    if (this.checkpointDue || this.clock.monotonic() - this.lastCheckpointMs >= (this.options.checkpointIntervalMs ?? 10_000)) {
      await this.writeCheckpoints(this.flushed);
    }
    return this.flushed;
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /**
   * Checkpoint files are written one at a time: a flush (after a roll) and retention may both
   * want to write them, and two writes of one file through the same temporary name race (the
   * second rename finds no file, and the older content could land last).
   */
  private serialiseCheckpoint(write: () => Promise<void>): Promise<void> {
    const next = this.checkpointWrites.then(write, write);
    this.checkpointWrites = next.catch(() => undefined);
    return next;
  }

  /** Epochs first, then the recovery point, both durable: a recovery point on disk always has its epochs on disk. */
  private writeCheckpoints(recoveryPoint: bigint, clean?: RecoveryCheckpoint['clean']): Promise<void> {
    this.checkpointDue = false;
    this.lastCheckpointMs = this.clock.monotonic();
    return this.serialiseCheckpoint(async () => {
      await this.txn.writeDirty(this.io);
      await writeFileAtomic(join(this.dir, EPOCH_CHECKPOINT), this.epochs.serialize(), true, this.io);
      await this.writeRecoveryCheckpointNow({ logStartOffset: this.startOffset, recoveryPoint, clean });
    });
  }

  private writeRecoveryCheckpoint(cp: RecoveryCheckpoint): Promise<void> {
    return this.serialiseCheckpoint(() => this.writeRecoveryCheckpointNow(cp));
  }

  private async writeRecoveryCheckpointNow(cp: RecoveryCheckpoint): Promise<void> {
    const body = JSON.stringify({
      logStartOffset: String(cp.logStartOffset),
      recoveryPoint: String(cp.recoveryPoint),
      clean: cp.clean === undefined ? undefined : {
        logEndOffset: String(cp.clean.logEndOffset), activeBase: String(cp.clean.activeBase),
        activeSize: cp.clean.activeSize, lastEpoch: cp.clean.lastEpoch,
      },
    });
    await writeFileAtomic(join(this.dir, RECOVERY_CHECKPOINT), `${crc32(body)} ${body}\n`, true, this.io);
    this.checkpointedRecoveryPoint = cp.recoveryPoint;
  }

  private readRecoveryCheckpoint(): RecoveryCheckpoint | undefined {
    let text: string;
    try { text = readFileSync(join(this.dir, RECOVERY_CHECKPOINT), 'utf8'); } catch { return undefined; }
    const m = /^(\d+) (.*)\n$/s.exec(text);
    if (m === null || Number(m[1]) !== crc32(m[2]!)) { this.logger.warn('recovery checkpoint is corrupt; scanning the whole log'); return undefined; }
    try {
      const o = JSON.parse(m[2]!) as { logStartOffset: string; recoveryPoint: string; clean?: { logEndOffset: string; activeBase: string; activeSize: number; lastEpoch: number } };
      return {
        logStartOffset: BigInt(o.logStartOffset), recoveryPoint: BigInt(o.recoveryPoint),
        clean: o.clean === undefined ? undefined : {
          logEndOffset: BigInt(o.clean.logEndOffset), activeBase: BigInt(o.clean.activeBase),
          activeSize: o.clean.activeSize, lastEpoch: o.clean.lastEpoch,
        },
      };
    } catch { return undefined; }
  }

  // ---- open and recovery -----------------------------------------------------------------

  private async load(): Promise<void> {
    await recoverInterruptedSwaps(this.dir, this.io, this.fdCache, this.logger);
    const bases: bigint[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.tmp') || name.endsWith('.deleted')) { unlinkSync(join(this.dir, name)); continue; }
      const m = LOG_FILE.exec(name);
      if (m !== null) bases.push(BigInt(m[1]!));
    }
    bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const cp = this.readRecoveryCheckpoint();
    let epochText: string | undefined;
    try { epochText = readFileSync(join(this.dir, EPOCH_CHECKPOINT), 'utf8'); } catch { epochText = undefined; }
    const savedEpochs = epochText === undefined ? undefined : EpochCache.parse(epochText);
    if (epochText !== undefined && savedEpochs === undefined) this.logger.warn('leader-epoch-checkpoint is corrupt; rebuilding it from the log');

    if (bases.length === 0) {
      this.startOffset = cp?.logStartOffset ?? 0n;
      this.segments = [Segment.create(this.dir, this.startOffset, this.fdCache, this.segmentEnv)];
      this.txn.load([this.startOffset]);
      this.flushed = this.startOffset;
      // An empty log keeps the epoch of the offset just below its start (EpochCache.truncateFromStart, resetAt).
      if (savedEpochs !== undefined) this.adoptEpochs(savedEpochs, this.startOffset);
      // No fsync here (creating 10,000 partitions must not cost 10,000 fsyncs): the first flush
      // makes the new files durable, and a missing checkpoint only means recovery scans it all.
      this.dirDirty = true;
      return;
    }

    this.segments = bases.map((b) => Segment.existing(this.dir, b, statSync(join(this.dir, `${b.toString().padStart(20, '0')}.log`)).size, this.fdCache, this.segmentEnv));
    for (let i = 0; i + 1 < this.segments.length; i++) this.segments[i]!.nextOffset = this.segments[i + 1]!.baseOffset;
    this.startOffset = cp !== undefined && cp.logStartOffset > bases[0]! ? cp.logStartOffset : bases[0]!;
    const last = this.active;
    this.txn.load(bases);

    if (cp?.clean !== undefined && cp.clean.activeBase === last.baseOffset && cp.clean.activeSize === last.size && savedEpochs !== undefined) {
      // Clean shutdown and nothing appended since: trust everything, no scan.
      last.nextOffset = cp.clean.logEndOffset;
      last.openForAppend();
      last.ensureIndexes();
      this.adoptEpochs(savedEpochs, last.nextOffset);
      this.flushed = last.nextOffset;
      this.checkpointedRecoveryPoint = cp.recoveryPoint;
      this.openInfo = { kind: 'clean', truncatedBytes: 0 };
      if (this.txn.adoptTail(last.baseOffset, last.nextOffset) === 'stale') this.rescanTxns(last);
      return;
    }
    await this.recover(cp, savedEpochs);
  }

  private adoptEpochs(saved: EpochCache, before: bigint): void {
    saved.truncateFromEnd(before);
    for (const e of saved.entries) this.epochs.assign(e.epoch, e.startOffset);
  }

  /**
   * Unclean stop: segments wholly below the recovery point are trusted; from the segment that
   * holds the recovery point on, every batch is checked (header, offsets, epochs, CRC) and the
   * log is cut at the first bad one. A bad batch below the recovery point was durable, so the
   * partition refuses to open instead of silently losing it.
   */
  private async recover(cp: RecoveryCheckpoint | undefined, savedEpochs: EpochCache | undefined): Promise<void> {
    const recoveryPoint = cp?.recoveryPoint ?? this.segments[0]!.baseOffset;
    if (cp === undefined) this.logger.info('no recovery checkpoint; scanning every segment');
    let first = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseOffset <= recoveryPoint) first = i;
    const scanFrom = this.segments[first]!.baseOffset;

    if (savedEpochs !== undefined) this.adoptEpochs(savedEpochs, scanFrom);
    else {
      for (const seg of this.segments.slice(0, first)) {
        const ref = seg.acquireReader();
        try {
          for (const step of walkBatchesSync(ref.fd, 0, seg.size, false)) {
            if (step.problem !== undefined) throw new LogCorruptionError(this.dir, `segment ${seg.baseOffset} position ${step.position} (below the recovery point ${recoveryPoint}): ${step.problem}`);
            this.epochs.assign(step.header.epoch, step.header.baseOffset);
          }
        } finally { ref.release(); }
      }
    }

    // Transactions are replayed from the last segment starting below the recovery point: that
    // segment existed when the recovery point was checkpointed, so its txn file (the open
    // transactions at its base) was written first. The segment holding the recovery point may
    // start exactly there and be newer than that checkpoint.
    let txnFirst = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseOffset < recoveryPoint) txnFirst = i;
    if (txnFirst > first) txnFirst = first;
    for (let i = txnFirst; i < first; i++) {
      const seg = this.segments[i]!;
      if (i === txnFirst) this.txn.beginSegmentScan(seg.baseOffset); else this.txn.enterSegment(seg.baseOffset);
      const ref = seg.acquireReader();
      try { this.txn.scanFile(seg.baseOffset, ref.fd, seg.size); } finally { ref.release(); }
    }

    const strict = !this.config.cleanupPolicy.includes('compact');
    let expected: bigint | undefined;
    let cut: { seg: number; position: number; reason: string } | undefined;
    let lastGoodNext = scanFrom;
    for (let i = first; i < this.segments.length && cut === undefined; i++) {
      const seg = this.segments[i]!;
      seg.resetIndexes();
      if (i === txnFirst) this.txn.beginSegmentScan(seg.baseOffset); else this.txn.enterSegment(seg.baseOffset);
      if (strict && i === first) expected = seg.baseOffset;
      const ref = seg.acquireReader();
      try {
        for (const step of walkBatchesSync(ref.fd, 0, seg.size, this.config.verifyCrc !== undefined)) {
          let reason = step.problem;
          const h = step.header;
          if (h !== undefined) {
            if (h.baseOffset < seg.baseOffset) reason = `base offset ${h.baseOffset} is below the segment base ${seg.baseOffset}`;
            else if (expected !== undefined && (strict ? h.baseOffset !== expected : h.baseOffset < expected)) reason = `base offset ${h.baseOffset} where ${expected} was expected`;
            else if (h.baseOffset + BigInt(h.lastOffsetDelta) - seg.baseOffset > MAX_REL_OFFSET) reason = 'offset too far from the segment base';
            else if (h.epoch < this.epochs.latestEpoch) reason = `epoch ${h.epoch} is older than ${this.epochs.latestEpoch}`;
            else if (this.config.verifyCrc !== undefined && !this.config.verifyCrc(step.bytes!, 0)) reason = 'CRC mismatch';
          }
          if (reason !== undefined) { cut = { seg: i, position: step.position, reason }; break; }
          const lastOffset = h!.baseOffset + BigInt(h!.lastOffsetDelta);
          seg.track({ baseOffset: h!.baseOffset, lastOffset, position: step.position, size: h!.size, epoch: h!.epoch, maxTimestamp: h!.maxTimestamp });
          this.txn.observeAt(seg.baseOffset, ref.fd, step.position, h!.attributes, h!.size);
          this.epochs.assign(h!.epoch, h!.baseOffset);
          expected = lastOffset + 1n;
          lastGoodNext = expected;
        }
      } finally { ref.release(); }
      if (cut === undefined) expected ??= seg.nextOffset;
    }

    const lostDurable = lastGoodNext < recoveryPoint;
    let truncatedBytes = 0;
    if (cut !== undefined || lostDurable) {
      const where = cut === undefined
        ? `the log ends at offset ${lastGoodNext}`
        : `segment ${this.segments[cut.seg]!.baseOffset} position ${cut.position} (offset ${lastGoodNext}): ${cut.reason}`;
      if (lostDurable && (this.options.onCorruption ?? 'fail') === 'fail') {
        throw new LogCorruptionError(this.dir, `data below the recovery point ${recoveryPoint} is damaged or missing: ${where}; refusing to open the partition`);
      }
      if (cut !== undefined) {
        const seg = this.segments[cut.seg]!;
        const removed = this.segments.slice(cut.seg + 1);
        const lostBytes = seg.size - cut.position + removed.reduce((n, s) => n + s.size, 0);
        truncatedBytes = lostBytes;
        this.logger.warn({ truncatedFromOffset: String(lastGoodNext), lostBytes, removedSegments: removed.length }, `recovery truncated a torn or corrupt tail at ${where}`);
        for (const s of removed) { s.delete(); this.txn.dropSegment(s.baseOffset); }
        this.segments = this.segments.slice(0, cut.seg + 1);
        seg.truncateTo(cut.position, lastGoodNext);
        this.dirDirty = true;
      }
    }
    for (let i = first; i < this.segments.length - 1; i++) {
      const seg = this.segments[i]!;
      seg.sealTimeIndex();
      seg.writeIndexFiles();
    }
    // An empty segment that is not the first cannot hold the log end after a torn roll; that is fine.
    const active = this.active;
    active.openForAppend();
    if (active.nextOffset < lastGoodNext) active.nextOffset = lastGoodNext;
    this.epochs.truncateFromEnd(this.logEndOffset);
    if (this.startOffset > this.logEndOffset) this.startOffset = this.logEndOffset;
    // What survived may only be in the page cache: make it durable before calling it flushed.
    for (const seg of this.segments.slice(first)) seg.flushedSize = 0;
    this.flushed = scanFrom;
    this.checkpointDue = true;
    this.openInfo = { kind: 'recovered', truncatedBytes };
    this.logger.info({ recoveryPoint: String(recoveryPoint), logEndOffset: String(this.logEndOffset), scannedSegments: this.segments.length - first }, 'recovered log');
    await this.flush();
  }

  // ---- read ------------------------------------------------------------------------------

  async read(fromOffset: bigint, maxBytes: number, maxOffset?: bigint): Promise<{ records: Buffer; firstOffset: bigint; nextOffset: bigint }> {
    this.checkOpen();
    try {
      return await this.retryingSwaps(() => this.readUnchecked(fromOffset, maxBytes, maxOffset));
    } catch (e) {
      // Retention may delete the segment under a read that started before it moved the log start.
      if (!(e instanceof OffsetOutOfRangeError) && fromOffset < this.startOffset) throw new OffsetOutOfRangeError(fromOffset, this.startOffset, this.logEndOffset);
      throw e;
    }
  }

  private async readUnchecked(fromOffset: bigint, maxBytes: number, maxOffset?: bigint): Promise<{ records: Buffer; firstOffset: bigint; nextOffset: bigint }> {
    const end = this.logEndOffset;
    if (fromOffset < this.startOffset || fromOffset > end) throw new OffsetOutOfRangeError(fromOffset, this.startOffset, end);
    const limit = maxOffset === undefined || maxOffset > end ? end : maxOffset;
    const empty = { records: Buffer.alloc(0), firstOffset: fromOffset, nextOffset: fromOffset };
    if (fromOffset >= limit) return empty;
    const wanted = Math.max(maxBytes, 0);
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (fromOffset >= seg.nextOffset && seg !== this.active) continue;
      // Bytes at or past the limit (the high watermark) are never returned: when the recent
      // batches know where the limit's batch starts, the read stops there.
      const stop = limit < seg.nextOffset ? seg.knownBatchStart(limit) ?? seg.size : seg.size;
      const readState = seg.readState;
      const found = await this.findBatch(seg, fromOffset, wanted, stop);
      if (found === undefined) {
        if (stop < seg.size) return empty;
        continue;
      }
      const { position, chunk, at } = found;
      const firstSize = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
      const want = Math.min(stop - position, Math.max(wanted, firstSize));
      if (want < firstSize) return empty; // the first batch reaches the limit
      const buf = at + want <= chunk.length ? chunk.subarray(at, at + want) : await seg.readAt(position, want);
      let taken = 0, next = fromOffset, firstOffset: bigint | undefined;
      while (taken + BATCH_HEADER_SIZE <= buf.length) {
        const size = LOG_OVERHEAD + buf.readInt32BE(taken + 8);
        if (taken + size > buf.length) break;
        const base = buf.readBigInt64BE(taken);
        const last = base + BigInt(buf.readInt32BE(taken + OFF_LAST_OFFSET_DELTA));
        if (last >= limit) break;
        firstOffset ??= base;
        taken += size;
        next = last + 1n;
      }
      if (firstOffset === undefined) return empty;
      seg.noteReadEnd(next, position + taken, readState);
      return { records: buf.subarray(0, taken), firstOffset, nextOffset: next };
    }
    return empty;
  }

  /** Run `op`, again when compaction swapped segments under it (a swapped-out segment refuses reads). */
  private async retryingSwaps<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      try {
        return await op();
      } catch (e) {
        if (generation === this.generation || attempt >= 3) throw e;
      }
    }
  }

  /**
   * Locate the first batch of `seg` (below file position `end`) whose last offset is >= offset;
   * chunk[at] is its first byte and the chunk holds up to `maxBytes` from there when the file
   * does. When the segment knows exactly where that batch starts (a sequential reader asks for
   * the offset after its last batch), one read of just the bytes a read may return fetches it;
   * otherwise chunks of maxBytes plus READ_SLACK are scanned from the index position.
   */
  private async findBatch(seg: Segment, offset: bigint, maxBytes: number, end = seg.size): Promise<{ position: number; chunk: Buffer; at: number } | undefined> {
    const start = seg.locate(offset);
    let position = start.position;
    // Exact: a first batch larger than maxBytes costs a second read of it (rare: Fetch and Raft
    // read up to 1 MiB); otherwise the slack covers the batches skipped from the index entry.
    const readAhead = !start.exact ? maxBytes + READ_SLACK : Math.max(maxBytes, start.size ?? BATCH_HEADER_SIZE);
    let chunk: Buffer = Buffer.alloc(0), chunkPos = position;
    while (position < end) {
      if (position + BATCH_HEADER_SIZE > chunkPos + chunk.length) {
        chunk = await seg.readAt(position, Math.min(end - position, readAhead));
        chunkPos = position;
        if (chunk.length < BATCH_HEADER_SIZE) return undefined;
      }
      const at = position - chunkPos;
      const last = chunk.readBigInt64BE(at) + BigInt(chunk.readInt32BE(at + OFF_LAST_OFFSET_DELTA));
      if (last >= offset) return { position, chunk, at };
      position += LOG_OVERHEAD + chunk.readInt32BE(at + 8);
    }
    return undefined;
  }

  /** Index of the last segment whose base offset is <= offset (0 when none). */
  private segmentIndexFor(offset: bigint): number {
    let lo = 0, hi = this.segments.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  // ---- epochs ----------------------------------------------------------------------------

  epochStartOffset(epoch: number): bigint | undefined { return this.epochs.startOffset(epoch); }

  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: bigint } {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  epochAt(offset: bigint): number | undefined {
    if (offset < this.startOffset || offset >= this.logEndOffset) return undefined;
    return this.epochs.epochForOffset(offset);
  }

  /** The epoch cache entries (epoch → start offset), oldest first. */
  get epochEntries(): readonly { epoch: number; startOffset: bigint }[] { return this.epochs.entries; }

  // ---- truncation ------------------------------------------------------------------------

  /**
   * Remove every offset >= offset. A truncation point inside a batch removes that whole batch
   * (the log end becomes its base offset). Throws if offset is below `committedOffset` (the
   * caller's commit point / high watermark) or below the log start. Durable when it resolves.
   */
  async truncateTo(offset: bigint, committedOffset?: bigint): Promise<void> {
    this.checkOpen();
    if (committedOffset !== undefined && offset < committedOffset) throw new StorageStateError(`truncation to ${offset} is below the commit point ${committedOffset}`);
    if (offset < this.startOffset) throw new StorageStateError(`truncation to ${offset} is below the log start offset ${this.startOffset}`);
    while (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    if (offset >= this.logEndOffset) return;
    const i = this.segmentIndexFor(offset);
    const seg = this.segments[i]!;
    const found = await this.findBatch(seg, offset, 0);
    const position = found?.position ?? seg.size;
    const newEnd = found === undefined ? seg.nextOffset : found.chunk.readBigInt64BE(found.at);
    if (newEnd < this.startOffset) throw new StorageStateError(`truncation to ${offset} would cut the batch holding the log start offset ${this.startOffset}`);
    // The recovery point on disk must not claim what is about to disappear.
    if (this.checkpointedRecoveryPoint > newEnd) await this.writeRecoveryCheckpoint({ logStartOffset: this.startOffset, recoveryPoint: newEnd });
    const removed = this.segments.slice(i + 1);
    for (const s of removed) { s.delete(); this.txn.dropSegment(s.baseOffset); }
    this.segments = this.segments.slice(0, i + 1);
    seg.openForAppend();
    seg.truncateTo(position, newEnd);
    this.rescanTxns(seg);
    const ref = seg.retainWriter()!;
    try { await this.io.fdatasync(ref.fd); } finally { ref.release(); }
    if (removed.length > 0) await this.io.fsyncDir(this.dir);
    this.epochs.truncateFromEnd(newEnd);
    if (this.flushed > newEnd) this.flushed = newEnd;
    if (this.firstDirty !== undefined && this.firstDirty > newEnd) this.firstDirty = newEnd;
    this.checkpointDue = true;
    this.logger.info({ offset: String(offset), logEndOffset: String(newEnd), removedSegments: removed.length }, 'truncated log');
  }

  /**
   * Kafka's truncateFullyAndStartAt: delete every segment and restart the log, empty, at `offset`
   * (its log start and end). A follower does this when its leader no longer has the offsets it
   * needs (retention or DeleteRecords moved the leader's log start past them). Durable when it
   * resolves; a crash in between leaves an empty log at the old or the new start.
   * `epochBelow` (>= 0, optional) is the epoch of the leader's entry at offset - 1: the epoch cache
   * keeps it (at offset - 1, in the leader-epoch checkpoint) as the emptied log's last epoch.
   */
  async truncateFullyAndStartAt(offset: bigint, epochBelow = -1): Promise<void> {
    this.checkOpen();
    await this.cleaning?.catch(() => undefined);
    while (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    const old = this.segments;
    for (const s of old) s.delete();
    this.txn.reset(offset);
    await this.io.fsyncDir(this.dir);
    this.segments = [Segment.create(this.dir, offset, this.fdCache, this.segmentEnv)];
    this.startOffset = offset;
    this.flushed = offset;
    this.epochs.resetAt(offset, epochBelow);
    this.firstDirty = offset;
    this.generation++;
    this.dirDirty = true;
    await this.flush();
    await this.writeCheckpoints(offset);
    this.logger.info({ logStartOffset: String(offset), removedSegments: old.length }, 'log emptied and restarted at the leader\'s log start');
  }

  // ---- timestamps ------------------------------------------------------------------------

  /** First offset whose record timestamp is >= ts (ListOffsets), or undefined if none. */
  async offsetForTimestamp(ts: bigint): Promise<{ offset: bigint; timestamp: bigint } | undefined> {
    this.checkOpen();
    return this.retryingSwaps(() => this.offsetForTimestampUnchecked(ts));
  }

  private async offsetForTimestampUnchecked(ts: bigint): Promise<{ offset: bigint; timestamp: bigint } | undefined> {
    for (const seg of this.segments) {
      seg.ensureIndexes();
      if (seg.maxTimestamp < ts || seg.size === 0) continue;
      const end = seg.size;
      let position = seg.timeScanPosition(ts);
      while (position < end) {
        const head = await seg.readAt(position, Math.min(BATCH_HEADER_SIZE, end - position));
        if (head.length < BATCH_HEADER_SIZE) break;
        const h = readHeader(head, 0);
        if (h.maxTimestamp >= ts && h.baseOffset + BigInt(h.lastOffsetDelta) >= this.startOffset) {
          const exact = (h.attributes & (ATTR_COMPRESSION_MASK | ATTR_LOG_APPEND_TIME)) === 0
            ? firstRecordAtOrAfter(await seg.readAt(position, h.size), ts, h.baseOffset, h.baseTimestamp)
            : undefined;
          const hit = exact ?? { offset: h.baseOffset, timestamp: h.maxTimestamp };
          return hit.offset < this.startOffset ? { offset: this.startOffset, timestamp: hit.timestamp } : hit;
        }
        position += h.size;
      }
    }
    return undefined;
  }

  // ---- retention -------------------------------------------------------------------------

  /**
   * Delete whole segments past retention.ms / retention.bytes, or wholly below the log start
   * offset, never the active segment and never data at or above `highWatermark`. Moves the log
   * start offset and persists it. Returns the number of segments deleted.
   */
  async deleteOldSegments(nowMs: number = this.clock.now(), highWatermark?: bigint): Promise<number> {
    this.checkOpen();
    const deletePolicy = this.config.cleanupPolicy.includes('delete');
    let excessBytes = deletePolicy && this.config.retentionBytes >= 0 ? this.size - this.config.retentionBytes : 0;
    let n = 0;
    for (; n < this.segments.length - 1; n++) {
      const seg = this.segments[n]!;
      const next = this.segments[n + 1]!.baseOffset;
      if (highWatermark !== undefined && next > highWatermark) break;
      seg.ensureIndexes();
      const belowStart = next <= this.startOffset;
      const expired = deletePolicy && this.config.retentionMs >= 0 && nowMs - Number(seg.maxTimestamp) > this.config.retentionMs;
      const oversize = excessBytes >= seg.size && excessBytes > 0;
      if (!belowStart && !expired && !oversize) break;
      excessBytes -= seg.size;
    }
    if (n === 0) return 0;
    const doomed = this.segments.slice(0, n);
    this.segments = this.segments.slice(n);
    const newStart = this.segments[0]!.baseOffset;
    if (newStart > this.startOffset) this.startOffset = newStart;
    this.epochs.truncateFromStart(this.startOffset);
    await this.writeCheckpoints(this.flushed < this.startOffset ? this.startOffset : this.flushed);
    for (const seg of doomed) this.removeSegmentFiles(seg);
    this.logger.info({ segments: n, logStartOffset: String(this.startOffset) }, 'retention deleted segments');
    return n;
  }

  /** DeleteRecords: move the log start offset to `offset` (<= the high watermark, the caller's check). Durable on resolve. */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    this.checkOpen();
    if (offset > this.logEndOffset) throw new OffsetOutOfRangeError(offset, this.startOffset, this.logEndOffset);
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    this.epochs.truncateFromStart(offset);
    await this.writeCheckpoints(this.flushed < offset ? offset : this.flushed);
    await this.deleteOldSegments(this.clock.now(), offset);
    return this.startOffset;
  }

  private removeSegmentFiles(seg: Segment): void {
    this.txn.dropSegment(seg.baseOffset);
    const delay = this.config.fileDeleteDelayMs ?? 0;
    if (delay <= 0) { seg.delete(); return; }
    for (const p of [seg.logPath, seg.indexPath, seg.timeIndexPath]) {
      try { renameSync(p, `${p}.deleted`); } catch { /* index files may not exist */ }
    }
    seg.closeWriter();
    const timer = setTimeout(() => {
      this.pendingDeletes.delete(timer);
      for (const p of [seg.logPath, seg.indexPath, seg.timeIndexPath]) { try { unlinkSync(`${p}.deleted`); } catch { /* gone */ } }
    }, delay);
    timer.unref();
    this.pendingDeletes.add(timer);
  }

  // ---- compaction ------------------------------------------------------------------------

  /**
   * One log-compaction pass (cleanup.policy=compact or compact,delete), Kafka's LogCleaner for
   * this partition: keeps the latest record of each key below the first uncleanable offset
   * (the active segment, `highWatermark` and min.compaction.lag.ms bound it), removes tombstones
   * delete.retention.ms after the pass that first cleaned them, preserves every surviving
   * offset, and swaps the rewritten segments in crash-safely. With compact,delete, retention
   * runs first. Appends and reads continue meanwhile; a second call while one runs is skipped.
   * The broker schedules it; options default to the log config.
   */
  async compact(options: CompactOptions): Promise<CompactionStats> {
    this.checkOpen();
    const policy = this.config.cleanupPolicy;
    this.firstDirty ??= readCleanerCheckpoint(this.dir) ?? this.startOffset;
    if (!policy.includes('compact')) return { ...emptyStats(this.firstDirty, this.segments.length), skipped: 'not-compacted' };
    if (this.cleaning !== undefined) return { ...emptyStats(this.firstDirty, this.segments.length), skipped: 'busy' };
    const run = this.runCompaction(options);
    this.cleaning = run;
    try { return await run; } finally { this.cleaning = undefined; }
  }

  private async runCompaction(options: CompactOptions): Promise<CompactionStats> {
    const nowMs = options.nowMs ?? this.clock.now();
    let retentionDeleted = 0;
    if (this.config.cleanupPolicy.includes('delete')) retentionDeleted = await this.deleteOldSegments(nowMs, options.highWatermark);
    const verify = this.config.verifyCrc;
    // As Kafka's cleaner: nothing at or past the last stable offset is cleaned, so every
    // transaction in the cleanable range is decided; aborted ones are removed.
    const highWatermark = this.lastStableOffset(options.highWatermark);
    const aborted = new Map<bigint, AbortedTxn[]>();
    for (const a of this.collectAbortedTransactions(this.startOffset, highWatermark)) {
      const list = aborted.get(a.producerId);
      if (list === undefined) aborted.set(a.producerId, [a]); else list.push(a);
    }
    const host: CleanerHost = {
      dir: this.dir, logger: this.logger, io: this.io, fdCache: this.fdCache, segmentEnv: this.segmentEnv,
      segmentBytes: this.config.segmentBytes, logStartOffset: this.startOffset,
      segments: () => this.segments,
      install: (old, replacement) => {
        this.txn.merged(old.map((s) => s.baseOffset));
        const i = this.segments.indexOf(old[0]!);
        this.segments = [...this.segments.slice(0, i), replacement, ...this.segments.slice(i + old.length)];
        this.generation++;
      },
      aborted: () => this.closing || this.closed,
      verifyCrc: verify === undefined ? verifyCrc32c : (b) => verify(b, 0),
      isAborted: (producerId, offset) => aborted.get(producerId)?.some((a) => a.firstOffset <= offset && offset < a.lastOffset) ?? false,
    };
    const stats = await cleanLog(host, this.firstDirty!, {
      nowMs, highWatermark,
      deleteRetentionMs: options.deleteRetentionMs ?? this.config.deleteRetentionMs,
      minCompactionLagMs: options.minCompactionLagMs ?? this.config.minCompactionLagMs,
      minCleanableDirtyRatio: options.minCleanableDirtyRatio ?? this.config.minCleanableDirtyRatio,
      maxMapEntries: options.maxMapEntries ?? 1_000_000,
      retainEmptyBatches: options.retainEmptyBatches, stopAfter: options.stopAfter,
    });
    stats.retentionDeletedSegments = retentionDeleted;
    if (stats.cleaned) this.firstDirty = stats.cleanedUpTo;
    if (stats.cleaned || stats.skipped !== 'nothing-cleanable') {
      this.logger.info({
        cleaned: stats.cleaned, skipped: stats.skipped, firstDirtyOffset: String(stats.firstDirtyOffset), cleanedUpTo: String(stats.cleanedUpTo),
        dirtyRatio: stats.dirtyRatio, bytesRead: stats.bytesRead, bytesWritten: stats.bytesWritten, recordsRemoved: stats.recordsRemoved,
        tombstonesRemoved: stats.tombstonesRemoved, segmentsBefore: stats.segmentsBefore, segmentsAfter: stats.segmentsAfter,
      }, 'log compaction pass');
    }
    return stats;
  }

  /** The cleaner's first dirty offset (where the next compaction pass starts mapping keys). */
  get firstDirtyOffset(): bigint { return this.firstDirty ?? readCleanerCheckpoint(this.dir) ?? this.startOffset; }

  // ---- transactions ----------------------------------------------------------------------

  /**
   * Kafka's last stable offset given the high watermark (see TxnIndex.lastStableOffset), never
   * below the log start offset (retention may delete the start of a long-open transaction).
   */
  lastStableOffset(highWatermark: bigint): bigint {
    const lso = this.txn.lastStableOffset(highWatermark);
    return lso < this.startOffset && this.startOffset <= highWatermark ? this.startOffset : lso;
  }

  /** Aborted transactions overlapping [fetchOffset, upperBound), from the per-segment index (no data read). */
  collectAbortedTransactions(fetchOffset: bigint, upperBound: bigint): AbortedTxn[] {
    const segments = this.segments;
    const from = this.segmentIndexFor(fetchOffset);
    // Lazily: the search usually ends in the first segment or two.
    const bases = function* (): Generator<bigint> { for (let i = from; i < segments.length; i++) yield segments[i]!.baseOffset; };
    return this.txn.collectAborted(bases(), fetchOffset, upperBound);
  }

  /** Replay one segment's batches into the transaction tracker (after a truncation, or a stale saved state). */
  private rescanTxns(seg: Segment): void {
    this.txn.beginSegmentScan(seg.baseOffset);
    const ref = seg.acquireReader();
    try { this.txn.scanFile(seg.baseOffset, ref.fd, seg.size); } finally { ref.release(); }
  }

  // ---- close -----------------------------------------------------------------------------

  /** Flush, write indexes and a clean-shutdown checkpoint, release descriptors. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await this.cleaning?.catch(() => undefined);
    await this.flush();
    while (this.flushing !== undefined) await this.flushing;
    this.closed = true;
    const active = this.active;
    active.deactivate();
    this.txn.saveTail(active.baseOffset, this.logEndOffset);
    await this.writeCheckpoints(this.logEndOffset, {
      logEndOffset: this.logEndOffset, activeBase: active.baseOffset, activeSize: active.size, lastEpoch: this.epochs.latestEpoch,
    });
    for (const seg of this.segments) { seg.closeWriter(); this.fdCache.forget(seg.logPath); }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageStateError(`log ${this.dir} is closed`);
  }
}

/**
 * Waits for every promise (so no sync still runs on a descriptor the caller is about to release),
 * then rejects with the first failure, if any.
 */
async function allOrFirstError(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Split a buffer of whole v2 batches, validating each header. */
function parseBatches(buf: Buffer): PendingBatch[] {
  const out: PendingBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const problem = headerProblem(buf, pos, buf.length - pos);
    if (problem !== undefined) throw new InvalidRecordError(`batch at byte ${pos}: ${problem}`);
    const h = readHeader(buf, pos);
    out.push({
      baseOffset: h.baseOffset, lastOffset: h.baseOffset + BigInt(h.lastOffsetDelta), position: pos, size: h.size,
      epoch: h.epoch, maxTimestamp: buf.readBigInt64BE(pos + OFF_MAX_TIMESTAMP),
    });
    pos += h.size;
  }
  if (out.length === 0) throw new InvalidRecordError('no record batch to append');
  return out;
}

/** First record of an uncompressed v2 batch with timestamp >= ts, walking its varint-encoded records. */
function firstRecordAtOrAfter(batch: Buffer, ts: bigint, baseOffset: bigint, baseTimestamp: bigint): { offset: bigint; timestamp: bigint } | undefined {
  let p = BATCH_HEADER_SIZE;
  const count = batch.readInt32BE(57);
  try {
    for (let i = 0; i < count && p < batch.length; i++) {
      const [len, a] = readVarlong(batch, p);
      const recordEnd = a + Number(len);
      const [tsDelta, b] = readVarlong(batch, a + 1); // skip the attributes byte
      const [offDelta] = readVarlong(batch, b);
      const t = baseTimestamp + tsDelta;
      if (t >= ts) return { offset: baseOffset + offDelta, timestamp: t };
      p = recordEnd;
    }
  } catch { return undefined; }
  return undefined;
}

/** Zig-zag varlong as used by v2 records: [value, next position]. */
function readVarlong(buf: Buffer, pos: number): [bigint, number] {
  let raw = 0n, shift = 0n;
  for (;;) {
    if (pos >= buf.length || shift > 63n) throw new RangeError('bad varint');
    const byte = buf[pos++]!;
    raw |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7n;
  }
  return [(raw >> 1n) ^ -(raw & 1n), pos];
}
