import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/kafka/errors.js';
import { ProducerStateManager } from '../../src/partition/producer-state.js';

const codeOf = (fn: () => unknown): number => {
  try { fn(); } catch (err) { if (err instanceof KafkaError) return err.code; throw err; }
  return ErrorCode.NONE;
};
const meta = (firstSeq: number, count: number, firstOffset: bigint) => ({
  firstSeq, lastSeq: firstSeq + count - 1, firstOffset, lastOffset: firstOffset + BigInt(count - 1), timestamp: 5n,
});

describe('transactional producer state', () => {
  it('a transaction opens at its first batch and ends with its marker', () => {
    const s = new ProducerStateManager();
    s.record(1n, 0, meta(0, 2, 10n), 0, true);
    s.record(1n, 0, meta(2, 1, 15n), 0, true);
    assert.equal(s.entry(1n)!.currentTxnFirstOffset, 10n);
    assert.deepEqual(s.ongoingTransactions(), [{ producerId: 1n, firstOffset: 10n }]);
    const ended = s.recordMarker(1n, 0, 3, 20n, false, 7n, 0);
    assert.deepEqual(ended, { producerId: 1n, firstOffset: 10n, markerOffset: 20n, commit: false });
    assert.equal(s.entry(1n)!.currentTxnFirstOffset, undefined);
    assert.equal(s.entry(1n)!.coordinatorEpoch, 3);
    // Same epoch: the next transaction continues the sequence.
    assert.equal(codeOf(() => s.check(1n, 0, 0, 0)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(s.check(1n, 0, 3, 3), undefined);
  });

  it('a non-transactional batch inside an open transaction is INVALID_TXN_STATE', () => {
    const s = new ProducerStateManager();
    s.record(2n, 0, meta(0, 1, 0n), 0, true);
    assert.equal(codeOf(() => s.checkTransactional(2n, false)), ErrorCode.INVALID_TXN_STATE);
    assert.equal(codeOf(() => s.checkTransactional(2n, true)), ErrorCode.NONE);
    s.recordMarker(2n, 0, 0, 1n, true, 0n, 0);
    assert.equal(codeOf(() => s.checkTransactional(2n, false)), ErrorCode.NONE);
  });

  it('markers: older producer epoch fenced, older coordinator epoch fenced, newer producer epoch adopted', () => {
    const s = new ProducerStateManager();
    s.record(3n, 5, meta(0, 1, 0n), 0, true);
    assert.equal(codeOf(() => s.checkMarker(3n, 4, 0)), ErrorCode.INVALID_PRODUCER_EPOCH);
    s.recordMarker(3n, 5, 2, 1n, true, 0n, 0);
    assert.equal(codeOf(() => s.checkMarker(3n, 5, 1)), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    assert.equal(codeOf(() => s.checkMarker(3n, 6, 2)), ErrorCode.NONE);
    // A coordinator-side epoch bump (abort of a timed-out transaction) resets the sequences.
    s.recordMarker(3n, 6, 2, 2n, false, 0n, 0);
    assert.equal(s.entry(3n)!.epoch, 6);
    assert.deepEqual(s.entry(3n)!.batches, []);
    assert.equal(codeOf(() => s.check(3n, 5, 1, 1)), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(codeOf(() => s.checkEpoch(3n, 5)), ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('a marker without data: the transaction starts at the marker; producers with open transactions never expire', () => {
    const s = new ProducerStateManager();
    assert.equal(s.recordMarker(4n, 0, 0, 42n, false, 0n, 0).firstOffset, 42n);
    s.record(5n, 0, meta(0, 1, 50n), 0, true);
    assert.equal(s.expire(10_000, 1000), 1); // producer 4 (idle, nothing open) goes; 5 stays
    assert.equal(s.entry(5n)?.currentTxnFirstOffset, 50n);
  });
});
