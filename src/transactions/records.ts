/**
 * The records of `__transaction_state`, byte for byte as Kafka writes them: the key is an int16
 * version (0, Kafka's CoordinatorRecordType.TRANSACTION_LOG) followed by TransactionLogKey; the
 * value an int16 version (0, as Kafka before transaction.version 1) followed by
 * TransactionLogValue, or null for a tombstone (the transactional id expired).
 */
import { Reader, Writer } from '../../protocol/primitives.js';
import {
  decodeTransactionLogKey, decodeTransactionLogValue, encodeTransactionLogKey, encodeTransactionLogValue,
  type TransactionLogValue,
} from '../../protocol/generated/coordinator/index.js';
import { NO_PRODUCER_EPOCH, TxnState, txnStateFromId, type TopicPartition, type TxnTransit } from './metadata.js';

export const TXN_LOG_KEY_VERSION = 0;
export const TXN_LOG_VALUE_VERSION = 0;
const HIGHEST_VALUE_VERSION = 1;

/** What a value record says about a transactional id (the in-memory last epoch is not stored). */
export interface TxnLogEntry {
  readonly producerId: bigint;
  readonly previousProducerId: bigint;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TxnState;
  readonly partitions: readonly TopicPartition[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

export type TxnLogRecord = { transactionalId: string; value: TxnLogEntry | null };

export function txnLogKey(transactionalId: string): Buffer {
  const w = new Writer(32 + transactionalId.length * 3);
  w.int16(TXN_LOG_KEY_VERSION);
  encodeTransactionLogKey(w, TXN_LOG_KEY_VERSION, { transactionalId });
  return w.toBuffer();
}

export function txnLogValue(t: TxnTransit): Buffer {
  if (t.state === TxnState.Empty && t.partitions.length > 0) throw new Error('an Empty transaction has no partitions');
  const byTopic = new Map<string, number[]>();
  for (const tp of t.partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  const v: TransactionLogValue = {
    producerId: t.producerId, previousProducerId: -1n, nextProducerId: -1n, producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs, transactionStatus: t.state,
    transactionPartitions: t.state === TxnState.Empty ? null : [...byTopic].map(([topic, partitionIds]) => ({ topic, partitionIds })),
    transactionLastUpdateTimestampMs: BigInt(t.txnLastUpdateTimestamp), transactionStartTimestampMs: BigInt(t.txnStartTimestamp),
    clientTransactionVersion: 0,
  };
  const w = new Writer(64);
  w.int16(TXN_LOG_VALUE_VERSION);
  encodeTransactionLogValue(w, TXN_LOG_VALUE_VERSION, v);
  return w.toBuffer();
}

/** Decodes one record; null for a key of another record type (skipped, as Kafka does). */
export function decodeTxnLogRecord(key: Buffer, value: Buffer | null): TxnLogRecord | null {
  const r = new Reader(key);
  if (r.int16() !== TXN_LOG_KEY_VERSION) return null;
  const { transactionalId } = decodeTransactionLogKey(r, TXN_LOG_KEY_VERSION);
  if (value === null) return { transactionalId, value: null };
  const vr = new Reader(value);
  const version = vr.int16();
  if (version < 0 || version > HIGHEST_VALUE_VERSION) throw new Error(`unknown transaction log value version ${version}`);
  const v = decodeTransactionLogValue(vr, version);
  const state = txnStateFromId(v.transactionStatus);
  const partitions: TopicPartition[] = [];
  if (state !== TxnState.Empty) for (const p of v.transactionPartitions ?? []) for (const partition of p.partitionIds) partitions.push({ topic: p.topic, partition });
  return {
    transactionalId,
    value: {
      producerId: v.producerId, previousProducerId: v.previousProducerId, producerEpoch: v.producerEpoch, lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnTimeoutMs: v.transactionTimeoutMs, state, partitions,
      txnStartTimestamp: Number(v.transactionStartTimestampMs), txnLastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    },
  };
}
