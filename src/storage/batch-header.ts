/**
 * The few RecordBatch v2 header fields storage needs, read straight from the bytes.
 * Layout (big-endian): baseOffset int64 @0, batchLength int32 @8, partitionLeaderEpoch int32 @12,
 * magic int8 @16, crc uint32 @17, attributes int16 @21, lastOffsetDelta int32 @23,
 * baseTimestamp int64 @27, maxTimestamp int64 @35, producerId int64 @43, producerEpoch int16 @51,
 * baseSequence int32 @53, recordsCount int32 @57, records @61. Total size = 12 + batchLength.
 * Private to storage; the lead may later point it at protocol/records.
 */
export const BATCH_HEADER_SIZE = 61;
/** Size of baseOffset + batchLength: the part not counted in batchLength. */
export const LOG_OVERHEAD = 12;
const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
export const CURRENT_MAGIC = 2;

export const OFF_BASE_OFFSET = 0;
export const OFF_BATCH_LENGTH = 8;
export const OFF_LEADER_EPOCH = 12;
export const OFF_MAGIC = 16;
export const OFF_CRC = 17;
export const OFF_ATTRIBUTES = 21;
export const OFF_LAST_OFFSET_DELTA = 23;
export const OFF_BASE_TIMESTAMP = 27;
export const OFF_MAX_TIMESTAMP = 35;
export const OFF_RECORDS_COUNT = 57;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_LOG_APPEND_TIME = 0x08;
export const ATTR_CONTROL = 0x20;

export interface BatchHeader {
  baseOffset: bigint;
  /** Whole batch size in bytes (12 + batchLength). */
  size: number;
  epoch: number;
  magic: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  recordsCount: number;
}

export function readHeader(buf: Buffer, pos: number): BatchHeader {
  return {
    baseOffset: buf.readBigInt64BE(pos + OFF_BASE_OFFSET),
    size: LOG_OVERHEAD + buf.readInt32BE(pos + OFF_BATCH_LENGTH),
    epoch: buf.readInt32BE(pos + OFF_LEADER_EPOCH),
    magic: buf.readInt8(pos + OFF_MAGIC),
    attributes: buf.readInt16BE(pos + OFF_ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA),
    baseTimestamp: buf.readBigInt64BE(pos + OFF_BASE_TIMESTAMP),
    maxTimestamp: buf.readBigInt64BE(pos + OFF_MAX_TIMESTAMP),
    recordsCount: buf.readInt32BE(pos + OFF_RECORDS_COUNT),
  };
}

/** Whole-batch size from the first 12 bytes, or -1 when fewer than 12 bytes are available. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  return LOG_OVERHEAD + buf.readInt32BE(pos + OFF_BATCH_LENGTH);
}

/**
 * Why a batch header is not acceptable, or undefined when it is. Checks only what can be
 * checked without the CRC: magic, a sane length that fits in `available` bytes, offsets.
 */
export function headerProblem(buf: Buffer, pos: number, available: number): string | undefined {
  if (available < BATCH_HEADER_SIZE) return `only ${available} bytes left, a batch header needs ${BATCH_HEADER_SIZE}`;
  const batchLength = buf.readInt32BE(pos + OFF_BATCH_LENGTH);
  if (batchLength < MIN_BATCH_LENGTH) return `batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}`;
  if (LOG_OVERHEAD + batchLength > available) return `batch of ${LOG_OVERHEAD + batchLength} bytes runs past the end (${available} bytes left)`;
  const magic = buf.readInt8(pos + OFF_MAGIC);
  if (magic !== CURRENT_MAGIC) return `magic ${magic} is not ${CURRENT_MAGIC}`;
  const lastOffsetDelta = buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA);
  if (lastOffsetDelta < 0) return `negative lastOffsetDelta ${lastOffsetDelta}`;
  if (buf.readBigInt64BE(pos + OFF_BASE_OFFSET) < 0n) return 'negative baseOffset';
  return undefined;
}

export function setBaseOffset(buf: Buffer, pos: number, offset: bigint): void {
  buf.writeBigInt64BE(offset, pos + OFF_BASE_OFFSET);
}

export function setLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + OFF_LEADER_EPOCH);
}
