import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, leadersInPlace } from '../../src/cluster/controller.js';
import { assignReplicas } from '../../src/cluster/assigner.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

async function controllerWithBrokers(ids: number[], electLeaders: boolean) {
  const metadata = new MemoryMetadataLog();
  const controller = new Controller(metadata, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(7), () => performance.now(), silentLogger);
  for (const id of ids) await controller.registerBroker(id, '127.0.0.1', 9000 + id, null, '00000000-0000-0000-0000-00000000000' + id);
  if (electLeaders) {
    // Stand-in for the partition Raft groups: the preferred replica wins and reports itself.
    metadata.afterAppend = (image) => {
      for (const t of image.topics.values()) for (const p of t.partitions) {
        if (p.leader === -1) void controller.recordLeader(p.topic, p.partition, p.replicas[0]!, 1);
      }
    };
  }
  return { metadata, controller };
}

const topic = (name: string, numPartitions = -1, replicationFactor = -1, configs = new Map<string, string | null>()) =>
  ({ name, numPartitions, replicationFactor, assignments: [], configs });

describe('controller: CreateTopics', () => {
  it('answers once every partition has its preferred leader, with the records KRaft would write', async () => {
    const { metadata, controller } = await controllerWithBrokers([1, 2, 3], true);
    const [res] = await controller.createTopics([topic('orders', 6, 3)], 5000, false);
    assert.equal(res!.errorCode, ErrorCode.NONE);
    assert.equal(res!.numPartitions, 6);
    assert.equal(res!.replicationFactor, 3);
    assert.ok(leadersInPlace(metadata.image(), 'orders'));
    const t = metadata.image().topics.get('orders')!;
    assert.equal(t.topicId, res!.topicId);
    for (const p of t.partitions) assert.equal(p.leader, p.replicas[0]);
    assert.deepEqual(metadata.records.filter((r) => r.type === 'Topic').map((r) => r.data), [{ name: 'orders', topicId: res!.topicId }]);
  });

  it('answers REQUEST_TIMED_OUT, never success, when leaders are not in place in time', async () => {
    const { controller } = await controllerWithBrokers([1], false);
    const [res] = await controller.createTopics([topic('slow')], 50, false);
    assert.equal(res!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
  });

  it('validates like Kafka', async () => {
    const { controller, metadata } = await controllerWithBrokers([1, 2], true);
    await controller.createTopics([topic('exists')], 5000, false);
    const results = await controller.createTopics([
      topic('exists'), topic('bad/name'), topic(''), topic('x'.repeat(250)), topic('zero', 0), topic('rf3', 1, 3),
      topic('cfg', 1, 1, new Map([['no.such.config', '1']])), topic('cfgval', 1, 1, new Map([['cleanup.policy', 'shred']])),
    ], 5000, false);
    assert.deepEqual(results.map((r) => r.errorCode), [
      ErrorCode.TOPIC_ALREADY_EXISTS, ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_TOPIC_EXCEPTION,
      ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_PARTITIONS, ErrorCode.INVALID_REPLICATION_FACTOR,
      ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG,
    ]);
    assert.match(results[5]!.errorMessage!, /only 2 broker\(s\) are registered/);
    assert.deepEqual([...metadata.image().topics.keys()], ['exists']);
  });

  it('validateOnly checks and writes nothing', async () => {
    const { controller, metadata } = await controllerWithBrokers([1], true);
    const [res] = await controller.createTopics([topic('dry', 4)], 5000, true);
    assert.equal(res!.errorCode, ErrorCode.NONE);
    assert.equal(res!.numPartitions, 4);
    assert.equal(metadata.image().topics.size, 0);
  });

  it('serialises concurrent creations of one name: exactly one wins', async () => {
    const { controller } = await controllerWithBrokers([1], true);
    const [a, b] = await Promise.all([controller.createTopics([topic('race')], 5000, false), controller.createTopics([topic('race')], 5000, false)]);
    assert.deepEqual([a![0]!.errorCode, b![0]!.errorCode].sort(), [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]);
  });
});

describe('controller: broker lifecycle', () => {
  it('controlled shutdown marks the broker (still listed), then fences it on request; a heartbeat unfences it', async () => {
    const { controller, metadata } = await controllerWithBrokers([1, 2], false);
    await controller.heartbeat(2, true);
    assert.deepEqual(pick(metadata.image().brokers.get(2)!), { fenced: false, inControlledShutdown: true });
    await controller.heartbeat(2, false, true);
    assert.deepEqual(pick(metadata.image().brokers.get(2)!), { fenced: true, inControlledShutdown: true });
    await controller.registerBroker(2, '127.0.0.1', 9002, null, '00000000-0000-4000-8000-000000000001');
    assert.deepEqual(pick(metadata.image().brokers.get(2)!), { fenced: false, inControlledShutdown: false });
  });

  it('fences brokers whose heartbeats stop, and takes them out of every ISR and leadership', async () => {
    let now = 0;
    const metadata = new MemoryMetadataLog();
    const controller = new Controller(metadata, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(3), () => now, silentLogger);
    for (const id of [1, 2, 3]) await controller.registerBroker(id, '127.0.0.1', 9000 + id, null, '00000000-0000-4000-8000-000000000001');
    await controller.createTopics([topic('t', 1, 3)], 0, false);
    const p = metadata.image().partition('t', 0)!;
    await controller.recordLeader('t', 0, p.replicas[0]!, 1, [1, 2, 3]);
    now = 5000;
    for (const id of [1, 2, 3].filter((x) => x !== p.replicas[0])) await controller.heartbeat(id);
    now = 10000;
    await controller.fenceExpiredBrokers(9000);
    const after = metadata.image();
    assert.equal(after.brokers.get(p.replicas[0]!)!.fenced, true);
    assert.equal(after.partition('t', 0)!.leader, -1);
    assert.ok(!after.partition('t', 0)!.isr.includes(p.replicas[0]!));
  });

  it('a new process of a broker (new incarnation id) loses the leaderships and ISR places the metadata still gives it; the same process again writes nothing', async () => {
    const { controller, metadata } = await controllerWithBrokers([1, 2, 3], false);
    await controller.createTopics([topic('t', 2, 3)], 0, false);
    const led = metadata.image().partition('t', 0)!.replicas[0]!;
    const other = metadata.image().partition('t', 1)!.replicas.find((r) => r !== led)!;
    await controller.recordLeader('t', 0, led, 1, [1, 2, 3]);
    await controller.recordLeader('t', 1, other, 1, [1, 2, 3]);
    const before = metadata.image().brokers.get(led)!;
    const records = metadata.records.length;
    // the same process registering again (a retried RPC): nothing changes
    await controller.registerBroker(led, '127.0.0.1', 9000 + led, null, before.incarnationId);
    assert.equal(metadata.records.length, records);
    // a restart: same endpoints, new incarnation
    await controller.registerBroker(led, '127.0.0.1', 9000 + led, null, '00000000-0000-4000-8000-0000000000ff');
    const after = metadata.image();
    const b = after.brokers.get(led)!;
    assert.deepEqual({ fenced: b.fenced, incarnationId: b.incarnationId }, { fenced: false, incarnationId: '00000000-0000-4000-8000-0000000000ff' });
    assert.ok(b.epoch > before.epoch);
    assert.equal(after.partition('t', 0)!.leader, -1, 'its stale leadership is cleared');
    assert.deepEqual(after.partition('t', 0)!.isr, [1, 2, 3].filter((r) => r !== led));
    assert.equal(after.partition('t', 1)!.leader, other, 'another broker\'s leadership stays');
    assert.deepEqual(after.partition('t', 1)!.isr, [1, 2, 3].filter((r) => r !== led));
    // the partition's Raft leader reports, at a new epoch or at the same one
    await controller.recordLeader('t', 0, led, 1, [1, 2, 3]);
    assert.deepEqual([metadata.image().partition('t', 0)!.leader, metadata.image().partition('t', 0)!.isr], [led, [1, 2, 3]]);
  });
});

const pick = (b: { fenced: boolean; inControlledShutdown: boolean }) => ({ fenced: b.fenced, inControlledShutdown: b.inControlledShutdown });

describe('controller: producer id blocks', () => {
  it('hands out disjoint blocks, each committed (ProducerIdsRecord) before it is returned', async () => {
    const { controller, metadata } = await controllerWithBrokers([1, 2], false);
    const blocks = await Promise.all([controller.allocateProducerIds(1, 1000), controller.allocateProducerIds(2, 1000), controller.allocateProducerIds(1, 1000)]);
    const starts = blocks.map((b) => b.firstProducerId).sort((a, b) => (a < b ? -1 : 1));
    assert.deepEqual(starts, [0n, 1000n, 2000n]);
    assert.equal(metadata.image().nextProducerId, 3000n);
    assert.equal(metadata.records.filter((r) => r.type === 'ProducerIds').length, 3);
  });
});

describe('replica assignment', () => {
  it('spreads preferred leaders and replicas evenly, never twice on one broker', () => {
    const brokers = [1, 2, 3, 4, 5];
    for (let seed = 0; seed < 50; seed++) {
      const a = assignReplicas(brokers, 20, 3, new Random(seed));
      const leaders = new Map<number, number>();
      const replicas = new Map<number, number>();
      for (const r of a) {
        assert.equal(new Set(r).size, 3);
        leaders.set(r[0]!, (leaders.get(r[0]!) ?? 0) + 1);
        for (const b of r) replicas.set(b, (replicas.get(b) ?? 0) + 1);
      }
      assert.deepEqual([...leaders.values()], [4, 4, 4, 4, 4]);
      assert.deepEqual([...replicas.values()], [12, 12, 12, 12, 12]);
    }
  });
});
