/**
 * Log compaction of one partition (Kafka's Cleaner + the parts of LogCleanerManager that pick
 * the cleanable range). One pass:
 *  1. the cleanable range ends at the first uncleanable offset: the base offset of the first
 *     segment that is active, not wholly below the high watermark, or holds a batch newer than
 *     now - min.compaction.lag.ms (segment granularity, as Kafka);
 *  2. nothing is done unless dirty / (clean + dirty) bytes > min.cleanable.dirty.ratio;
 *  3. a key → latest offset map is built over the dirty section [firstDirty, mapEnd);
 *  4. every segment below mapEnd is rewritten in groups of at most segment.bytes, keeping the
 *     latest record of each key (see record-filter.ts);
 *  5. each group is swapped in crash-safely: `<base>.log.cleaned` (+ indexes, + the list of the
 *     segments it replaces) are written and fsync'd, renamed to `.swap` (the `.log.swap` rename
 *     is the commit point), the old segments are unlinked and the `.swap` files renamed to their
 *     final names. `recoverInterruptedSwaps` (run by open) finishes a swap whose `.log.swap`
 *     exists and rolls back anything else;
 *  6. the first dirty offset (`cleaner-offset-checkpoint`) moves to mapEnd.
 */
import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { verifyBatchCrc, PRODUCER_ID_OFFSET, CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET, readBatchHeader } from '../../protocol/records/index.js';
import type { Logger } from '../util/log.js';
import { BATCH_HEADER_SIZE, headerProblem, LOG_OVERHEAD, OFF_LAST_OFFSET_DELTA, readHeader } from './batch-header.js';
import { LogCorruptionError } from './errors.js';
import { OffsetIndex, TimeIndex } from './indexes.js';
import { writeFileAtomic, type FdCache, type StorageIo } from './io.js';
import { addBatchToMap, filterBatch, OffsetMap, type FilterContext, type FilterCounts } from './record-filter.js';
import { Segment, segmentFileName, type SegmentEnv } from './segment.js';

export interface CompactOptions {
  /** Wall-clock now (ms); default: the log's clock. */
  nowMs?: number;
  /** Nothing at or above this offset is touched (the caller's high watermark). */
  highWatermark: bigint;
  /** delete.retention.ms; default: the log config. */
  deleteRetentionMs?: number;
  /** min.compaction.lag.ms; default: the log config. */
  minCompactionLagMs?: number;
  /** min.cleanable.dirty.ratio; default: the log config. */
  minCleanableDirtyRatio?: number;
  /** Capacity of the key → offset map (Kafka: log.cleaner.dedupe.buffer.size); default 1,000,000 keys. */
  maxMapEntries?: number;
  /**
   * Keep every batch that becomes empty as a bare header, not only the last batch of each
   * producer id, so batch offset ranges stay contiguous (for replicas that insist on it).
   */
  retainEmptyBatches?: boolean;
  /** Tests only: throw CompactionInterrupted right after this step, leaving files as a crash would. */
  stopAfter?: SwapStep;
}

/** Steps of a swap after which a crash is simulated in tests. */
export type SwapStep = 'cleaned' | 'swap' | 'deleted-first-old' | 'deleted-old';

export class CompactionInterrupted extends Error {
  constructor(readonly step: SwapStep) { super(`compaction stopped after step ${step}`); this.name = 'CompactionInterrupted'; }
}

export interface CompactionStats {
  /** Whether segments were rewritten; otherwise `skipped` says why. */
  cleaned: boolean;
  skipped?: 'not-compacted' | 'busy' | 'nothing-cleanable' | 'below-dirty-ratio' | 'aborted';
  firstDirtyOffset: bigint;
  /** First uncleanable offset (exclusive end of the cleanable range). */
  firstUncleanableOffset: bigint;
  /** Exclusive end of what the map covered; the next pass starts there. */
  cleanedUpTo: bigint;
  dirtyRatio: number;
  segmentsBefore: number;
  segmentsAfter: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  keylessRemoved: number;
  batchesDropped: number;
  batchesRewritten: number;
  /** Segments removed by retention (compact,delete) before cleaning. */
  retentionDeletedSegments: number;
  durationMs: number;
}

/** What the cleaner needs from its PartitionLog. */
export interface CleanerHost {
  readonly dir: string;
  readonly logger: Logger;
  readonly io: StorageIo;
  readonly fdCache: FdCache;
  readonly segmentEnv: SegmentEnv;
  readonly segmentBytes: number;
  readonly logStartOffset: bigint;
  /** The current segments, oldest first; the last one is active. */
  segments(): readonly Segment[];
  /** Replace the consecutive segments `old` by `replacement` in the list (synchronously). */
  install(old: readonly Segment[], replacement: Segment): void;
  /** True when the log is closing: stop before the next swap. */
  aborted(): boolean;
  /** Verify a batch's CRC (the log's verifyCrc, else CRC32C). */
  verifyCrc(batch: Buffer): boolean;
  /** Whether a transactional batch belongs to an aborted transaction (see FilterContext.isAborted). */
  isAborted?: (producerId: bigint, offset: bigint) => boolean;
}

const CHECKPOINT = 'cleaner-offset-checkpoint';
const READ_CHUNK = 1 << 20;
const MAX_DECOMPRESSED = 256 * 1024 * 1024;
const MAX_REL_OFFSET = 0x7fffffffn;

export function emptyStats(firstDirty: bigint, segments: number): CompactionStats {
  return {
    cleaned: false, firstDirtyOffset: firstDirty, firstUncleanableOffset: firstDirty, cleanedUpTo: firstDirty, dirtyRatio: 0,
    segmentsBefore: segments, segmentsAfter: segments, bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsRemoved: 0,
    tombstonesRemoved: 0, keylessRemoved: 0, batchesDropped: 0, batchesRewritten: 0, retentionDeletedSegments: 0, durationMs: 0,
  };
}

export function readCleanerCheckpoint(dir: string): bigint | undefined {
  try {
    const m = /^(\d+) (\d+)\n$/.exec(readFileSync(join(dir, CHECKPOINT), 'utf8'));
    if (m === null || Number(m[1]) !== crc32(m[2]!)) return undefined;
    return BigInt(m[2]!);
  } catch { return undefined; }
}

async function writeCleanerCheckpoint(dir: string, offset: bigint, io: StorageIo): Promise<void> {
  const body = String(offset);
  await writeFileAtomic(join(dir, CHECKPOINT), `${crc32(body)} ${body}\n`, true, io);
}

/** Batches of a segment, read in large chunks; every header is checked. */
async function* segmentBatches(seg: Segment, dir: string): AsyncGenerator<Buffer> {
  let pos = 0;
  let ahead: Promise<Buffer> | undefined;
  while (pos < seg.size) {
    const chunk = await (ahead ?? seg.readAt(pos, Math.min(READ_CHUNK, seg.size - pos)));
    ahead = undefined;
    // Read the next chunk while this one is filtered (it usually starts where this one ends).
    const complete = wholeBatchesLength(chunk);
    if (complete > 0 && pos + complete < seg.size) {
      ahead = seg.readAt(pos + complete, Math.min(READ_CHUNK, seg.size - pos - complete));
      ahead.catch(() => undefined); // awaited below; never an unhandled rejection if we stop early
    }
    let at = 0;
    while (at < chunk.length) {
      if (chunk.length - at < BATCH_HEADER_SIZE) break;
      const size = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
      if (at + size > chunk.length) {
        if (at > 0) break; // re-read from this batch
        const whole = await seg.readAt(pos, size);
        const problem = headerProblem(whole, 0, whole.length);
        if (problem !== undefined) throw new LogCorruptionError(dir, `segment ${seg.baseOffset} position ${pos}: ${problem}`);
        yield whole;
        at = size;
        break;
      }
      const problem = headerProblem(chunk, at, chunk.length - at);
      if (problem !== undefined) throw new LogCorruptionError(dir, `segment ${seg.baseOffset} position ${pos + at}: ${problem}`);
      yield chunk.subarray(at, at + size);
      at += size;
    }
    if (at === 0) throw new LogCorruptionError(dir, `segment ${seg.baseOffset} position ${pos}: truncated batch`);
    pos += at;
  }
}

/** Bytes of the whole batches at the start of a chunk. */
function wholeBatchesLength(chunk: Buffer): number {
  let at = 0;
  while (chunk.length - at >= BATCH_HEADER_SIZE) {
    const size = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
    if (size < BATCH_HEADER_SIZE || at + size > chunk.length) break;
    at += size;
  }
  return at;
}

/** Writes one cleaned segment and its indexes, building the indexes as Segment.track does. */
class CleanedSegmentWriter {
  private readonly oi = new OffsetIndex();
  private readonly ti = new TimeIndex();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private size = 0;
  private bytesSinceEntry = 0;
  private maxTs = -1n;
  private relOfMaxTs = 0;
  private constructor(readonly base: bigint, private readonly fh: FileHandle, private readonly paths: ReturnType<typeof cleanedPaths>) {}

  static async create(dir: string, base: bigint): Promise<CleanedSegmentWriter> {
    const paths = cleanedPaths(dir, base);
    return new CleanedSegmentWriter(base, await open(paths.log, 'w'), paths);
  }

  get bytes(): number { return this.size + this.pendingBytes; }

  async add(batch: Buffer, indexIntervalBytes: number): Promise<void> {
    const h = readHeader(batch, 0);
    const rel = Number(h.baseOffset - this.base);
    if (h.maxTimestamp > this.maxTs) { this.maxTs = h.maxTimestamp; this.relOfMaxTs = rel; }
    if (this.bytesSinceEntry > indexIntervalBytes) {
      this.oi.append(rel, this.bytes);
      this.ti.maybeAppend(this.maxTs, this.relOfMaxTs);
      this.bytesSinceEntry = 0;
    }
    this.bytesSinceEntry += batch.length;
    this.pending.push(batch);
    this.pendingBytes += batch.length;
    if (this.pendingBytes >= READ_CHUNK) await this.drain();
  }

  private async drain(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh.write(buf, 0, buf.length, this.size);
    this.size += buf.length;
  }

  /** Flush, fsync and close the log; write the index files and the list of replaced segments. */
  async finish(replaces: readonly bigint[], io: StorageIo): Promise<number> {
    await this.drain();
    if (this.maxTs >= 0n) this.ti.maybeAppend(this.maxTs, this.relOfMaxTs);
    try { await io.fdatasync(this.fh.fd); } finally { await this.fh.close(); }
    for (const [path, data] of [[this.paths.index, this.oi.serialize()], [this.paths.timeIndex, this.ti.serialize()], [this.paths.replaces, Buffer.from(replaces.join('\n'))]] as const) {
      const fh = await open(path, 'w');
      try { await fh.write(data, 0, data.length, 0); await io.fdatasync(fh.fd); } finally { await fh.close(); }
    }
    return this.size;
  }

  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    removeQuietly(Object.values(this.paths));
  }
}

function cleanedPaths(dir: string, base: bigint, suffix = '.cleaned') {
  return {
    log: join(dir, segmentFileName(base, `.log${suffix}`)),
    index: join(dir, segmentFileName(base, `.index${suffix}`)),
    timeIndex: join(dir, segmentFileName(base, `.timeindex${suffix}`)),
    replaces: join(dir, segmentFileName(base, `.replaces${suffix}`)),
  };
}

function removeQuietly(paths: readonly string[]): void {
  for (const p of paths) { try { unlinkSync(p); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; } }
}

/** Groups of consecutive segments whose total size fits segment.bytes and offsets fit int32 deltas. */
function groupBySize(segs: readonly Segment[], maxBytes: number): Segment[][] {
  const groups: Segment[][] = [];
  let group: Segment[] = [], bytes = 0;
  for (const seg of segs) {
    const fits = group.length > 0 && bytes + seg.size <= maxBytes && (seg.size === 0 || seg.nextOffset - 1n - group[0]!.baseOffset <= MAX_REL_OFFSET);
    if (!fits && group.length > 0) { groups.push(group); group = []; bytes = 0; }
    group.push(seg);
    bytes += seg.size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** One compaction pass; see the file comment. `firstDirtyCheckpoint` is the log's first dirty offset. */
export async function cleanLog(host: CleanerHost, firstDirtyCheckpoint: bigint, o: Required<Omit<CompactOptions, 'stopAfter' | 'retainEmptyBatches'>> & Pick<CompactOptions, 'stopAfter' | 'retainEmptyBatches'>): Promise<CompactionStats> {
  const started = performance.now();
  const all = host.segments();
  const stats = emptyStats(firstDirtyCheckpoint, all.length);

  // 1. The cleanable prefix: inactive, wholly below the high watermark, older than the lag.
  const cleanable: Segment[] = [];
  for (const seg of all.slice(0, -1)) {
    seg.ensureIndexes();
    if (seg.nextOffset > o.highWatermark) break;
    if (o.minCompactionLagMs > 0 && Number(seg.maxTimestamp) > o.nowMs - o.minCompactionLagMs) break;
    cleanable.push(seg);
  }
  const firstUncleanable = cleanable.length === all.length - 1 ? all[all.length - 1]!.baseOffset : all[cleanable.length]!.baseOffset;
  let firstDirty = firstDirtyCheckpoint < host.logStartOffset ? host.logStartOffset : firstDirtyCheckpoint;
  if (firstDirty > firstUncleanable) firstDirty = firstUncleanable;
  stats.firstDirtyOffset = firstDirty;
  stats.firstUncleanableOffset = firstUncleanable;
  stats.cleanedUpTo = firstDirty;

  // 2. Worth it?
  let cleanBytes = 0, dirtyBytes = 0;
  for (const seg of cleanable) { if (seg.nextOffset <= firstDirty) cleanBytes += seg.size; else dirtyBytes += seg.size; }
  stats.dirtyRatio = dirtyBytes === 0 ? 0 : dirtyBytes / (cleanBytes + dirtyBytes);
  if (dirtyBytes === 0) { stats.skipped = 'nothing-cleanable'; return finish(stats, started); }
  if (!(stats.dirtyRatio > o.minCleanableDirtyRatio)) { stats.skipped = 'below-dirty-ratio'; return finish(stats, started); }

  // 3. Offset map over the dirty section; last batch of each producer id over the whole range.
  const map = new OffsetMap(o.maxMapEntries);
  let mapEnd = Number(firstUncleanable);
  const lastOfProducer = new Map<bigint, bigint>();
  const from = Number(firstDirty);
  let mapFull = false;
  for (const seg of cleanable) {
    const dirty = seg.nextOffset > firstDirty;
    for await (const batch of segmentBatches(seg, host.dir)) {
      stats.bytesRead += batch.length;
      const base = batch.readBigInt64BE(0);
      const isControl = (batch.readInt16BE(ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0;
      const pid = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
      if (pid >= 0n && !isControl) lastOfProducer.set(pid, base);
      const last = Number(base) + batch.readInt32BE(OFF_LAST_OFFSET_DELTA);
      if (!dirty || mapFull || last < from) continue;
      if (!host.verifyCrc(batch)) throw new LogCorruptionError(host.dir, `batch at offset ${base} fails its CRC check; compaction refuses to rewrite it`);
      if (map.full) { mapFull = true; mapEnd = Math.max(Number(base), from); continue; }
      addBatchToMap(batch, map, from, MAX_DECOMPRESSED, host.isAborted);
    }
  }
  if (mapEnd <= from) { stats.skipped = 'nothing-cleanable'; return finish(stats, started); }

  // 4 + 5. Rewrite every segment below mapEnd, group by group.
  const counts: FilterCounts = { recordsRead: 0, recordsRemoved: 0, tombstonesRemoved: 0, keylessRemoved: 0 };
  const ctx: FilterContext = {
    map, mapEnd, nowMs: o.nowMs, deleteRetentionMs: o.deleteRetentionMs, maxDecompressedBytes: MAX_DECOMPRESSED, isAborted: host.isAborted,
    retainEmpty: (h) => o.retainEmptyBatches === true || (h.producerId >= 0n && lastOfProducer.get(h.producerId) === h.baseOffset),
  };
  const toClean = cleanable.filter((s) => s.baseOffset < BigInt(mapEnd));
  for (const group of groupBySize(toClean, host.segmentBytes)) {
    if (host.aborted()) { stats.skipped = 'aborted'; break; }
    const writer = await CleanedSegmentWriter.create(host.dir, group[0]!.baseOffset);
    let size: number;
    try {
      for (const seg of group) {
        for await (const batch of segmentBatches(seg, host.dir)) {
          stats.bytesRead += batch.length;
          const out = filterBatch(batch, ctx, counts);
          if (out.kind === 'dropped') { stats.batchesDropped++; continue; }
          if (out.kind === 'rewritten') {
            if (!host.verifyCrc(batch)) throw new LogCorruptionError(host.dir, `batch at offset ${batch.readBigInt64BE(0)} fails its CRC check; compaction refuses to rewrite it`);
            stats.batchesRewritten++;
          }
          await writer.add(out.kind === 'original' ? batch : out.bytes, host.segmentEnv.indexIntervalBytes);
        }
      }
      size = await writer.finish(group.map((s) => s.baseOffset), host.io);
    } catch (e) {
      await writer.abandon();
      throw e;
    }
    if (o.stopAfter === 'cleaned') throw new CompactionInterrupted('cleaned');
    if (host.aborted() || !stillInPlace(host.segments(), group)) {
      removeQuietly(Object.values(cleanedPaths(host.dir, group[0]!.baseOffset)));
      stats.skipped = 'aborted';
      break;
    }
    if (!await swapIn(host, group, size, o.stopAfter)) { stats.skipped = 'aborted'; break; }
    stats.bytesWritten += size;
  }
  if (stats.skipped === undefined) {
    await writeCleanerCheckpoint(host.dir, BigInt(mapEnd), host.io);
    stats.cleaned = true;
    stats.cleanedUpTo = BigInt(mapEnd);
  }
  stats.recordsRead = counts.recordsRead;
  stats.recordsRemoved = counts.recordsRemoved;
  stats.tombstonesRemoved = counts.tombstonesRemoved;
  stats.keylessRemoved = counts.keylessRemoved;
  stats.segmentsAfter = host.segments().length;
  return finish(stats, started);
}

function finish(stats: CompactionStats, started: number): CompactionStats {
  stats.durationMs = performance.now() - started;
  return stats;
}

function stillInPlace(segs: readonly Segment[], group: readonly Segment[]): boolean {
  const i = segs.indexOf(group[0]!);
  return i >= 0 && i + group.length < segs.length && group.every((s, k) => segs[i + k] === s);
}

/** Steps 2 to 5 of the swap for one group whose `.cleaned` files are complete and durable. */
async function swapIn(host: CleanerHost, group: readonly Segment[], size: number, stopAfter: SwapStep | undefined): Promise<boolean> {
  const base = group[0]!.baseOffset;
  const cleaned = cleanedPaths(host.dir, base), swap = cleanedPaths(host.dir, base, '.swap');
  renameSync(cleaned.index, swap.index);
  renameSync(cleaned.timeIndex, swap.timeIndex);
  renameSync(cleaned.replaces, swap.replaces);
  renameSync(cleaned.log, swap.log); // the commit point
  await host.io.fsyncDir(host.dir);
  if (stopAfter === 'swap') throw new CompactionInterrupted('swap');
  if (!stillInPlace(host.segments(), group)) {
    // Retention or a truncation removed some of these segments while we synced: drop the swap.
    removeQuietly(Object.values(swap));
    await host.io.fsyncDir(host.dir);
    return false;
  }
  // From here to install() nothing awaits, so no read or append interleaves.
  const next = group[group.length - 1]!.nextOffset;
  for (const [k, seg] of group.entries()) {
    seg.delete();
    if (k === 0 && stopAfter === 'deleted-first-old') throw new CompactionInterrupted('deleted-first-old');
  }
  if (stopAfter === 'deleted-old') throw new CompactionInterrupted('deleted-old');
  const finalPaths = cleanedPaths(host.dir, base, '');
  renameSync(swap.index, finalPaths.index);
  renameSync(swap.timeIndex, finalPaths.timeIndex);
  renameSync(swap.log, finalPaths.log);
  unlinkSync(swap.replaces);
  host.fdCache.forget(finalPaths.log);
  host.segmentEnv.writers.forget(finalPaths.log);
  const replacement = Segment.existing(host.dir, base, size, host.fdCache, host.segmentEnv);
  replacement.nextOffset = next;
  host.install(group, replacement);
  await host.io.fsyncDir(host.dir);
  host.logger.debug({ baseOffset: String(base), replaced: group.length, bytes: size }, 'swapped in cleaned segment');
  return true;
}

/**
 * Run on open before segments are listed: finish every swap whose `.log.swap` exists (its data
 * is complete and durable), delete everything else the cleaner left behind. Returns what it did.
 */
export async function recoverInterruptedSwaps(dir: string, io: StorageIo, fdCache: FdCache, logger: Logger): Promise<{ completed: number; rolledBack: number }> {
  const names = readdirSync(dir);
  let rolledBack = 0, completed = 0;
  for (const name of names) {
    if (name.endsWith('.cleaned')) { removeQuietly([join(dir, name)]); rolledBack++; }
  }
  const swapBases = names.map((n) => /^(\d{20})\.log\.swap$/.exec(n)).filter((m) => m !== null).map((m) => BigInt(m[1]!));
  for (const base of swapBases) {
    const swap = cleanedPaths(dir, base, '.swap'), finalPaths = cleanedPaths(dir, base, '');
    let replaces: bigint[] | undefined;
    try {
      const text = readFileSync(swap.replaces, 'utf8');
      if (/^\d+(\n\d+)*$/.test(text)) replaces = text.split('\n').map((s) => BigInt(s));
    } catch { replaces = undefined; }
    if (replaces === undefined) {
      // The list did not make it to disk: replace every old segment inside the swap's offset range.
      const end = swapEndOffset(swap.log, base);
      replaces = names.map((n) => /^(\d{20})\.log$/.exec(n)).filter((m) => m !== null).map((m) => BigInt(m[1]!)).filter((b) => b >= base && b < end);
    }
    for (const old of replaces) {
      const p = cleanedPaths(dir, old, '');
      fdCache.forget(p.log);
      removeQuietly([p.log, p.index, p.timeIndex]);
    }
    if (existsSync(swap.index)) renameSync(swap.index, finalPaths.index);
    if (existsSync(swap.timeIndex)) renameSync(swap.timeIndex, finalPaths.timeIndex);
    renameSync(swap.log, finalPaths.log);
    removeQuietly([swap.replaces]);
    completed++;
    logger.warn({ baseOffset: String(base), replacedSegments: replaces.map(String) }, 'completed a log compaction swap interrupted by a crash');
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.swap')) { removeQuietly([join(dir, name)]); rolledBack++; }
  }
  if (rolledBack > 0) logger.warn({ files: rolledBack }, 'removed files of a log compaction interrupted before its swap');
  if (completed + rolledBack > 0) await io.fsyncDir(dir);
  return { completed, rolledBack };
}

/** Offset after the last whole batch of a swap file (its base when empty). */
function swapEndOffset(path: string, base: bigint): bigint {
  let end = base;
  const buf = readFileSync(path);
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length && headerProblem(buf, pos, buf.length - pos) === undefined) {
    const h = readBatchHeader(buf, pos);
    end = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
    pos += LOG_OVERHEAD + h.batchLength;
  }
  return end;
}

/** CRC32C check of a stored batch (the default when the log has no verifyCrc). */
export function verifyCrc32c(batch: Buffer): boolean {
  try { return verifyBatchCrc(batch, 0); } catch { return false; }
}
