import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import type { DescribeTransactionsResponse } from '../../protocol/generated/describe-transactions.js';
import { RawClient } from '../helpers/raw-client.js';
import { offsetsPartitionFor } from '../../src/groups/hash.js';

const STALLED = 4; // the observer (not a controller voter): it can die without costing the quorum
const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/**
 * A transaction whose markers cannot be written (the only replica of one of its partitions is
 * down) stays in PrepareCommit; when its coordinator dies, the new one loads PrepareCommit from
 * `__transaction_state` and finishes the commit once the partition is back.
 */
describe('transaction coordinator failover on four brokers', () => {
  let cluster: Cluster;
  const kafka = (brokers: string[]): Kafka => new Kafka({ clientId: 'txn-failover', brokers, logLevel: logLevel.NOTHING, retry: { retries: 15, initialRetryTime: 100 } });
  const port = (nodeId: number): number => cluster.broker(nodeId).port;

  async function call<T>(nodeId: number, apiKey: number, version: number, body: object): Promise<T> {
    const raw = await RawClient.connect(port(nodeId));
    try { raw.send(apiKey, version, body); return (await raw.receive()).body as T; } finally { raw.close(); }
  }
  const coordinatorOf = (via: number, id: string, timeoutMs = 30_000): Promise<number> => until('a coordinator', async () => {
    const r = await call<FindCoordinatorResponse>(via, ApiKey.FindCoordinator, 3, { key: id, keyType: 1, coordinatorKeys: [] });
    return r.errorCode === 0 ? r.nodeId : undefined;
  }, timeoutMs);
  const stateAt = async (nodeId: number, id: string): Promise<string | undefined> => {
    const s = (await call<DescribeTransactionsResponse>(nodeId, ApiKey.DescribeTransactions, 0, { transactionalIds: [id] })).transactionStates[0]!;
    return s.errorCode === 0 ? s.transactionState : undefined;
  };

  before(async () => {
    cluster = await startCluster({ size: 4, config: {
      'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 8, 'group.initial.rebalance.delay.ms': 0,
      'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500,
    } });
  });
  after(async () => { await cluster?.destroy(); });

  it('resumes the markers of a PrepareCommit transaction on the new coordinator', async () => {
    const k = kafka(cluster.bootstrapList);
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'stalled', replicaAssignment: [{ partition: 0, replicas: [STALLED] }] }, { topic: 'healthy', numPartitions: 1, replicationFactor: 3 }] });
    // A transactional id whose __transaction_state partition lives on the three voters only, led by one of them.
    // (The first FindCoordinator creates the topic; on four brokers the controller sometimes
    // reports its leaders in place only after CreateTopics' 30 s timeout, so this waits longer.)
    await coordinatorOf(1, 'probe', 90_000);
    const txnTopic = (await admin.fetchTopicMetadata({ topics: ['__transaction_state'] })).topics[0]!;
    await admin.disconnect();
    let id = '';
    for (let i = 0; id === '' && i < 200; i++) {
      const candidate = `resume-${i}`;
      const p = txnTopic.partitions.find((x) => x.partitionId === offsetsPartitionFor(candidate, txnTopic.partitions.length))!;
      if (p.leader !== STALLED && !p.replicas.includes(STALLED)) id = candidate;
    }
    assert.notEqual(id, '', 'found a transactional id off the observer');
    const first = await coordinatorOf(1, id);

    const producer = k.producer({ transactionalId: id, maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const t = await producer.transaction();
    await t.send({ topic: 'stalled', messages: [{ value: 'late-0' }, { value: 'late-1' }] });
    await t.send({ topic: 'healthy', messages: [{ value: 'h-0' }] });
    await cluster.broker(STALLED).kill();
    await t.commit(); // PrepareCommit is durable; the marker for 'stalled' cannot be written
    await producer.disconnect();
    assert.equal(await stateAt(first, id), 'PrepareCommit');

    await cluster.broker(first).kill();
    const live = [1, 2, 3].find((n) => n !== first)!;
    const second = await until('a new coordinator', async () => { const c = await coordinatorOf(live, id); return c !== first ? c : undefined; });
    assert.equal(await until('the new coordinator loaded', () => stateAt(second, id)), 'PrepareCommit', 'the new coordinator loaded PrepareCommit');

    await cluster.broker(STALLED).restart();
    assert.equal(await until('CompleteCommit', async () => (await stateAt(second, id)) === 'CompleteCommit' ? 'done' : undefined), 'done');
    const consumer = kafka(cluster.brokers.filter((b) => b.nodeId !== first).map((b) => `127.0.0.1:${b.port}`)).consumer({ groupId: 'resume-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.subscribe({ topic: 'stalled', fromBeginning: true })
        .then(() => consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value!.toString()); if (seen.length >= 2) resolve(); } }))
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(seen, ['late-0', 'late-1'], 'the committed records became visible to read_committed');
    await cluster.broker(first).restart();
  });
});
