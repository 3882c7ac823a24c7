import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/cluster/controller.js';
import { ConfigOp, ElectionType } from '../../src/cluster/topic-admin.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

/** Three registered brokers; new partitions are led by their preferred replica (the Raft groups' stand-in). */
async function cluster(): Promise<{ log: MemoryMetadataLog; controller: Controller }> {
  const log = new MemoryMetadataLog();
  const controller = new Controller(log, { numPartitions: 1, defaultReplicationFactor: 3 }, new Random(11), () => performance.now(), silentLogger);
  for (const id of [1, 2, 3]) await controller.registerBroker(id, '127.0.0.1', 9000 + id, null, `00000000-0000-0000-0000-00000000000${id}`);
  log.afterAppend = (image) => {
    for (const t of image.topics.values()) for (const p of t.partitions) {
      if (p.leader === -1) void controller.recordLeader(p.topic, p.partition, p.replicas[0]!, 1);
    }
  };
  const [created] = await controller.createTopics([{ name: 'orders', numPartitions: 3, replicationFactor: 3, assignments: [], configs: new Map() }], 5000, false);
  assert.equal(created!.errorCode, ErrorCode.NONE);
  return { log, controller };
}

describe('controller admin operations', () => {
  it('preferred election transfers leadership back to the preferred replica and waits for it', async () => {
    const { log, controller } = await cluster();
    const p1 = log.image().partition('orders', 1)!;
    const preferred = p1.replicas[0]!;
    const other = p1.replicas[1]!;
    await controller.recordLeader('orders', 1, other, 2); // as after the preferred broker restarted
    const transfers: [string, number, number][] = [];
    const results = await controller.electLeaders(null, ElectionType.PREFERRED, 5000, (topic, partition, to) => {
      transfers.push([topic, partition, to]);
      setTimeout(() => { void controller.recordLeader(topic, partition, to, 3); }, 5);
    });
    assert.deepEqual(transfers, [['orders', 1, preferred]]);
    // Every partition was asked for; only the one that needed an election is reported.
    assert.deepEqual(results, [{ topic: 'orders', partition: 1, errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(log.image().partition('orders', 1)!.leader, preferred);

    const again = await controller.electLeaders([{ topic: 'orders', partition: 1 }, { topic: 'nope', partition: 0 }], ElectionType.PREFERRED, 5000, () => assert.fail('no transfer needed'));
    assert.deepEqual(again.map((r) => r.errorCode), [ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  it('preferred election times out with REQUEST_TIMED_OUT when leadership does not move', async () => {
    const { log, controller } = await cluster();
    const p0 = log.image().partition('orders', 0)!;
    await controller.recordLeader('orders', 0, p0.replicas[2]!, 2);
    const [r] = await controller.electLeaders([{ topic: 'orders', partition: 0 }], ElectionType.PREFERRED, 50, () => undefined);
    assert.equal(r!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    const [unclean] = await controller.electLeaders([{ topic: 'orders', partition: 0 }], ElectionType.UNCLEAN, 50, () => assert.fail());
    assert.equal(unclean!.errorCode, ErrorCode.ELECTION_NOT_NEEDED);
  });

  it('createPartitions keeps the replication factor, waits for the new leaders, and validates like Kafka', async () => {
    const { log, controller } = await cluster();
    const [ok] = await controller.createPartitions([{ name: 'orders', count: 5, assignments: null }], 5000, false);
    assert.equal(ok!.errorCode, ErrorCode.NONE);
    const t = log.image().topics.get('orders')!;
    assert.equal(t.partitions.length, 5);
    for (const p of t.partitions) {
      assert.equal(p.replicas.length, 3);
      assert.equal(p.leader, p.replicas[0]);
    }
    const results = await controller.createPartitions([
      { name: 'orders', count: 6, assignments: [[1, 2]] },
      { name: 'orders2', count: 2, assignments: null },
      { name: 'twice', count: 2, assignments: null }, { name: 'twice', count: 3, assignments: null },
    ], 5000, false);
    assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    const [manual] = await controller.createPartitions([{ name: 'orders', count: 6, assignments: [[3, 1, 2]] }], 5000, false);
    assert.equal(manual!.errorCode, ErrorCode.NONE);
    assert.deepEqual(log.image().partition('orders', 5)!.replicas, [3, 1, 2]);
  });

  it('alterConfigs: incremental SET/DELETE/APPEND/SUBTRACT commit only the changed keys; replace clears the rest', async () => {
    const { log, controller } = await cluster();
    const change = (ops: { name: string; op: number; value: string | null }[], replace = false) =>
      controller.alterConfigs([{ resourceType: 2, resourceName: 'orders', replace, ops }], false);
    assert.equal((await change([{ name: 'retention.ms', op: ConfigOp.SET, value: '1000' }, { name: 'cleanup.policy', op: ConfigOp.APPEND, value: 'compact' }]))[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual([...log.image().topics.get('orders')!.configs].sort(), [['cleanup.policy', 'delete,compact'], ['retention.ms', '1000']]);
    const before = log.records.length;
    assert.equal((await change([{ name: 'retention.ms', op: ConfigOp.SET, value: '1000' }]))[0]!.errorCode, ErrorCode.NONE);
    assert.equal(log.records.length, before, 'no record for an unchanged value');
    await change([{ name: 'cleanup.policy', op: ConfigOp.SUBTRACT, value: 'delete' }, { name: 'retention.ms', op: ConfigOp.DELETE, value: null }]);
    assert.deepEqual([...log.image().topics.get('orders')!.configs], [['cleanup.policy', 'compact']]);
    await change([{ name: 'segment.ms', op: ConfigOp.SET, value: '60000' }], true);
    assert.deepEqual([...log.image().topics.get('orders')!.configs], [['segment.ms', '60000']]);
    const bad = await change([{ name: 'segment.ms', op: ConfigOp.SET, value: '1' }, { name: 'segment.ms', op: ConfigOp.DELETE, value: null }]);
    assert.equal(bad[0]!.errorCode, ErrorCode.INVALID_REQUEST);
    const refused = async (ops: { name: string; op: number; value: string | null }[]) => { const [r] = await change(ops); return [r!.errorCode, r!.errorMessage]; };
    assert.deepEqual(await refused([{ name: 'retention.ms', op: ConfigOp.APPEND, value: '1' }]), [ErrorCode.INVALID_CONFIG, 'Config value append is not allowed for config key: retention.ms']);
    assert.deepEqual(await refused([{ name: 'segment.ms', op: ConfigOp.SET, value: null }, { name: 'no.such', op: ConfigOp.SET, value: '1' }]), [ErrorCode.INVALID_REQUEST, 'Null value not supported for : segment.ms'], 'the first refused op names the error');
    assert.deepEqual(await refused([{ name: 'no.such', op: ConfigOp.SET, value: '1' }]), [ErrorCode.INVALID_CONFIG, 'Unknown topic config name: no.such']);
    assert.deepEqual(await refused([{ name: 'segment.ms', op: 9, value: '1' }]), [ErrorCode.INVALID_REQUEST, 'Unknown alter configs operation type 9']);
    assert.equal(log.image().topics.get('orders')!.configs.get('segment.ms'), '60000', 'a refused change changes nothing');
    const [validateOnly] = await controller.alterConfigs([{ resourceType: 2, resourceName: 'orders', replace: false, ops: [{ name: 'segment.ms', op: ConfigOp.SET, value: '1' }] }], true);
    assert.equal(validateOnly!.errorCode, ErrorCode.NONE);
    assert.equal(log.image().topics.get('orders')!.configs.get('segment.ms'), '60000');
  });

  it('deleteTopics commits a RemoveTopicRecord; the name can be created again under a new id', async () => {
    const { log, controller } = await cluster();
    const oldId = log.image().topics.get('orders')!.topicId;
    const results = await controller.deleteTopics([{ name: 'orders', topicId: null }, { name: 'nope', topicId: null }]);
    assert.deepEqual(results.map((r) => [r.name, r.topicId, r.errorCode]), [['orders', oldId, ErrorCode.NONE], ['nope', '00000000-0000-0000-0000-000000000000', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    assert.equal(log.records.at(-1)!.type, 'RemoveTopic');
    assert.equal(log.image().topics.has('orders'), false);
    await controller.createTopics([{ name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: new Map() }], 5000, false);
    assert.notEqual(log.image().topics.get('orders')!.topicId, oldId);
  });
});
