import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { metadata, startCluster, type Cluster } from '../../compat/harness.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { CreatePartitionsResponse } from '../../protocol/generated/create-partitions.js';
import { ApiKey } from '../../protocol/generated/index.js';
import { RawClient } from '../helpers/raw-client.js';

/** Polls Metadata on `port` until `check` holds (the cluster converges on its own; there is no event to await from outside). */
async function eventually(port: number, topics: string[] | null, check: (md: MetadataResponse) => boolean, what: string, timeoutMs = 20000): Promise<MetadataResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: MetadataResponse | undefined;
  for (;;) {
    try {
      last = await metadata(port, topics);
      if (check(last)) return last;
    } catch { /* broker restarting */ }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms; last metadata ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const preferredLeaders = (md: MetadataResponse, topic: string): boolean => {
  const t = md.topics.find((x) => x.name === topic);
  return t !== undefined && t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.errorCode === 0 && p.leaderId === p.replicaNodes[0]);
};

describe('a cluster of three broker processes', () => {
  let cluster: Cluster;
  const kafka = (): Kafka => new Kafka({ clientId: 'cluster-e2e', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING, retry: { retries: 0 } });

  before(async () => {
    cluster = await startCluster({ size: 3, config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 } });
  });
  after(async () => { await cluster?.destroy(); });

  it('answers CreateTopics (replication factor 3) only when every partition has its preferred leader: Metadata from every broker shows them, and a producer without retries writes at once', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 12, replicationFactor: 3 }, { topic: 'one', numPartitions: 1, replicationFactor: 3 }] }), true);
    } finally {
      await admin.disconnect();
    }
    for (const b of cluster.brokers) {
      const md = await metadata(b.port, ['orders', 'one'], true);
      for (const topic of ['orders', 'one']) assert.ok(preferredLeaders(md, topic), `broker ${b.nodeId}: ${topic} not on preferred leaders`);
      const orders = md.topics.find((t) => t.name === 'orders')!;
      // preferred leaders spread evenly: 4 partitions per broker
      const perBroker = new Map<number, number>();
      for (const p of orders.partitions) {
        assert.equal(p.replicaNodes.length, 3);
        perBroker.set(p.leaderId, (perBroker.get(p.leaderId) ?? 0) + 1);
      }
      assert.deepEqual([...perBroker.values()], [4, 4, 4]);
    }
    const producer = kafka().producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let p = 0; p < 12; p++) {
        const [res] = await producer.send({ topic: 'orders', acks: -1, messages: [{ partition: p, key: `k${p}`, value: `v${p}` }] });
        assert.equal(res!.errorCode, 0);
        assert.equal(res!.baseOffset, '0', 'a new partition starts at offset 0');
      }
    } finally {
      await producer.disconnect();
    }
  });

  it('serves metadata-changing admin requests on any broker, forwarding them to the active controller', async () => {
    const md = await metadata(cluster.brokers[0]!.port, []);
    const other = cluster.brokers.find((b) => b.nodeId !== md.controllerId)!;
    const client = await RawClient.connect(other.port);
    try {
      client.send(ApiKey.CreatePartitions, 3, { topics: [{ name: 'one', count: 2, assignments: null }], timeoutMs: 10000, validateOnly: false });
      const res = (await client.receive()).body as CreatePartitionsResponse;
      assert.deepEqual(res.results.map((r) => [r.name, r.errorCode]), [['one', 0]]);
    } finally {
      client.close();
    }
    assert.ok(preferredLeaders(await metadata(other.port, ['one']), 'one'));
    assert.equal((await metadata(other.port, ['one'])).topics[0]!.partitions.length, 2);
  });

  it('fences a killed broker, elects new leaders among the live replicas, and gives leadership back to the preferred replica when it returns', async () => {
    const victim = cluster.brokers[1]!;
    const survivor = cluster.brokers[0]!;
    await victim.kill();
    const md = await eventually(survivor.port, ['orders'], (m) => {
      const t = m.topics.find((x) => x.name === 'orders');
      return !m.brokers.some((b) => b.nodeId === victim.nodeId) && t !== undefined &&
        t.partitions.every((p) => p.leaderId !== -1 && p.leaderId !== victim.nodeId && !p.isrNodes.includes(victim.nodeId));
    }, 'fencing and re-election');
    assert.equal(md.brokers.length, 2);

    // Writes go on, to every partition, acks=all (two of three replicas are a majority).
    const producer = kafka().producer({ retry: { retries: 3 } });
    await producer.connect();
    for (let p = 0; p < 12; p++) await producer.send({ topic: 'orders', acks: -1, messages: [{ partition: p, value: `during-${p}` }] });
    await producer.disconnect();

    await victim.restart();
    await eventually(survivor.port, ['orders'], (m) => m.brokers.length === 3 && preferredLeaders(m, 'orders'), 'preferred leaders restored');
  });

  it('on SIGTERM a broker hands its leaderships over first (controlled shutdown): a producer writing meanwhile sees no error', async () => {
    const leaving = cluster.brokers[2]!;
    const stay = cluster.brokers[0]!;
    for (const b of cluster.brokers) {
      await eventually(b.port, ['orders'], (m) => m.brokers.length === 3 && m.controllerId !== -1 && preferredLeaders(m, 'orders'), `broker ${b.nodeId} settled`);
    }
    const md = await metadata(stay.port, ['orders']);
    assert.ok(md.topics[0]!.partitions.some((p) => p.leaderId === leaving.nodeId), 'the broker leads some partitions before it stops');
    const producer = kafka().producer({ retry: { retries: 10, initialRetryTime: 50 } });
    await producer.connect();
    let stop = false;
    let sent = 0;
    const loop = (async () => {
      while (!stop) {
        for (let p = 0; p < 12; p++) await producer.send({ topic: 'orders', acks: -1, messages: [{ partition: p, value: `rolling-${sent}` }] });
        sent++;
      }
    })();
    await leaving.stop(20000);
    stop = true;
    await loop; // rejects if any send failed
    await producer.disconnect();
    assert.ok(sent > 0);
    const after = await metadata(stay.port, ['orders']);
    for (const p of after.topics[0]!.partitions) assert.notEqual(p.leaderId, leaving.nodeId);
    await leaving.restart();
    await eventually(stay.port, ['orders'], (m) => m.brokers.length === 3 && preferredLeaders(m, 'orders'), 'preferred leaders restored after the restart');
  });

  it('survives losing the active controller: another broker takes over and topics can still be created', async () => {
    const before = await eventually(cluster.brokers[0]!.port, [], (m) => m.controllerId !== -1 && m.brokers.length === 3, 'a settled cluster');
    const controller = cluster.broker(before.controllerId);
    await controller.kill();
    const other = cluster.brokers.find((b) => b.nodeId !== controller.nodeId)!;
    // A new controller takes over, and fences the old one once its session times out (until then
    // the controller would still place replicas on it, as Kafka's would).
    await eventually(other.port, [], (m) => m.controllerId !== -1 && m.controllerId !== controller.nodeId &&
      !m.brokers.some((b) => b.nodeId === controller.nodeId), 'a new active controller, and the old one fenced');
    const admin = new Kafka({ clientId: 'cluster-e2e', brokers: [`127.0.0.1:${other.port}`], logLevel: logLevel.NOTHING, retry: { retries: 5 } }).admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'after-failover', numPartitions: 4, replicationFactor: 2 }] }), true);
    } finally {
      await admin.disconnect();
    }
    const md = await metadata(other.port, ['after-failover']);
    assert.ok(preferredLeaders(md, 'after-failover'));
    await controller.restart();
  });
});
