import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/kafka/errors.js';
import { lastSequence, NUM_BATCHES_TO_RETAIN, ProducerStateManager } from '../../src/partition/producer-state.js';
import { raftIsr } from '../../src/partition/isr.js';

const codeOf = (fn: () => unknown): number => {
  try { fn(); } catch (err) { if (err instanceof KafkaError) return err.code; throw err; }
  return ErrorCode.NONE;
};
const meta = (firstSeq: number, count: number, firstOffset: bigint) => ({
  firstSeq, lastSeq: firstSeq + count - 1, firstOffset, lastOffset: firstOffset + BigInt(count - 1), timestamp: 0n,
});

describe('producer state', () => {
  it('sequences wrap at Int32 max', () => {
    assert.equal(lastSequence(10, 4), 14);
    assert.equal(lastSequence(0x7fffffff, 0), 0x7fffffff);
    assert.equal(lastSequence(0x7fffffff, 1), 0);
    assert.equal(lastSequence(0x7ffffffe, 3), 1);
  });

  it('accepts an unknown producer at any sequence, then only the next sequence', () => {
    const s = new ProducerStateManager();
    assert.equal(s.check(7n, 0, 42, 44), undefined);
    s.record(7n, 0, meta(42, 3, 100n), 0);
    assert.equal(codeOf(() => s.check(7n, 0, 46, 46)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(codeOf(() => s.check(7n, 0, 44, 44)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(s.check(7n, 0, 45, 45), undefined);
  });

  it('finds duplicates among the last 5 batches and forgets older ones', () => {
    const s = new ProducerStateManager();
    for (let i = 0; i < 7; i++) s.record(1n, 0, meta(i * 2, 2, BigInt(i * 2)), 0);
    assert.equal(s.entry(1n)!.batches.length, NUM_BATCHES_TO_RETAIN);
    assert.equal(s.check(1n, 0, 12, 13)?.firstOffset, 12n);
    assert.equal(s.check(1n, 0, 4, 5)?.firstOffset, 4n);
    // Older than the retained five: no longer known as a duplicate, so out of order.
    assert.equal(codeOf(() => s.check(1n, 0, 2, 3)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Same first sequence, different range: not a duplicate.
    assert.equal(codeOf(() => s.check(1n, 0, 12, 12)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('fences older epochs and makes a new epoch start at 0', () => {
    const s = new ProducerStateManager();
    s.record(3n, 2, meta(0, 1, 0n), 0);
    assert.equal(codeOf(() => s.check(3n, 1, 1, 1)), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(codeOf(() => s.check(3n, 3, 5, 5)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(s.check(3n, 3, 0, 0), undefined);
    s.record(3n, 3, meta(0, 1, 1n), 0);
    assert.equal(s.entry(3n)!.batches.length, 1);
    // A duplicate only matches in its own epoch.
    assert.equal(s.check(3n, 3, 0, 0)?.firstOffset, 1n);
  });

  it('expires idle producers', () => {
    const s = new ProducerStateManager();
    s.record(1n, 0, meta(0, 1, 0n), 1000);
    s.record(2n, 0, meta(0, 1, 1n), 5000);
    assert.equal(s.expire(6001, 2000), 1);
    assert.equal(s.entry(1n), undefined);
    assert.ok(s.entry(2n) !== undefined);
  });

  it('ISR from Raft progress: leader plus followers caught up within the lag', () => {
    const progress = new Map([[2, { lastCaughtUpTick: 990 }], [3, { lastCaughtUpTick: 600 }]]);
    assert.deepEqual(raftIsr(1, 1000, progress, 300), [1, 2]);
    assert.deepEqual(raftIsr(1, 1000, new Map(), 300), [1]);
  });
});
