/** Typed storage errors; the Kafka layer maps them to error codes at the edge. */

/** Kafka OFFSET_OUT_OF_RANGE (error code 1). */
export class OffsetOutOfRangeError extends Error {
  readonly code = 1;
  constructor(readonly offset: bigint, readonly logStartOffset: bigint, readonly logEndOffset: bigint) {
    super(`offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}]`);
    this.name = 'OffsetOutOfRangeError';
  }
}

/** Kafka CORRUPT_MESSAGE (2) / INVALID_RECORD (87): a batch handed to append is malformed. */
export class InvalidRecordError extends Error {
  readonly code = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRecordError';
  }
}

/**
 * Data that was durable (below the recovery point) is damaged, or the files contradict each
 * other. The partition must not start: treating it as empty could lose acknowledged writes.
 * Kafka KAFKA_STORAGE_ERROR (56) at the edge.
 */
export class LogCorruptionError extends Error {
  readonly code = 56;
  constructor(readonly dir: string, message: string) {
    super(`${dir}: ${message}`);
    this.name = 'LogCorruptionError';
  }
}

/** A caller broke a storage contract (append at the wrong offset, truncation below the commit point...). */
export class StorageStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageStateError';
  }
}
