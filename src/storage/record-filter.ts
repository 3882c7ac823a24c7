/**
 * The per-batch half of log compaction (Kafka's MemoryRecords.filterTo with the Cleaner's
 * shouldRetainRecord): decide which records of one stored batch survive, and rebuild the batch
 * when some do not. Offsets never change: the rebuilt batch keeps its base offset and its
 * lastOffsetDelta (so the producer's last sequence survives), records keep their offset deltas,
 * and only recordsCount, timestamps, attributes, length and CRC are rewritten.
 */
import { createHash } from 'node:crypto';
import {
  ATTRIBUTES_OFFSET, BASE_TIMESTAMP_OFFSET, BATCH_LENGTH_OFFSET, COMPRESSION_CODEC_MASK, CONTROL_FLAG_MASK,
  CompressionType, DELETE_HORIZON_FLAG_MASK, LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET,
  RecordsError, TIMESTAMP_TYPE_MASK, TRANSACTIONAL_FLAG_MASK, TimestampType, batchRecordsSection, compress,
  readBatchHeader, writeBatchCrc, type BatchHeader,
} from '../../protocol/records/index.js';

/**
 * Key → offset of its latest record in the dirty section (Kafka's SkimpyOffsetMap, which stores
 * an MD5 of the key). Short keys are stored verbatim, longer ones as a SHA-256 digest, so a
 * collision would need a SHA-256 collision. Offsets are kept as numbers (exact below 2^53).
 */
export class OffsetMap {
  private readonly map = new Map<string, number>();
  constructor(readonly maxEntries: number) {}
  get size(): number { return this.map.size; }
  get full(): boolean { return this.map.size >= this.maxEntries; }
  put(key: Buffer, offset: number): void { this.map.set(mapKey(key), offset); }
  /** The latest offset of the key, or -1 when the dirty section does not hold it. */
  get(key: Buffer): number { return this.map.get(mapKey(key)) ?? -1; }
}

function mapKey(key: Buffer): string {
  return key.length <= 48 ? `k${key.toString('latin1')}` : `h${createHash('sha256').update(key).digest('base64')}`;
}

/** One record of a batch's (decompressed) records section, located but not copied. */
export interface RawRecord {
  /** Position of the length varint. */
  start: number;
  /** Position after the record. */
  end: number;
  /** Position of the offsetDelta varint (what follows timestampDelta). */
  afterTimestamp: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  isTombstone: boolean;
}

function bad(why: string): RecordsError { return new RecordsError('INVALID_RECORD', why); }

/** Zig-zag varint/varlong as a double (exact up to 2^53): [value, next position]. */
function readVar(buf: Buffer, pos: number, end: number, maxBytes: number): [number, number] {
  let raw = 0, scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= end) throw bad('premature end of varint');
    const b = buf[pos++]!;
    raw += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
    scale *= 128;
  }
  throw bad('varint is too long');
}

/** Walk the records of a records section; throws RecordsError on malformed input. */
export function scanRecords(section: Buffer, count: number): RawRecord[] {
  const out: RawRecord[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = pos;
    const [len, bodyStart] = readVar(section, pos, section.length, 5);
    const end = bodyStart + len;
    if (len < 1 || end > section.length) throw bad(`invalid record size ${len}`);
    const [timestampDelta, afterTimestamp] = readVar(section, bodyStart + 1, end, 10);
    const [offsetDelta, p1] = readVar(section, afterTimestamp, end, 5);
    const [keyLen, p2] = readVar(section, p1, end, 5);
    let key: Buffer | null = null, p3 = p2;
    if (keyLen >= 0) {
      if (p2 + keyLen > end) throw bad(`invalid key length ${keyLen}`);
      key = section.subarray(p2, p2 + keyLen);
      p3 = p2 + keyLen;
    } else if (keyLen !== -1) throw bad(`invalid key length ${keyLen}`);
    const [valueLen] = readVar(section, p3, end, 5);
    if (valueLen < -1) throw bad(`invalid value length ${valueLen}`);
    out.push({ start, end, afterTimestamp, timestampDelta, offsetDelta, key, isTombstone: valueLen === -1 });
    pos = end;
  }
  if (pos !== section.length) throw bad('records section has bytes after its last record');
  return out;
}

function varSize(v: number): number {
  let raw = v >= 0 ? v * 2 : -v * 2 - 1, n = 1;
  while (raw >= 128) { raw = Math.floor(raw / 128); n++; }
  return n;
}

function writeVar(buf: Buffer, pos: number, v: number): number {
  let raw = v >= 0 ? v * 2 : -v * 2 - 1;
  while (raw >= 128) { buf[pos++] = (raw % 128) | 0x80; raw = Math.floor(raw / 128); }
  buf[pos++] = raw;
  return pos;
}

/** What compaction decides for the records of one batch. */
export interface FilterContext {
  map: OffsetMap;
  /** Records at or above this offset were not seen by the map and are always kept. */
  mapEnd: number;
  nowMs: number;
  deleteRetentionMs: number;
  /** Keep an emptied batch as a bare header (the last batch of a producer id, as Kafka does). */
  retainEmpty: (header: BatchHeader) => boolean;
  maxDecompressedBytes: number;
  /**
   * Whether the transactional batch of `producerId` at `offset` belongs to an aborted transaction
   * (from the aborted-transaction index; every transaction below the cleanable end is decided).
   * Without it, transactional batches are kept whole and never supersede anything.
   */
  isAborted?: (producerId: bigint, offset: bigint) => boolean;
}

export interface FilterCounts {
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  keylessRemoved: number;
}

export type FilterOutcome =
  | { kind: 'original' }
  | { kind: 'rewritten'; bytes: Buffer }
  | { kind: 'dropped' };

/**
 * Filter the batch `batch` (exactly one stored batch). Control batches (transaction markers) are
 * kept whole. With `ctx.isAborted`, as Kafka's cleaner: the records of aborted transactions are
 * removed, and committed transactional batches are compacted like any other; without it,
 * transactional batches are kept whole.
 */
export function filterBatch(batch: Buffer, ctx: FilterContext, counts: FilterCounts): FilterOutcome {
  const h = readBatchHeader(batch, 0);
  if (h.isControl) return { kind: 'original' };
  const base = Number(h.baseOffset);
  if (base >= ctx.mapEnd) return { kind: 'original' };
  if (h.isTransactional) {
    if (ctx.isAborted === undefined) return { kind: 'original' };
    if (ctx.isAborted(h.producerId, h.baseOffset)) {
      if (h.recordsCount === 0) return { kind: 'original' };
      counts.recordsRead += h.recordsCount;
      counts.recordsRemoved += h.recordsCount;
      return ctx.retainEmpty(h) ? { kind: 'rewritten', bytes: emptyBatch(batch, h) } : { kind: 'dropped' };
    }
  }
  const section = batchRecordsSection(batch, 0, h, { maxDecompressedBytes: ctx.maxDecompressedBytes });
  const records = scanRecords(section, h.recordsCount);
  counts.recordsRead += records.length;
  const horizon = h.hasDeleteHorizon ? h.baseTimestamp : undefined;
  const retainDeletes = horizon === undefined || BigInt(ctx.nowMs) < horizon;
  const kept: RawRecord[] = [];
  let keptTombstone = false;
  for (const r of records) {
    const offset = base + r.offsetDelta;
    let keep: boolean;
    if (offset >= ctx.mapEnd) keep = true;
    else if (r.key === null) { keep = false; counts.keylessRemoved++; }
    else {
      keep = offset >= ctx.map.get(r.key) && (!r.isTombstone || retainDeletes);
      if (!keep && r.isTombstone && offset >= ctx.map.get(r.key)) counts.tombstonesRemoved++;
    }
    if (keep) { kept.push(r); keptTombstone ||= r.isTombstone; } else counts.recordsRemoved++;
  }
  const needHorizon = keptTombstone && horizon === undefined;
  if (kept.length === records.length && !needHorizon) return { kind: 'original' };
  if (kept.length === 0) return ctx.retainEmpty(h) ? { kind: 'rewritten', bytes: emptyBatch(batch, h) } : { kind: 'dropped' };
  const newHorizon = needHorizon ? BigInt(ctx.nowMs + ctx.deleteRetentionMs) : horizon;
  return { kind: 'rewritten', bytes: rebuildBatch(batch, h, section, kept, newHorizon) };
}

/** A batch holding `kept` (in order), with the delete horizon (when set) as its base timestamp. */
function rebuildBatch(batch: Buffer, h: BatchHeader, section: Buffer, kept: RawRecord[], horizon: bigint | undefined): Buffer {
  const newBase = horizon ?? h.baseTimestamp;
  const shift = Number(h.baseTimestamp - newBase);
  let size = 0;
  for (const r of kept) {
    if (shift === 0) { size += r.end - r.start; continue; }
    const body = 1 + varSize(r.timestampDelta + shift) + (r.end - r.afterTimestamp);
    size += varSize(body) + body;
  }
  let plain: Buffer = Buffer.allocUnsafe(size);
  let pos = 0;
  let maxDelta = -Infinity;
  for (const r of kept) {
    if (r.timestampDelta > maxDelta) maxDelta = r.timestampDelta;
    if (shift === 0) { pos += section.copy(plain, pos, r.start, r.end); continue; }
    const [, bodyStart] = readVar(section, r.start, r.end, 5);
    const body = 1 + varSize(r.timestampDelta + shift) + (r.end - r.afterTimestamp);
    pos = writeVar(plain, pos, body);
    plain[pos++] = section[bodyStart]!; // record attributes
    pos = writeVar(plain, pos, r.timestampDelta + shift);
    pos += section.copy(plain, pos, r.afterTimestamp, r.end);
  }
  if (pos !== size) throw new Error(`rebuilt records section is ${pos} bytes, expected ${size}`);
  const codec = h.compression as CompressionType;
  if (codec !== CompressionType.NONE) plain = compress(codec, plain);
  const out = Buffer.allocUnsafe(RECORDS_OFFSET + plain.length);
  batch.copy(out, 0, 0, RECORDS_OFFSET);
  plain.copy(out, RECORDS_OFFSET);
  let attributes = h.attributes & ~DELETE_HORIZON_FLAG_MASK;
  if (horizon !== undefined) attributes |= DELETE_HORIZON_FLAG_MASK;
  const maxTimestamp = h.timestampType === TimestampType.LOG_APPEND_TIME ? h.maxTimestamp : h.baseTimestamp + BigInt(maxDelta);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeBigInt64BE(newBase, BASE_TIMESTAMP_OFFSET);
  out.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  writeBatchCrc(out, 0);
  return out;
}

/**
 * A header-only batch (Kafka's writeEmptyHeader): same base offset, lastOffsetDelta, producer
 * id, epoch and base sequence; no records, no compression, both timestamps = maxTimestamp.
 */
export function emptyBatch(batch: Buffer, h: BatchHeader): Buffer {
  const out = Buffer.from(batch.subarray(0, RECORDS_OFFSET));
  const keep = TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK;
  out.writeInt32BE(RECORDS_OFFSET - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE(h.attributes & keep & ~COMPRESSION_CODEC_MASK, ATTRIBUTES_OFFSET);
  out.writeBigInt64BE(h.maxTimestamp, BASE_TIMESTAMP_OFFSET);
  out.writeBigInt64BE(h.maxTimestamp, MAX_TIMESTAMP_OFFSET);
  out.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  writeBatchCrc(out, 0);
  return out;
}

/**
 * Add the keys of a data batch at offsets >= from to the map: never control batches, and
 * transactional ones only when `isAborted` says they were committed.
 */
export function addBatchToMap(batch: Buffer, map: OffsetMap, from: number, maxDecompressedBytes: number, isAborted?: (producerId: bigint, offset: bigint) => boolean): number {
  const h = readBatchHeader(batch, 0);
  if (h.isControl) return 0;
  if (h.isTransactional && (isAborted === undefined || isAborted(h.producerId, h.baseOffset))) return 0;
  const base = Number(h.baseOffset);
  const section = batchRecordsSection(batch, 0, h, { maxDecompressedBytes });
  let n = 0;
  for (const r of scanRecords(section, h.recordsCount)) {
    const offset = base + r.offsetDelta;
    if (r.key !== null && offset >= from) { map.put(r.key, offset); n++; }
  }
  return n;
}
