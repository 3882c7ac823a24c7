/**
 * Records inside a RecordBatch v2 (DefaultRecord.java): lazy, bounded iteration over a batch
 * (decompressing its records section first when needed), the batch builder, and control
 * (transaction marker) batches.
 *
 * Record layout (all varints zigzag-encoded, as Kafka's ByteUtils.readVarint/readVarlong):
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value |
 *   headerCount varint | [headerKeyLength varint | headerKey | headerValueLength varint | value]
 */
import {
  ATTRIBUTES_OFFSET, BASE_SEQUENCE_OFFSET, BASE_TIMESTAMP_OFFSET, CONTROL_FLAG_MASK, CRC_OFFSET, CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, MAX_TIMESTAMP_OFFSET, NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, PARTITION_LEADER_EPOCH_OFFSET, PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET, TIMESTAMP_TYPE_MASK, TRANSACTIONAL_FLAG_MASK,
  BATCH_LENGTH_OFFSET, TimestampType, readBatchHeader, type BatchHeader,
} from './batch.js';
import { CompressionType, compress, decompress } from './compression.js';
import { crc32c } from './crc32c.js';
import { RecordsError } from './errors.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One record as read from a batch. key, value and header values are views, not copies. */
export interface RecordView {
  attributes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Default cap on a batch's decompressed records section (callers should pass their own). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface IterateRecordsOptions {
  /** Upper bound on the decompressed size of a compressed batch's records. */
  maxDecompressedBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Bounded reading

function invalid(why: string): RecordsError {
  return new RecordsError('INVALID_RECORD', why);
}

/** A cursor over buf[pos, end) whose every read is checked against `end`. */
class Cursor {
  constructor(readonly buf: Buffer, public pos: number, public end: number) {}

  int8(): number {
    if (this.pos >= this.end) throw invalid('premature end of record');
    return this.buf.readInt8(this.pos++);
  }

  /** Zigzag varint of at most 5 bytes (Kafka: "Varint is too long" beyond that). */
  varint(): number {
    let raw = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw invalid('premature end of varint');
      const b = this.buf[this.pos++]!;
      raw |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
    }
    throw invalid('varint is too long');
  }

  /** Zigzag varlong of at most 10 bytes. */
  varlong(): bigint {
    let raw = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      // Up to 7 bytes (49 bits) stay exact in a double.
      if (this.pos >= this.end) throw invalid('premature end of varlong');
      const b = this.buf[this.pos++]!;
      raw += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return BigInt(raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2);
    }
    let big = BigInt(raw);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw invalid('premature end of varlong');
      const b = this.buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        big = BigInt.asUintN(64, big);
        return (big >> 1n) ^ -(big & 1n);
      }
    }
    throw invalid('varlong is too long');
  }

  /** Nullable bytes with a varint length (-1 = null), as a view. */
  bytes(what: string): Buffer | null {
    const len = this.varint();
    if (len === -1) return null;
    if (len < 0 || len > this.end - this.pos) throw invalid(`invalid ${what} length ${len}`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

function readRecord(c: Cursor): RecordView {
  const size = c.varint();
  if (size < 0 || size > c.end - c.pos) throw invalid(`invalid record size ${size} with ${c.end - c.pos} bytes remaining`);
  const batchEnd = c.end;
  const recordEnd = c.pos + size;
  c.end = recordEnd;
  const attributes = c.int8();
  const timestampDelta = c.varlong();
  const offsetDelta = c.varint();
  const key = c.bytes('key');
  const value = c.bytes('value');
  const headerCount = c.varint();
  if (headerCount < 0) throw invalid(`invalid number of record headers ${headerCount}`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyLen = c.varint();
    if (keyLen < 0 || keyLen > c.end - c.pos) throw invalid(`invalid header key length ${keyLen}`);
    const hkey = c.buf.toString('utf8', c.pos, c.pos + keyLen);
    c.pos += keyLen;
    headers.push({ key: hkey, value: c.bytes('header value') });
  }
  if (c.pos !== recordEnd) throw invalid(`record size ${size} disagrees with its contents`);
  c.end = batchEnd;
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/**
 * The records section of the batch at `offset`, decompressed if needed (a view when not
 * compressed). Throws RecordsError.
 */
export function batchRecordsSection(buf: Buffer, offset: number, header: BatchHeader, options: IterateRecordsOptions = {}): Buffer {
  const end = offset + LOG_OVERHEAD + header.batchLength;
  if (header.batchLength < RECORDS_OFFSET - LOG_OVERHEAD || end > buf.length) {
    throw new RecordsError('CORRUPT_MESSAGE', `record batch length ${header.batchLength} does not fit the buffer`);
  }
  const section = buf.subarray(offset + RECORDS_OFFSET, end);
  if (header.compression === CompressionType.NONE) return section;
  return decompress(header.compression, section, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
}

/**
 * Lazily yields the records of the magic-2 batch at `buf[offset]`. Keys and values are views
 * into `buf` (or into the decompressed section). Throws only RecordsError: INVALID_RECORD for
 * malformed records or a count that disagrees with the bytes, CORRUPT_MESSAGE for bad sizes
 * or compressed data.
 */
export function* iterateRecords(buf: Buffer, offset = 0, options: IterateRecordsOptions = {}): Generator<RecordView, void, void> {
  const header = readBatchHeader(buf, offset);
  if (header.magic !== CURRENT_MAGIC) throw new RecordsError('CORRUPT_MESSAGE', `invalid magic ${header.magic}`);
  if (header.recordsCount < 0) throw invalid(`invalid record count ${header.recordsCount}`);
  const section = batchRecordsSection(buf, offset, header, options);
  const c = new Cursor(section, 0, section.length);
  for (let i = 0; i < header.recordsCount; i++) {
    if (c.pos >= c.end) throw invalid('incorrect declared batch size, premature end of records');
    yield readRecord(c);
  }
  if (c.pos !== c.end) throw invalid('incorrect declared batch size, records still remaining');
}

/** All records of the batch at `offset` (eager version of iterateRecords). */
export function readRecords(buf: Buffer, offset = 0, options: IterateRecordsOptions = {}): RecordView[] {
  return [...iterateRecords(buf, offset, options)];
}

// ---------------------------------------------------------------------------------------------
// Building

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Milliseconds since the epoch. */
  timestamp: bigint;
}

export interface BuildBatchOptions {
  records: RecordInput[];
  baseOffset?: bigint;
  compression?: CompressionType;
  /** Codec level; defaults to Kafka's default for the codec. */
  compressionLevel?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
  /** With LOG_APPEND_TIME: the append time stored as maxTimestamp (default: max record timestamp). */
  logAppendTime?: bigint;
  /** Internal: set the control flag (use buildControlBatch). */
  isControl?: boolean;
}

function varintSize(v: number): number {
  let raw = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    n++;
  }
  return n;
}

function zigzag64(v: bigint): bigint {
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function varlongSize(v: bigint): number {
  let raw = zigzag64(v);
  let n = 1;
  while (raw >= 0x80n) {
    raw >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  let raw = ((v << 1) ^ (v >> 31)) >>> 0;
  while (raw >= 0x80) {
    buf[pos++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  buf[pos++] = raw;
  return pos;
}

function writeVarlong(buf: Buffer, pos: number, v: bigint): number {
  if (v >= -(2n ** 30n) && v < 2n ** 30n) return writeVarint(buf, pos, Number(v));
  let raw = zigzag64(v);
  while (raw >= 0x80n) {
    buf[pos++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  buf[pos++] = Number(raw);
  return pos;
}

function bytesSize(b: Buffer | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

interface SizedRecord {
  bodySize: number;
  timestampDelta: bigint;
  headerKeys: Buffer[];
}

function sizeRecord(r: RecordInput, offsetDelta: number, baseTimestamp: bigint): SizedRecord {
  const timestampDelta = r.timestamp - baseTimestamp;
  const headers = r.headers ?? [];
  const headerKeys = headers.map((h) => Buffer.from(h.key, 'utf8'));
  let size = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + bytesSize(r.key) + bytesSize(r.value) + varintSize(headers.length);
  headers.forEach((h, i) => {
    size += bytesSize(headerKeys[i]!) + bytesSize(h.value);
  });
  return { bodySize: size, timestampDelta, headerKeys };
}

/** Encodes the records section (uncompressed) of a batch. */
function encodeRecords(records: RecordInput[], baseTimestamp: bigint): Buffer {
  const sized = records.map((r, i) => sizeRecord(r, i, baseTimestamp));
  const total = sized.reduce((n, s) => n + varintSize(s.bodySize) + s.bodySize, 0);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  records.forEach((r, i) => {
    const s = sized[i]!;
    pos = writeVarint(out, pos, s.bodySize);
    out[pos++] = 0; // record attributes: unused, always 0
    pos = writeVarlong(out, pos, s.timestampDelta);
    pos = writeVarint(out, pos, i);
    pos = writeBytes(out, pos, r.key);
    pos = writeBytes(out, pos, r.value);
    const headers = r.headers ?? [];
    pos = writeVarint(out, pos, headers.length);
    headers.forEach((h, j) => {
      pos = writeBytes(out, pos, s.headerKeys[j]!);
      pos = writeBytes(out, pos, h.value);
    });
  });
  return out;
}

/** Builds a complete RecordBatch v2 with a valid CRC. Offsets deltas are 0..n-1. */
export function buildRecordBatch(options: BuildBatchOptions): Buffer {
  const records = options.records;
  if (records.length === 0) throw new RangeError('a record batch needs at least one record');
  const compression = options.compression ?? CompressionType.NONE;
  const timestampType = options.timestampType ?? TimestampType.CREATE_TIME;
  const baseTimestamp = records[0]!.timestamp;
  let maxTimestamp = baseTimestamp;
  for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  if (timestampType === TimestampType.LOG_APPEND_TIME && options.logAppendTime !== undefined) maxTimestamp = options.logAppendTime;

  const plain = encodeRecords(records, baseTimestamp);
  const body = compression === CompressionType.NONE ? plain : compress(compression, plain, options.compressionLevel);
  const batch = Buffer.allocUnsafe(RECORDS_OFFSET + body.length);
  let attributes = compression;
  if (timestampType === TimestampType.LOG_APPEND_TIME) attributes |= TIMESTAMP_TYPE_MASK;
  if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (options.isControl) attributes |= CONTROL_FLAG_MASK;

  batch.writeBigInt64BE(options.baseOffset ?? 0n, 0);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  batch.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(records.length - 1, LAST_OFFSET_DELTA_OFFSET);
  batch.writeBigInt64BE(baseTimestamp, BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(options.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(options.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(options.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(records.length, RECORDS_COUNT_OFFSET);
  body.copy(batch, RECORDS_OFFSET);
  batch.writeUInt32BE(crc32c(batch, ATTRIBUTES_OFFSET, batch.length), CRC_OFFSET);
  return batch;
}

// ---------------------------------------------------------------------------------------------
// Control batches (KIP-98 transaction markers; KRaft control records share the key format)

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

export interface ControlRecord {
  /** Control key version (0). */
  version: number;
  /** ControlRecordType value; may be one this code does not know. */
  type: number;
  /** For ABORT/COMMIT markers: the transaction coordinator's epoch; otherwise undefined. */
  coordinatorEpoch?: number;
}

export interface ControlBatchOptions {
  type: typeof ControlRecordType.ABORT | typeof ControlRecordType.COMMIT;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

/** A transactional control batch holding one COMMIT or ABORT marker (EndTransactionMarker v0). */
export function buildControlBatch(o: ControlBatchOptions): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(o.type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(o.coordinatorEpoch, 2);
  return buildRecordBatch({
    records: [{ key, value, timestamp: o.timestamp }],
    producerId: o.producerId,
    producerEpoch: o.producerEpoch,
    isTransactional: true,
    isControl: true,
    ...(o.baseOffset === undefined ? {} : { baseOffset: o.baseOffset }),
    ...(o.partitionLeaderEpoch === undefined ? {} : { partitionLeaderEpoch: o.partitionLeaderEpoch }),
  });
}

/** Parses a control record's key (and the marker value for ABORT/COMMIT). Throws INVALID_RECORD. */
export function readControlRecord(record: RecordView): ControlRecord {
  const key = record.key;
  if (key === null || key.length < 4) throw invalid('control record key must hold version and type');
  const version = key.readInt16BE(0);
  const type = key.readInt16BE(2);
  if (type !== ControlRecordType.ABORT && type !== ControlRecordType.COMMIT) return { version, type };
  const value = record.value;
  if (value === null || value.length < 6) throw invalid('end transaction marker value must hold version and coordinator epoch');
  return { version, type, coordinatorEpoch: value.readInt32BE(2) };
}
