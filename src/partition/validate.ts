import {
  checkProduceRecords, CompressionType, isRecordsError, iterateRecords, readBatchHeader, setMaxTimestampAndLogAppendTime,
  type BatchHeader,
} from '../../protocol/records/index.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';

/** The topic configs that decide what a leader accepts (Kafka's LogConfig / LogValidator inputs). */
export interface ProduceConfig {
  /** max.message.bytes: the largest record batch accepted (Kafka default 1048588). */
  readonly maxMessageBytes: number;
  /** message.timestamp.type */
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  /** message.timestamp.before.max.ms: how far in the past a CreateTime timestamp may be. */
  readonly timestampBeforeMaxMs: bigint;
  /** message.timestamp.after.max.ms: how far in the future a CreateTime timestamp may be. */
  readonly timestampAfterMaxMs: bigint;
  /** cleanup.policy includes compact: every record needs a key. */
  readonly compacted: boolean;
  /** min.insync.replicas: acks=-1 needs at least this many in-sync replicas. */
  readonly minInsyncReplicas: number;
}

const LONG_MAX = 9223372036854775807n;

export const DEFAULT_PRODUCE_CONFIG: ProduceConfig = {
  maxMessageBytes: 1048588,
  timestampType: 'CreateTime',
  timestampBeforeMaxMs: LONG_MAX,
  timestampAfterMaxMs: LONG_MAX,
  compacted: false,
  minInsyncReplicas: 1,
};

/** Builds a ProduceConfig from topic configs (name → value; missing names take `defaults`). */
export function produceConfigFrom(get: (name: string) => string | undefined): ProduceConfig {
  const num = (name: string, fallback: number): number => { const v = get(name); return v === undefined ? fallback : Number(v); };
  const long = (name: string, fallback: bigint): bigint => { const v = get(name); return v === undefined || !/^-?\d+$/.test(v) ? fallback : BigInt(v); };
  return {
    maxMessageBytes: num('max.message.bytes', DEFAULT_PRODUCE_CONFIG.maxMessageBytes),
    timestampType: get('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    timestampBeforeMaxMs: long('message.timestamp.before.max.ms', LONG_MAX),
    timestampAfterMaxMs: long('message.timestamp.after.max.ms', LONG_MAX),
    compacted: (get('cleanup.policy') ?? 'delete').includes('compact'),
    minInsyncReplicas: num('min.insync.replicas', 1),
  };
}

/** One rejected record of a batch (Produce v8+ RecordErrors). */
export interface RecordError {
  readonly batchIndex: number;
  readonly message: string | null;
}

/** A produce error that names the records at fault, as Kafka's RecordValidationException. */
export class RecordValidationError extends KafkaError {
  constructor(code: number, message: string, readonly recordErrors: readonly RecordError[]) {
    super(code, message);
    this.name = 'RecordValidationError';
  }
}

/** Kafka's cap on the record errors it lists. */
const MAX_RECORD_ERRORS = 3;

/**
 * What the leader checks before a produced batch goes into the Raft log, as Kafka's
 * ProduceRequest.validateRecords and LogValidator do for magic 2: one v2 batch, valid CRC,
 * consistent counts, zstd only from v7, max.message.bytes, then the records themselves
 * (well-formed, offset deltas in order, keys on compacted topics, CreateTime timestamps within
 * message.timestamp.before/after.max.ms). Compressed batches are only decompressed when a record
 * rule needs their contents (timestamp bounds or compaction); they are stored as they come.
 * Returns the batch's header; throws KafkaError.
 */
export function validateProducedRecords(
  records: Buffer, produceVersion: number, config: ProduceConfig | number, nowMs = Date.now(),
): BatchHeader {
  const cfg: ProduceConfig = typeof config === 'number' ? { ...DEFAULT_PRODUCE_CONFIG, maxMessageBytes: config } : config;
  if (records.length > cfg.maxMessageBytes) {
    throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `The record batch of ${records.length} bytes exceeds max.message.bytes (${cfg.maxMessageBytes})`);
  }
  let header: BatchHeader;
  try {
    const span = checkProduceRecords(records, produceVersion);
    header = readBatchHeader(records, span.offset);
  } catch (err) {
    if (isRecordsError(err)) throw new KafkaError(err.errorCode, err.message);
    throw err;
  }
  const checkTimestamps = cfg.timestampType === 'CreateTime' && (cfg.timestampBeforeMaxMs < LONG_MAX || cfg.timestampAfterMaxMs < LONG_MAX);
  if (header.compression === CompressionType.NONE || checkTimestamps || cfg.compacted) {
    validateRecords(records, header, cfg, checkTimestamps, BigInt(nowMs));
  }
  return header;
}

function validateRecords(records: Buffer, header: BatchHeader, cfg: ProduceConfig, checkTimestamps: boolean, now: bigint): void {
  const timestampErrors: RecordError[] = [];
  const keyErrors: RecordError[] = [];
  let index = 0;
  try {
    for (const r of iterateRecords(records, 0, { maxDecompressedBytes: Math.max(cfg.maxMessageBytes * 16, 64 << 20) })) {
      if (r.offsetDelta !== index) {
        throw new KafkaError(ErrorCode.INVALID_RECORD, `record ${index} of the batch has offset delta ${r.offsetDelta}`);
      }
      if (cfg.compacted && r.key === null) keyErrors.push({ batchIndex: index, message: 'Compacted topic cannot accept message without key in topic partition' });
      if (checkTimestamps) {
        const ts = header.baseTimestamp + r.timestampDelta;
        if (ts < now - cfg.timestampBeforeMaxMs || ts > now + cfg.timestampAfterMaxMs) {
          timestampErrors.push({
            batchIndex: index,
            message: `Timestamp ${ts} of message with offset ${index} is out of range. The timestamp should be within [${now - cfg.timestampBeforeMaxMs}, ${now + cfg.timestampAfterMaxMs}]`,
          });
        }
      }
      index++;
    }
  } catch (err) {
    if (isRecordsError(err)) throw new KafkaError(err.errorCode, err.message);
    throw err;
  }
  if (keyErrors.length > 0) {
    throw new RecordValidationError(ErrorCode.INVALID_RECORD, `One or more records have been rejected due to ${keyErrors.length} record errors in total`, keyErrors.slice(0, MAX_RECORD_ERRORS));
  }
  if (timestampErrors.length > 0) {
    throw new RecordValidationError(ErrorCode.INVALID_TIMESTAMP, 'One or more records have been rejected due to invalid timestamp', timestampErrors.slice(0, MAX_RECORD_ERRORS));
  }
}

/** LogAppendTime topics: the broker's clock becomes the batch's timestamp (type bit set, CRC recomputed). */
export function stampLogAppendTime(records: Buffer, nowMs: bigint): void {
  setMaxTimestampAndLogAppendTime(records, 0, nowMs);
}
