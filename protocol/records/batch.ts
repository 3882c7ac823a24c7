/**
 * RecordBatch v2 (magic 2) header: constants, a zero-copy header view, CRC checks, in-place
 * patches of the fields a broker assigns, and a walker that splits a records blob into batches
 * without decoding records. Layout (DefaultRecordBatch.java):
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32 | records
 *
 * batchLength counts the bytes after itself; the CRC32C covers attributes to the batch's end,
 * so baseOffset and partitionLeaderEpoch can be patched without recomputing it.
 */
import { crc32c } from './crc32c.js';
import { CompressionType } from './compression.js';
import { RecordsError } from './errors.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** baseOffset + batchLength: the bytes before what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Size of a batch header, i.e. of a batch with no records. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1n;

export const TimestampType = { CREATE_TIME: 0, LOG_APPEND_TIME: 1 } as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** The stored CRC (unsigned). */
  crc: number;
  attributes: number;
  /** Attributes bits 0-2; may be an unknown id (5-7) in untrusted input. */
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** Total size in bytes of the batch at `offset` (LOG_OVERHEAD + batchLength). */
export function batchSize(buf: Buffer, offset: number): number {
  return LOG_OVERHEAD + buf.readInt32BE(offset + BATCH_LENGTH_OFFSET);
}

/** Reads the header of the magic-2 batch at `offset`. Reads only the 61 header bytes. */
export function readBatchHeader(buf: Buffer, offset = 0): BatchHeader {
  if (offset < 0 || buf.length - offset < RECORD_BATCH_OVERHEAD) {
    throw new RecordsError('CORRUPT_MESSAGE', `record batch header needs ${RECORD_BATCH_OVERHEAD} bytes, ${Math.max(0, buf.length - offset)} remain`);
  }
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET);
  return {
    baseOffset: buf.readBigInt64BE(offset + BASE_OFFSET_OFFSET),
    batchLength: buf.readInt32BE(offset + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(offset + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(offset + MAGIC_OFFSET),
    crc: buf.readUInt32BE(offset + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_CODEC_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(offset + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(offset + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(offset + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(offset + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(offset + BASE_SEQUENCE_OFFSET),
    recordsCount: buf.readInt32BE(offset + RECORDS_COUNT_OFFSET),
  };
}

/** The last offset of the batch at `offset`: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(buf: Buffer, offset = 0): bigint {
  return buf.readBigInt64BE(offset + BASE_OFFSET_OFFSET) + BigInt(buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET));
}

/** Bounds of a whole batch at `offset`, checked against the buffer; throws CORRUPT_MESSAGE. */
function checkedBatchEnd(buf: Buffer, offset: number): number {
  if (offset < 0 || buf.length - offset < RECORD_BATCH_OVERHEAD) {
    throw new RecordsError('CORRUPT_MESSAGE', 'record batch is shorter than its header');
  }
  const length = buf.readInt32BE(offset + BATCH_LENGTH_OFFSET);
  if (length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || length > buf.length - offset - LOG_OVERHEAD) {
    throw new RecordsError('CORRUPT_MESSAGE', `record batch length ${length} outside [${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}, ${buf.length - offset - LOG_OVERHEAD}]`);
  }
  return offset + LOG_OVERHEAD + length;
}

/** CRC32C the batch at `offset` should carry (attributes to end of batch). */
export function computeBatchCrc(buf: Buffer, offset = 0): number {
  return crc32c(buf, offset + ATTRIBUTES_OFFSET, checkedBatchEnd(buf, offset));
}

/** True when the stored CRC matches the batch's bytes. Throws CORRUPT_MESSAGE if the batch does not fit. */
export function verifyBatchCrc(buf: Buffer, offset = 0): boolean {
  return computeBatchCrc(buf, offset) === buf.readUInt32BE(offset + CRC_OFFSET);
}

/** Recomputes and stores the CRC of the batch at `offset`. */
export function writeBatchCrc(buf: Buffer, offset = 0): void {
  buf.writeUInt32BE(computeBatchCrc(buf, offset), offset + CRC_OFFSET);
}

/** Assigns the base offset (outside the CRC range: no CRC update). */
export function setBaseOffset(buf: Buffer, offset: number, base: bigint): void {
  buf.writeBigInt64BE(base, offset + BASE_OFFSET_OFFSET);
}

/** Stamps the leader epoch (outside the CRC range: no CRC update). */
export function setPartitionLeaderEpoch(buf: Buffer, offset: number, epoch: number): void {
  buf.writeInt32BE(epoch, offset + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Sets the timestamp type bit and maxTimestamp, then recomputes the CRC (as Kafka's
 * DefaultRecordBatch.setMaxTimestamp). A no-op when both already hold.
 */
export function setMaxTimestamp(buf: Buffer, offset: number, timestampType: TimestampType, maxTimestamp: bigint): void {
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET);
  const current = attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
  if (current === timestampType && buf.readBigInt64BE(offset + MAX_TIMESTAMP_OFFSET) === maxTimestamp) return;
  const next = timestampType === TimestampType.LOG_APPEND_TIME ? attributes | TIMESTAMP_TYPE_MASK : attributes & ~TIMESTAMP_TYPE_MASK;
  buf.writeInt16BE(next, offset + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(maxTimestamp, offset + MAX_TIMESTAMP_OFFSET);
  writeBatchCrc(buf, offset);
}

/** For topics with message.timestamp.type=LogAppendTime: stamp the append time as maxTimestamp. */
export function setMaxTimestampAndLogAppendTime(buf: Buffer, offset: number, logAppendTime: bigint): void {
  setMaxTimestamp(buf, offset, TimestampType.LOG_APPEND_TIME, logAppendTime);
}

// ---------------------------------------------------------------------------------------------
// Walking a records blob batch by batch

export interface BatchSpan {
  /** Position of the batch's first byte in the blob. */
  offset: number;
  /** Total bytes of the batch (LOG_OVERHEAD + batchLength). */
  length: number;
}

export interface SplitOptions {
  /** Largest batch accepted (total bytes); larger is CORRUPT_MESSAGE, as Kafka's ByteBufferLogInputStream. */
  maxBatchBytes?: number;
  /** Also verify each complete batch's CRC (CORRUPT_MESSAGE on mismatch). */
  verifyCrc?: boolean;
}

export interface SplitResult {
  batches: BatchSpan[];
  /**
   * The blob ended inside a batch (a fetch response may end with a partial batch; a produce
   * request must not). The incomplete bytes start at the end of the last listed batch.
   */
  partialTail: boolean;
}

/**
 * Yields each complete batch of `records` without decoding records. Validates sizes and magic
 * before anything else is read. Throws only RecordsError: CORRUPT_MESSAGE for an impossible
 * length, bad magic or (with verifyCrc) bad CRC; UNSUPPORTED_VERSION for a legacy (magic 0 or 1)
 * message set, which raftka does not accept (see index.ts).
 * Returns true from the generator when a partial batch ends the blob.
 */
export function* iterateBatches(records: Buffer, options: SplitOptions = {}): Generator<BatchSpan, boolean, void> {
  const maxBatchBytes = options.maxBatchBytes ?? 0x7fffffff;
  let pos = 0;
  while (pos < records.length) {
    const remaining = records.length - pos;
    if (remaining < LOG_OVERHEAD) return true;
    const batchLength = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    // Smallest legal message is a legacy v0 record (14 bytes); a v2 batch needs 49.
    if (batchLength < 14) throw new RecordsError('CORRUPT_MESSAGE', `record batch length ${batchLength} at ${pos} is below the minimum`);
    const size = LOG_OVERHEAD + batchLength;
    if (size > maxBatchBytes) {
      throw new RecordsError('CORRUPT_MESSAGE', `record batch size ${size} at ${pos} exceeds the largest allowed (${maxBatchBytes})`);
    }
    if (remaining < MAGIC_OFFSET + 1) return true;
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    if (magic === 0 || magic === 1) {
      throw new RecordsError('UNSUPPORTED_VERSION', `legacy message format (magic ${magic}) is not supported; use a client that writes RecordBatch v2`);
    }
    if (magic !== CURRENT_MAGIC) throw new RecordsError('CORRUPT_MESSAGE', `invalid magic ${magic} at ${pos}`);
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
      throw new RecordsError('CORRUPT_MESSAGE', `record batch length ${batchLength} at ${pos} is shorter than the v2 header`);
    }
    if (remaining < size) return true;
    if (options.verifyCrc && !verifyBatchCrc(records, pos)) {
      throw new RecordsError('CORRUPT_MESSAGE', `record batch at ${pos} fails its CRC check`);
    }
    yield { offset: pos, length: size };
    pos += size;
  }
  return false;
}

/** All complete batches of `records` and whether a partial batch ends it. See iterateBatches. */
export function splitBatches(records: Buffer, options: SplitOptions = {}): SplitResult {
  const batches: BatchSpan[] = [];
  const it = iterateBatches(records, options);
  for (;;) {
    const next = it.next();
    if (next.done) return { batches, partialTail: next.value };
    batches.push(next.value);
  }
}

/**
 * What Kafka checks on a Produce request's records before it looks at producer state
 * (ProduceRequest.validateRecords and LogValidator.validateBatch for magic 2): exactly one
 * complete v2 batch (v3+), a valid CRC, base offset 0, a count that agrees with
 * lastOffsetDelta, no control batch from a client, zstd only from Produce v7 on.
 * Returns the batch's span; throws RecordsError with the error Kafka would answer.
 */
export function checkProduceRecords(records: Buffer, produceVersion: number, maxBatchBytes?: number): BatchSpan {
  if (produceVersion < 3) {
    throw new RecordsError('UNSUPPORTED_VERSION', `Produce v${produceVersion} (legacy message format) is not supported`);
  }
  let split: SplitResult;
  try {
    split = splitBatches(records, maxBatchBytes === undefined ? {} : { maxBatchBytes });
  } catch (e) {
    if (e instanceof RecordsError && e.errorName === 'UNSUPPORTED_VERSION') {
      throw new RecordsError('INVALID_RECORD', `Produce v${produceVersion} requests may only contain record batches with magic 2`);
    }
    throw e;
  }
  if (split.partialTail) throw new RecordsError('CORRUPT_MESSAGE', 'records end inside a record batch');
  if (split.batches.length !== 1) {
    throw new RecordsError('INVALID_RECORD', `Produce v${produceVersion} requests must contain exactly one record batch, found ${split.batches.length}`);
  }
  const span = split.batches[0]!;
  if (!verifyBatchCrc(records, span.offset)) throw new RecordsError('CORRUPT_MESSAGE', 'record batch fails its CRC check');
  const h = readBatchHeader(records, span.offset);
  if (h.compression > CompressionType.ZSTD) throw new RecordsError('UNSUPPORTED_COMPRESSION_TYPE', `unknown compression type ${h.compression}`);
  if (h.compression === CompressionType.ZSTD && produceVersion < 7) {
    throw new RecordsError('UNSUPPORTED_COMPRESSION_TYPE', 'zstd compression requires Produce v7 or later');
  }
  if (h.baseOffset !== 0n) throw new RecordsError('INVALID_RECORD', `the baseOffset of the record batch should be 0, but it is ${h.baseOffset}`);
  if (h.lastOffsetDelta < 0) throw new RecordsError('INVALID_RECORD', `batch has an invalid offset range (lastOffsetDelta ${h.lastOffsetDelta})`);
  if (h.recordsCount <= 0) throw new RecordsError('INVALID_RECORD', `invalid reported count for record batch: ${h.recordsCount}`);
  if (h.recordsCount !== h.lastOffsetDelta + 1) {
    throw new RecordsError('INVALID_RECORD', `inconsistent batch offset range [0, ${h.lastOffsetDelta}] and count of records ${h.recordsCount}`);
  }
  if (h.isControl) throw new RecordsError('INVALID_RECORD', 'clients are not allowed to write control records');
  return span;
}
