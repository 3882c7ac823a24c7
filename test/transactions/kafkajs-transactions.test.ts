import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import type { DescribeTransactionsResponse } from '../../protocol/generated/describe-transactions.js';
import type { ListTransactionsResponse } from '../../protocol/generated/list-transactions.js';
import { RawClient } from '../helpers/raw-client.js';
import { fetchAllWithKafkajs } from '../helpers/kafkajs-fetch.js';

/** Consumes `topic` from the beginning until every value of `until` arrived; resolves to every value seen. */
async function consumeUntil(kafka: Kafka, groupId: string, topic: string, until: readonly string[], readUncommitted: boolean): Promise<string[]> {
  const consumer: Consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  const seen: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      consumer.subscribe({ topic, fromBeginning: true })
        .then(() => consumer.run({ eachMessage: async ({ message }) => { const v = message.value?.toString() ?? '<null>'; seen.push(v); if (until.every((u) => seen.includes(u))) resolve(); } }))
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function coordinatorOf(cluster: Cluster, transactionalId: string): Promise<number> {
  const raw = await RawClient.connect(cluster.brokers[0]!.port);
  try {
    raw.send(ApiKey.FindCoordinator, 3, { key: transactionalId, keyType: 1, coordinatorKeys: [] });
    const r = (await raw.receive()).body as FindCoordinatorResponse;
    assert.equal(r.errorCode, 0);
    return r.nodeId;
  } finally { raw.close(); }
}

describe('transactions with kafkajs on three brokers', () => {
  let cluster: Cluster;
  const kafka = (brokers = cluster.bootstrapList): Kafka => new Kafka({ clientId: 'txn-e2e', brokers, logLevel: logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 100 } });
  const transactional = (id: string, k = kafka(), timeout = 60_000): Producer =>
    k.producer({ transactionalId: id, maxInFlightRequests: 1, idempotent: true, transactionTimeout: timeout });

  before(async () => {
    cluster = await startCluster({ size: 3, config: {
      'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 5, 'group.initial.rebalance.delay.ms': 0,
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': 500,
      'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500,
    } });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3 }, { topic: 'in', numPartitions: 1, replicationFactor: 3 }, { topic: 'out', numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
  });
  after(async () => { await cluster?.destroy(); });

  it('a committed transaction is read by read_committed and read_uncommitted consumers, an aborted one only by the second; no control record reaches the application', async () => {
    const producer = transactional('orders-txn');
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: 'orders', messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % 3, value: `c-${i}` })) });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'orders', messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % 3, value: `a-${i}` })) });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic: 'orders', messages: [0, 1, 2].map((p) => ({ partition: p, value: `e-${p}` })) });
    await last.commit();
    await producer.disconnect();

    const ends = ['e-0', 'e-1', 'e-2'];
    const rc = await consumeUntil(kafka(), 'rc', 'orders', ends, false);
    const ru = await consumeUntil(kafka(), 'ru', 'orders', ends, true);
    const c = Array.from({ length: 6 }, (_, i) => `c-${i}`);
    const a = Array.from({ length: 6 }, (_, i) => `a-${i}`);
    // (Sets: kafkajs's group consumer may deliver a record twice around a rebalance.)
    const uniq = (vs: string[], prefix: string): string[] => [...new Set(vs.filter((v) => v.startsWith(prefix)))].sort();
    assert.deepEqual(uniq(rc, 'a-'), [], 'no aborted record under read_committed');
    assert.deepEqual(uniq(rc, 'c-'), c);
    assert.deepEqual(uniq(ru, 'a-'), a, 'aborted records are visible under read_uncommitted');
    assert.deepEqual(uniq(ru, 'c-'), c);
    // Nothing but the application's own records: no control record decoded as a message.
    assert.ok(ru.every((v) => /^(c|a|e)-\d$/.test(v)), `unexpected values ${ru.join(',')}`);
    // The log holds the 15 records and a marker after each transaction on each partition: 3 x 3 markers.
    const all = await fetchAllWithKafkajs(kafka(), 'orders');
    assert.equal(all.length, 15);
    const admin = kafka().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('orders');
    await admin.disconnect();
    assert.equal(offsets.reduce((n, p) => n + Number(p.high), 0), 15 + 9);
  });

  it('sendOffsets inside a transaction: the offsets are visible only once the transaction commits', async () => {
    const k = kafka();
    const seed = k.producer();
    await seed.connect();
    await seed.send({ topic: 'in', acks: -1, messages: Array.from({ length: 5 }, (_, i) => ({ value: `in-${i}` })) });
    await seed.disconnect();

    const producer = transactional('copier', k);
    await producer.connect();
    const admin = k.admin();
    await admin.connect();
    const committedOffset = async (): Promise<string> => (await admin.fetchOffsets({ groupId: 'copy-group', topics: ['in'] }))[0]!.partitions[0]!.offset;
    const txn = await producer.transaction();
    await txn.send({ topic: 'out', messages: Array.from({ length: 5 }, (_, i) => ({ value: `out-${i}` })) });
    await txn.sendOffsets({ consumerGroupId: 'copy-group', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '5' }] }] });
    assert.equal(await committedOffset(), '-1', 'a pending transactional offset is not visible');
    await txn.commit();
    // The commit returns once PrepareCommit is durable; the markers follow at once.
    let offset = await committedOffset();
    for (let i = 0; i < 50 && offset !== '5'; i++) { await new Promise((r) => setTimeout(r, 100)); offset = await committedOffset(); }
    assert.equal(offset, '5');
    await admin.disconnect();
    await producer.disconnect();
    const out = await consumeUntil(k, 'out-reader', 'out', ['out-4'], false);
    assert.deepEqual(out, Array.from({ length: 5 }, (_, i) => `out-${i}`));
  });

  it('a second producer with the same transactional id fences the first, whose open transaction is aborted', async () => {
    const first = transactional('fenced-id');
    await first.connect();
    const open = await first.transaction();
    await open.send({ topic: 'orders', messages: [{ partition: 0, value: 'zombie' }] });
    const second = transactional('fenced-id');
    await second.connect();
    const t = await second.transaction(); // InitProducerId: aborts the first's transaction, bumps the epoch
    await assert.rejects(open.commit(), (err: Error & { type?: string }) => ['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED'].includes(err.type ?? '') || /fenced|epoch/i.test(err.message));
    await t.send({ topic: 'orders', messages: [{ partition: 0, value: 'fenced-end' }] });
    await t.commit();
    await first.disconnect().catch(() => undefined);
    await second.disconnect();
    const seen = await consumeUntil(kafka(), 'fence-reader', 'orders', ['fenced-end'], false);
    assert.ok(!seen.includes('zombie'), 'the fenced producer\'s records are aborted');
  });

  it('describes and lists transactions at their coordinator', async () => {
    const producer = transactional('described');
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'orders', messages: [{ partition: 1, value: 'x' }] });
    const coordinator = cluster.broker(await coordinatorOf(cluster, 'described'));
    const raw = await RawClient.connect(coordinator.port);
    try {
      raw.send(ApiKey.DescribeTransactions, 0, { transactionalIds: ['described', 'nope'] });
      const d = (await raw.receive()).body as DescribeTransactionsResponse;
      assert.deepEqual(d.transactionStates.map((s) => [s.transactionalId, s.errorCode, s.transactionState]), [['described', 0, 'Ongoing'], ['nope', 105, '']]);
      assert.deepEqual(d.transactionStates[0]!.topics, [{ topic: 'orders', partitions: [1] }]);
      raw.send(ApiKey.ListTransactions, 1, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [], durationFilter: -1n });
      const l = (await raw.receive()).body as ListTransactionsResponse;
      assert.equal(l.errorCode, 0);
      assert.deepEqual(l.unknownStateFilters, ['Bogus']);
      assert.deepEqual(l.transactionStates.map((s) => s.transactionalId), ['described']);
    } finally { raw.close(); }
    await t.abort();
    await producer.disconnect();
  });

  it('aborts a transaction that outlives its timeout, fencing its producer', async () => {
    const producer = transactional('slow', kafka(), 1500);
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'orders', messages: [{ partition: 2, value: 'too-slow' }] });
    const coordinator = cluster.broker(await coordinatorOf(cluster, 'slow'));
    const raw = await RawClient.connect(coordinator.port);
    let state = '';
    try {
      for (let i = 0; i < 100 && state !== 'CompleteAbort'; i++) {
        raw.send(ApiKey.DescribeTransactions, 0, { transactionalIds: ['slow'] });
        state = ((await raw.receive()).body as DescribeTransactionsResponse).transactionStates[0]!.transactionState;
        if (state !== 'CompleteAbort') await new Promise((r) => setTimeout(r, 100));
      }
    } finally { raw.close(); }
    assert.equal(state, 'CompleteAbort');
    await assert.rejects(t.commit());
    await producer.disconnect().catch(() => undefined);
    const p2 = transactional('slow-end');
    await p2.connect();
    const t2 = await p2.transaction();
    await t2.send({ topic: 'orders', messages: [{ partition: 2, value: 'slow-end' }] });
    await t2.commit();
    await p2.disconnect();
    const seen = await consumeUntil(kafka(), 'slow-reader', 'orders', ['slow-end'], false);
    assert.ok(!seen.includes('too-slow'));
  });

  it('survives the death of its coordinator mid-transaction: the transaction is wholly visible or wholly invisible', async () => {
    const producer = transactional('survivor');
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'orders', messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, value: `s-${i}` })) });
    const victim = await coordinatorOf(cluster, 'survivor');
    await cluster.broker(victim).kill();
    let committed = true;
    try { await t.commit(); } catch { committed = false; }
    await producer.disconnect().catch(() => undefined);
    const live = cluster.brokers.filter((b) => b.nodeId !== victim).map((b) => `127.0.0.1:${b.port}`);
    const p2 = transactional('survivor-end', kafka(live));
    await p2.connect();
    const t2 = await p2.transaction();
    await t2.send({ topic: 'orders', messages: [0, 1, 2].map((p) => ({ partition: p, value: `se-${p}` })) });
    await t2.commit();
    await p2.disconnect();
    const seen = [...new Set((await consumeUntil(kafka(live), 'survivor-reader', 'orders', ['se-0', 'se-1', 'se-2'], false)).filter((v) => v.startsWith('s-')))];
    assert.ok(seen.length === 0 || seen.length === 9, `half a transaction is visible: ${seen.join(',')}`);
    assert.equal(seen.length === 9, committed, 'visible exactly when the commit succeeded');
    await cluster.broker(victim).restart();
  });
});
