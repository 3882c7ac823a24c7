import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import { RawClient } from '../helpers/raw-client.js';

/** Resolves once `seen` holds `n` distinct values (consumers deliver on their own schedule). */
function collect(consumer: Consumer, topic: string, n: number, seen: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    consumer.subscribe({ topic, fromBeginning: true })
      .then(() => consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value!.toString()); if (new Set(seen).size >= n) resolve(); } }))
      .catch(reject);
  });
}

describe('group coordinator failover on three brokers', () => {
  let cluster: Cluster;
  const kafka = (brokers: string[]): Kafka => new Kafka({ clientId: 'group-failover', brokers, logLevel: logLevel.NOTHING });

  before(async () => {
    cluster = await startCluster({ size: 3, config: {
      'offsets.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0,
      'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500,
    } });
  });
  after(async () => { await cluster?.destroy(); });

  it('loses no committed offset when the broker leading the group\'s offsets partition dies: the group resumes from its commit', async () => {
    const k = kafka(cluster.bootstrapList);
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: 3, replicationFactor: 3 }] });
    const producer = k.producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: `old-${i}` })) });

    const first = k.consumer({ groupId: 'workers', sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 200 });
    await first.connect();
    const seen: string[] = [];
    await collect(first, 'jobs', 30, seen);
    await first.disconnect(); // commits what it consumed, then leaves
    const committed = (await admin.fetchOffsets({ groupId: 'workers', topics: ['jobs'] }))[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    assert.equal(committed, 30);
    await admin.disconnect();

    // Which broker coordinates the group (leads its __consumer_offsets partition)?
    const raw = await RawClient.connect(cluster.brokers[0]!.port);
    raw.send(ApiKey.FindCoordinator, 2, { key: 'workers', keyType: 0, coordinatorKeys: [] });
    const coordinatorId = ((await raw.receive()).body as FindCoordinatorResponse).nodeId;
    raw.close();
    const victim = cluster.broker(coordinatorId);
    await victim.kill();
    const live = cluster.brokers.filter((b) => b.nodeId !== coordinatorId).map((b) => `127.0.0.1:${b.port}`);

    const k2 = kafka(live);
    // One send() per partition: kafkajs 2.2.4 can resolve a send() spanning partitions without one
    // of them across a leader change (see the README's client caveat). Its retries may duplicate a
    // record (no idempotence here: its InitProducerId may pick the dead broker): values are compared as a set.
    const p2 = k2.producer({ retry: { retries: 10 } });
    await p2.connect();
    for (let p = 0; p < 3; p++) {
      const messages = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 3 === p).map((i) => ({ partition: p, value: `new-${i}` }));
      await p2.send({ topic: 'jobs', acks: -1, messages });
    }
    await p2.disconnect();
    const second = k2.consumer({ groupId: 'workers', sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 200, retry: { retries: 20 } });
    await second.connect();
    const after: string[] = [];
    await collect(second, 'jobs', 20, after);
    await second.disconnect();
    await producer.disconnect().catch(() => undefined);
    assert.deepEqual(after.filter((v) => v.startsWith('old-')), [], 'nothing below the committed offsets is consumed again');
    assert.deepEqual([...new Set(after)].sort(), Array.from({ length: 20 }, (_, i) => `new-${i}`).sort());
  });
});
