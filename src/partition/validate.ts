import { checkProduceRecords, isRecordsError } from '../../protocol/records/index.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';

/**
 * What the leader checks before a produced batch goes into the Raft log, without decoding its
 * records: Kafka's rules for Produce v3+ (one v2 batch, valid CRC, consistent counts, zstd only
 * from v7), and max.message.bytes.
 */
export function validateProducedRecords(records: Buffer, produceVersion: number, maxMessageBytes: number): void {
  if (records.length > maxMessageBytes) {
    throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `The record batch of ${records.length} bytes exceeds max.message.bytes (${maxMessageBytes})`);
  }
  try {
    checkProduceRecords(records, produceVersion);
  } catch (err) {
    if (isRecordsError(err)) throw new KafkaError(err.errorCode, err.message);
    throw err;
  }
}
