import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/util/log.js';
import { ErrorCode, KafkaError } from '../../src/kafka/errors.js';
import { ManualScheduler } from '../../src/groups/scheduler.js';
import { TxnShard, TRANSACTIONAL_ID_NOT_FOUND, type TxnShardConfig } from '../../src/transactions/shard.js';
import { TxnMarkerSender, type MarkerTransport } from '../../src/transactions/markers.js';
import { decodeTxnLogRecord, txnLogKey, type TxnLogRecord } from '../../src/transactions/records.js';
import { TxnState, txnStateName } from '../../src/transactions/metadata.js';
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';

const CONFIG: TxnShardConfig = { transactionMaxTimeoutMs: 900_000, transactionalIdExpirationMs: 7 * 24 * 3600_000 };
const COORDINATOR_EPOCH = 7;

interface Sent { readonly brokerId: number; readonly request: WriteTxnMarkersRequest }

/** A shard over an in-memory log, fake producer ids and a marker transport the test controls. */
class Harness {
  readonly clock = new ManualScheduler();
  readonly log: TxnLogRecord[] = [];
  readonly sent: Sent[] = [];
  /** Error code a partition answers (default NONE); `hold` keeps answers back until released. */
  readonly answers = new Map<string, number>();
  held: (() => void)[] = [];
  hold = false;
  writeError: Error | null = null;
  nextProducerId = 1000n;
  shard: TxnShard;

  constructor(readonly leaders: (topic: string, partition: number) => number | undefined = () => 2, readonly config: TxnShardConfig = CONFIG) {
    this.shard = this.newShard();
  }

  newShard(): TxnShard {
    const transport: MarkerTransport = async (brokerId, request) => {
      this.sent.push({ brokerId, request });
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
      return answer(request, (topic, p) => this.answers.get(`${topic}-${p}`) ?? ErrorCode.NONE);
    };
    const markers = new TxnMarkerSender(transport, this.leaders, this.clock, silentLogger, 100);
    return new TxnShard(0, COORDINATOR_EPOCH, async (key, value) => {
      await Promise.resolve();
      if (this.writeError !== null) throw this.writeError;
      this.log.push(decodeTxnLogRecord(key, value)!);
    }, markers, this.clock, this.config, () => Promise.resolve(this.nextProducerId++), silentLogger);
  }

  release(): void { const h = this.held; this.held = []; for (const r of h) r(); }
  states(id = 't1'): string[] { return this.log.filter((r) => r.transactionalId === id).map((r) => r.value === null ? 'tombstone' : txnStateName(r.value.state)); }
  state(id = 't1'): string | undefined { const m = this.shard.txns.get(id); return m === undefined ? undefined : txnStateName(m.state); }
  /** Lets marker jobs run to their end (backoffs included). */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) { await new Promise((r) => setImmediate(r)); this.clock.advance(100); }
    await this.shard.idle();
  }
}

function answer(req: WriteTxnMarkersRequest, code: (topic: string, p: number) => number): WriteTxnMarkersResponse {
  return {
    markers: req.markers.map((m) => ({
      producerId: m.producerId,
      topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, errorCode: code(t.name, p) })) })),
    })),
  };
}

const TP = [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }];

async function begin(h: Harness, id = 't1'): Promise<{ producerId: bigint; producerEpoch: number }> {
  const r = await h.shard.initProducerId(id, 60_000, undefined);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(await h.shard.addPartitions(id, r.producerId, r.producerEpoch, TP), ErrorCode.NONE);
  return r;
}

describe('transaction coordinator: InitProducerId', () => {
  let h: Harness;
  beforeEach(() => { h = new Harness(); });

  it('gives a new transactional id a fresh producer id at epoch 0, written before the answer', async () => {
    const r = await h.shard.initProducerId('t1', 60_000, undefined);
    assert.deepEqual(r, { errorCode: 0, producerId: 1000n, producerEpoch: 0 });
    assert.deepEqual(h.states(), ['Empty']);
    assert.equal(h.log[0]!.value!.producerEpoch, 0);
    assert.equal(h.log[0]!.value!.txnTimeoutMs, 60_000);
  });

  it('bumps the epoch of an existing id (fencing the previous producer), keeping the producer id', async () => {
    await h.shard.initProducerId('t1', 60_000, undefined);
    const r = await h.shard.initProducerId('t1', 30_000, undefined);
    assert.deepEqual(r, { errorCode: 0, producerId: 1000n, producerEpoch: 1 });
    assert.equal(await h.shard.addPartitions('t1', 1000n, 0, TP), ErrorCode.PRODUCER_FENCED);
    assert.equal(await h.shard.endTransaction('t1', 1000n, 0, true), ErrorCode.PRODUCER_FENCED);
  });

  it('rejects a transaction timeout above transaction.max.timeout.ms', async () => {
    assert.equal((await h.shard.initProducerId('t1', 900_001, undefined)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    assert.equal((await h.shard.initProducerId('', 1000, undefined)).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(h.log.length, 0);
  });

  it('moves to a new producer id at epoch 0 once the epochs are exhausted', async () => {
    h.shard.replay({ transactionalId: 't1', value: {
      producerId: 5n, previousProducerId: -1n, producerEpoch: 32766, lastProducerEpoch: -1, txnTimeoutMs: 1000, state: TxnState.CompleteCommit,
      partitions: [], txnStartTimestamp: 1, txnLastUpdateTimestamp: 1,
    } });
    assert.deepEqual(await h.shard.initProducerId('t1', 60_000, undefined), { errorCode: 0, producerId: 1000n, producerEpoch: 0 });
  });

  it('KIP-360: a producer naming its current epoch gets a bump, a retry naming the last epoch the same answer, any other epoch PRODUCER_FENCED', async () => {
    await h.shard.initProducerId('t1', 60_000, undefined);
    const bumped = await h.shard.initProducerId('t1', 60_000, { producerId: 1000n, epoch: 0 });
    assert.deepEqual(bumped, { errorCode: 0, producerId: 1000n, producerEpoch: 1 });
    const retried = await h.shard.initProducerId('t1', 60_000, { producerId: 1000n, epoch: 0 });
    assert.deepEqual(retried, { errorCode: 0, producerId: 1000n, producerEpoch: 1 });
    assert.equal((await h.shard.initProducerId('t1', 60_000, { producerId: 1000n, epoch: 5 })).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal((await h.shard.initProducerId('t1', 60_000, { producerId: 77n, epoch: 1 })).errorCode, ErrorCode.PRODUCER_FENCED);
  });

  it('aborts the ongoing transaction of a previous incarnation first: CONCURRENT_TRANSACTIONS, markers at the bumped epoch, then a second bump', async () => {
    const first = await begin(h);
    h.hold = true;
    const r = await h.shard.initProducerId('t1', 60_000, undefined);
    assert.equal(r.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(h.state(), 'PrepareAbort');
    assert.equal(h.log.at(-1)!.value!.producerEpoch, first.producerEpoch + 1);
    // Retries while the markers are pending still get CONCURRENT_TRANSACTIONS.
    assert.equal((await h.shard.initProducerId('t1', 60_000, undefined)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    await new Promise((r2) => setImmediate(r2));
    assert.equal(h.sent.length, 1);
    const m = h.sent[0]!.request.markers[0]!;
    assert.deepEqual([m.transactionResult, m.producerEpoch, m.coordinatorEpoch], [false, 1, COORDINATOR_EPOCH]);
    h.hold = false;
    h.release();
    await h.settle();
    assert.equal(h.state(), 'CompleteAbort');
    const again = await h.shard.initProducerId('t1', 60_000, undefined);
    assert.deepEqual(again, { errorCode: 0, producerId: first.producerId, producerEpoch: 2 });
    assert.equal(await h.shard.endTransaction('t1', first.producerId, first.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort', 'Empty']);
  });
});

describe('transaction coordinator: AddPartitionsToTxn and EndTxn', () => {
  let h: Harness;
  beforeEach(() => { h = new Harness(); });

  it('checks the producer id and epoch', async () => {
    assert.equal(await h.shard.addPartitions('nobody', 1n, 0, TP), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const r = await h.shard.initProducerId('t1', 60_000, undefined);
    assert.equal(await h.shard.addPartitions('t1', r.producerId + 1n, 0, TP), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await h.shard.addPartitions('t1', r.producerId, 3, TP), ErrorCode.PRODUCER_FENCED);
    assert.equal(await h.shard.endTransaction('nobody', 1n, 0, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, 0, true), ErrorCode.INVALID_TXN_STATE, 'nothing to commit in Empty');
  });

  it('commits: Ongoing, PrepareCommit durable before the answer, markers to every partition, then CompleteCommit', async () => {
    const r = await begin(h);
    assert.equal(h.state(), 'Ongoing');
    // Adding partitions already in the transaction writes nothing.
    const n = h.log.length;
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, [TP[0]!]), ErrorCode.NONE);
    assert.equal(h.log.length, n);
    h.hold = true;
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true), ErrorCode.NONE);
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareCommit']);
    assert.deepEqual(h.log.at(-1)!.value!.partitions, TP);
    // While the markers are pending: the next transaction waits, a repeated commit too, an abort is illegal.
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true), ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, false), ErrorCode.INVALID_TXN_STATE);
    await new Promise((r2) => setImmediate(r2));
    const m = h.sent[0]!.request.markers[0]!;
    assert.equal(h.sent[0]!.brokerId, 2);
    assert.deepEqual([m.producerId, m.producerEpoch, m.transactionResult, m.coordinatorEpoch], [r.producerId, r.producerEpoch, true, COORDINATOR_EPOCH]);
    assert.deepEqual(m.topics, [{ name: 'orders', partitionIndexes: [0, 1] }]);
    h.hold = false;
    h.release();
    await h.settle();
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    assert.deepEqual(h.log.at(-1)!.value!.partitions, []);
    // A retried EndTxn of the finished commit succeeds; the next transaction can start.
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true), ErrorCode.NONE);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, false), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.NONE);
  });

  it('with a wait configured, the next transaction\'s AddPartitionsToTxn waits for the markers instead of answering CONCURRENT_TRANSACTIONS at once', async () => {
    h = new Harness(undefined, { ...CONFIG, concurrentTransactionsWaitMs: 200 });
    const r = await begin(h);
    h.hold = true;
    await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true);
    const waiting = h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP);
    await new Promise((r2) => setImmediate(r2));
    h.hold = false;
    h.release();
    assert.equal(await waiting, ErrorCode.NONE, 'answered once the markers and CompleteCommit are written');
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit', 'Ongoing']);
    // Markers that take longer than the wait: CONCURRENT_TRANSACTIONS, as Kafka.
    h.hold = true;
    await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, false);
    const late = h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP);
    await new Promise((r2) => setImmediate(r2));
    h.clock.advance(200);
    assert.equal(await late, ErrorCode.CONCURRENT_TRANSACTIONS);
    h.hold = false;
    h.release();
    await h.settle();
  });

  it('sends markers to each partition leader, retrying the ones whose leader is unknown or moved', async () => {
    let leader1 = -1;
    h = new Harness((_t, p) => p === 0 ? 1 : leader1);
    h.answers.set('orders-0', ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const r = await begin(h);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, false), ErrorCode.NONE);
    for (let i = 0; i < 3; i++) { await new Promise((r2) => setImmediate(r2)); h.clock.advance(100); }
    assert.equal(h.state(), 'PrepareAbort');
    h.answers.delete('orders-0');
    leader1 = 3;
    await h.settle();
    assert.equal(h.state(), 'CompleteAbort');
    assert.deepEqual(new Set(h.sent.map((s) => s.brokerId)), new Set([1, 3]));
    assert.ok(h.sent.filter((s) => s.brokerId === 1).length >= 2, 'partition 0 was retried');
  });

  it('skips partitions of deleted topics, and gives up when a partition reports a newer coordinator', async () => {
    h = new Harness((t) => t === 'gone' ? undefined : 1);
    const r = await h.shard.initProducerId('t1', 60_000, undefined);
    await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, [{ topic: 'gone', partition: 0 }, ...TP]);
    h.answers.set('orders-1', ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true);
    await h.settle();
    assert.equal(h.state(), 'PrepareCommit', 'left for the newer coordinator to finish');
    assert.ok(h.sent.every((s) => s.request.markers[0]!.topics.every((t) => t.name === 'orders')));
  });

  it('drops the pending state when a write fails, answering as Kafka maps it', async () => {
    const r = await h.shard.initProducerId('t1', 60_000, undefined);
    h.writeError = new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'isr');
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.COORDINATOR_NOT_AVAILABLE);
    h.writeError = new KafkaError(ErrorCode.NOT_COORDINATOR, 'moved');
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.NOT_COORDINATOR);
    h.writeError = null;
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.NONE);
    assert.equal(h.state(), 'Ongoing');
  });

  it('answers NOT_COORDINATOR and stops the markers once unloaded', async () => {
    const r = await begin(h);
    h.hold = true;
    await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true);
    h.shard.unload();
    h.hold = false;
    h.release();
    await h.settle();
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareCommit']);
  });
});

describe('transaction coordinator: timeouts and expiration', () => {
  it('aborts an Ongoing transaction past its timeout with an epoch bump, fencing the producer', async () => {
    const h = new Harness();
    const r = await h.shard.initProducerId('t1', 5000, undefined);
    await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP);
    h.clock.advance(4000);
    assert.equal(h.shard.abortTimedOutTransactions(), 0);
    h.clock.advance(1001);
    assert.equal(h.shard.abortTimedOutTransactions(), 1);
    await h.settle();
    assert.deepEqual(h.states(), ['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort']);
    assert.equal(h.sent[0]!.request.markers[0]!.producerEpoch, r.producerEpoch + 1);
    assert.equal(await h.shard.addPartitions('t1', r.producerId, r.producerEpoch, TP), ErrorCode.PRODUCER_FENCED);
    assert.equal(await h.shard.endTransaction('t1', r.producerId, r.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
  });

  it('expires ids idle for transactional.id.expiration.ms with a tombstone', async () => {
    const h = new Harness();
    await h.shard.initProducerId('old', 5000, undefined);
    h.clock.advance(CONFIG.transactionalIdExpirationMs - 1000);
    await begin(h, 'busy');
    await h.shard.initProducerId('recent', 5000, undefined);
    h.clock.advance(2000);
    assert.equal(await h.shard.expireTransactionalIds(), 1);
    assert.deepEqual(h.states('old'), ['Empty', 'tombstone']);
    assert.deepEqual([...h.shard.txns.keys()].sort(), ['busy', 'recent']);
    assert.equal(h.shard.describe('old').errorCode, TRANSACTIONAL_ID_NOT_FOUND);
  });
});

describe('transaction coordinator: log replay', () => {
  it('rebuilds every id from the records, and resumes a transaction left in PrepareCommit', async () => {
    const h = new Harness();
    const a = await begin(h, 'a');
    await h.shard.endTransaction('a', a.producerId, a.producerEpoch, true);
    await h.settle();
    await begin(h, 'b');
    const c = await begin(h, 'c');
    h.hold = true;
    await h.shard.endTransaction('c', c.producerId, c.producerEpoch, true);
    // The coordinator dies here: c is PrepareCommit in the log, its markers maybe not written.
    h.shard.unload();
    h.hold = false;
    h.release();
    await h.shard.idle();

    const records = [...h.log];
    const sentBefore = h.sent.length;
    const fresh = h.newShard();
    for (const r of records) fresh.replay(r);
    h.shard = fresh;
    assert.deepEqual([h.state('a'), h.state('b'), h.state('c')], ['CompleteCommit', 'Ongoing', 'PrepareCommit']);
    assert.deepEqual(fresh.txns.get('b')!.partitionList(), TP);
    fresh.finishLoad();
    await h.settle();
    assert.equal(h.state('c'), 'CompleteCommit');
    const resent = h.sent.slice(sentBefore);
    assert.equal(resent.length, 1);
    assert.deepEqual(resent[0]!.request.markers[0]!.topics, [{ name: 'orders', partitionIndexes: [0, 1] }]);
    // The reloaded coordinator serves the ids as before.
    assert.equal(await fresh.endTransaction('b', 1001n, 0, false), ErrorCode.NONE);
    assert.equal((await fresh.initProducerId('a', 60_000, undefined)).producerEpoch, 1);
  });

  it('encodes keys and values as Kafka: version 0 key, version 0 value, null partitions when Empty', () => {
    assert.deepEqual([...txnLogKey('ab')], [0, 0, 0, 2, 0x61, 0x62]);
    const h = new Harness();
    return h.shard.initProducerId('ab', 1000, undefined).then(() => {
      const value = h.log[0]!.value!;
      assert.equal(value.state, TxnState.Empty);
      assert.deepEqual(value.partitions, []);
    });
  });
});

describe('transaction coordinator: DescribeTransactions and ListTransactions', () => {
  it('describes and lists with state, producer id and duration filters', async () => {
    const h = new Harness();
    const a = await begin(h, 'a');
    await h.shard.initProducerId('b', 1000, undefined);
    h.clock.advance(5000);
    const d = h.shard.describe('a');
    assert.deepEqual([d.errorCode, d.state, d.producerId, d.producerEpoch, d.transactionTimeoutMs, d.partitions], [0, 'Ongoing', a.producerId, 0, 60_000, TP]);
    assert.equal(h.shard.describe('zzz').errorCode, TRANSACTIONAL_ID_NOT_FOUND);
    const names = (f: Parameters<TxnShard['list']>[0]): string[] => h.shard.list(f).map((t) => t.transactionalId).sort();
    assert.deepEqual(names({ states: [], producerIds: [], durationMs: -1 }), ['a', 'b']);
    assert.deepEqual(names({ states: ['Ongoing'], producerIds: [], durationMs: -1 }), ['a']);
    assert.deepEqual(names({ states: [], producerIds: [1001n], durationMs: -1 }), ['b']);
    assert.deepEqual(names({ states: ['Ongoing'], producerIds: [], durationMs: 4000 }), ['a']);
    assert.deepEqual(names({ states: ['Ongoing'], producerIds: [], durationMs: 6000 }), []);
  });
});
