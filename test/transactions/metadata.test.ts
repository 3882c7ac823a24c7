import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTxnTransition, TransactionMetadata, TxnState, txnStateFromName, txnStateName, type TxnTransit } from '../../src/transactions/metadata.js';

const TP = [{ topic: 't', partition: 0 }];

function fresh(state: TxnState = TxnState.Empty, epoch = 0): TransactionMetadata {
  return new TransactionMetadata('id', 10n, -1n, epoch, -1, 60_000, state, -1, 0);
}

/** Prepares and completes, as the coordinator does once the record is committed. */
function apply(m: TransactionMetadata, t: TxnTransit): void { m.completeTransition(t); }

describe('transaction state machine (Kafka TransactionMetadata)', () => {
  it('names and ids match Kafka\'s TransactionState', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => txnStateName(i as TxnState)),
      ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence']);
    assert.equal(txnStateFromName('PrepareAbort'), TxnState.PrepareAbort);
    assert.equal(txnStateFromName('prepareabort'), undefined);
  });

  it('walks Empty → Ongoing → PrepareCommit → CompleteCommit → Ongoing, partitions cleared on completion', () => {
    const m = fresh();
    apply(m, m.prepareAddPartitions(TP, 100));
    assert.deepEqual([m.state, m.txnStartTimestamp, m.partitionList()], [TxnState.Ongoing, 100, TP]);
    apply(m, m.prepareAddPartitions([{ topic: 't', partition: 1 }], 150));
    assert.equal(m.txnStartTimestamp, 100, 'adding to an ongoing transaction keeps its start');
    apply(m, m.prepareAbortOrCommit(TxnState.PrepareCommit, 200));
    apply(m, m.prepareComplete(300));
    assert.deepEqual([m.state, m.partitions.size, m.txnLastUpdateTimestamp], [TxnState.CompleteCommit, 0, 300]);
    apply(m, m.prepareAddPartitions(TP, 400));
    assert.equal(m.txnStartTimestamp, 400, 'a new transaction starts now');
  });

  it('refuses a second transition while one is pending, and transitions Kafka does not allow', () => {
    const m = fresh();
    m.prepareAddPartitions(TP, 1);
    assert.throws(() => m.prepareAddPartitions(TP, 2), IllegalTxnTransition);
    m.pendingState = undefined;
    assert.throws(() => m.prepareAbortOrCommit(TxnState.PrepareCommit, 1), IllegalTxnTransition, 'Empty cannot commit');
    assert.throws(() => m.prepareFenceProducerEpoch(), IllegalTxnTransition, 'only an Ongoing transaction is fenced');
    const done = fresh(TxnState.CompleteAbort);
    assert.throws(() => done.prepareComplete(1), IllegalTxnTransition);
  });

  it('checks a completed transition against the pending one', () => {
    const m = fresh();
    const t = m.prepareAddPartitions(TP, 1);
    assert.throws(() => m.completeTransition({ ...t, state: TxnState.PrepareCommit }), IllegalTxnTransition);
    assert.throws(() => m.completeTransition({ ...t, producerEpoch: 5 }), IllegalTxnTransition);
    m.completeTransition(t);
    assert.throws(() => m.completeTransition(t), IllegalTxnTransition, 'nothing pending any more');
  });

  it('fences an Ongoing transaction with one epoch bump, not two after a failed fence', () => {
    const m = fresh(TxnState.Ongoing, 3);
    assert.equal(m.prepareFenceProducerEpoch().producerEpoch, 4);
    m.pendingState = undefined;
    m.hasFailedEpochFence = true;
    assert.equal(m.prepareFenceProducerEpoch().producerEpoch, 3);
  });

  it('bumps epochs on InitProducerId and rotates the producer id once they are exhausted', () => {
    const m = fresh(TxnState.CompleteCommit, 5);
    const t = m.prepareIncrementProducerEpoch(30_000, undefined, 9);
    assert.ok(t !== 'fenced');
    assert.deepEqual([t.producerEpoch, t.lastProducerEpoch, t.txnTimeoutMs, t.txnStartTimestamp], [6, -1, 30_000, -1]);
    apply(m, t);
    assert.equal(m.txnTimeoutMs, 30_000);
    const x = fresh(TxnState.Empty, 32766);
    assert.equal(x.isProducerEpochExhausted, true);
    assert.throws(() => x.prepareIncrementProducerEpoch(1000, undefined, 1), IllegalTxnTransition);
    const r = x.prepareProducerIdRotation(99n, 1000, 1, true);
    assert.deepEqual([r.producerId, r.producerEpoch, r.lastProducerEpoch, r.lastProducerId], [99n, 0, 32766, 10n]);
    apply(x, r);
    assert.deepEqual([x.producerId, x.producerEpoch, x.lastProducerId], [99n, 0, 10n]);
  });
});
