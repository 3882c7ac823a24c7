import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/cluster/controller.js';
import { assignReplicasRackAware } from '../../src/cluster/assigner.js';
import { nextMembershipStep, type MembershipStep } from '../../src/cluster/reassignment.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { silentLogger } from '../../src/util/log.js';
import { Random } from '../../src/util/random.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

async function cluster(brokers: { id: number; rack?: string }[]): Promise<{ metadata: MemoryMetadataLog; controller: Controller }> {
  const metadata = new MemoryMetadataLog();
  const controller = new Controller(metadata, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(7), () => performance.now(), silentLogger);
  for (const b of brokers) await controller.registerBroker(b.id, '127.0.0.1', 9000 + b.id, b.rack ?? null, `00000000-0000-4000-8000-00000000000${b.id}`);
  return { metadata, controller };
}

async function topicOn(controller: Controller, name: string, replicas: number[]): Promise<void> {
  // leaders are not elected here (no brokers run): create, then record a leader as a broker would
  const [r] = await controller.createTopics([{ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partition: 0, brokerIds: replicas }], configs: new Map() }], 1, false);
  assert.ok(r!.errorCode === ErrorCode.NONE || r!.errorCode === ErrorCode.REQUEST_TIMED_OUT);
  await controller.recordLeader(name, 0, replicas[0]!, 1, replicas);
}

test('AlterPartitionReassignments: the union (target first) with adding/removing in the image, Kafka\'s errors, cancellation, listing', async () => {
  const { metadata, controller } = await cluster([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
  await topicOn(controller, 't', [1, 2, 3]);
  const results = await controller.alterPartitionReassignments([
    { topic: 't', partition: 0, replicas: [2, 3, 4] },
    { topic: 'nope', partition: 0, replicas: [1] },
    { topic: 't', partition: 9, replicas: [1] },
  ]);
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  const p = metadata.image().partition('t', 0)!;
  assert.deepEqual(p.replicas, [2, 3, 4, 1]);
  assert.deepEqual(p.addingReplicas, [4]);
  assert.deepEqual(p.removingReplicas, [1]);
  assert.deepEqual(p.isr, [1, 2, 3], 'the ISR is untouched');
  assert.deepEqual(await controller.listPartitionReassignments(null), [{ topic: 't', partition: 0, replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1] }]);
  assert.deepEqual(await controller.listPartitionReassignments([{ name: 'other', partitions: [0] }]), []);

  for (const [replicas, why] of [[[], 'empty'], [[2, 2, 3], 'duplicate'], [[2, 3, 9], 'unknown broker']] as const) {
    const [r] = await controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas }]);
    assert.equal(r!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT, why);
  }

  // the leader's report while voters are {1,2,3,4}: not done; once its ISR is the target: done
  await controller.recordLeader('t', 0, 2, 2, [1, 2, 3, 4]);
  assert.deepEqual(metadata.image().partition('t', 0)!.addingReplicas, [4]);
  await controller.recordLeader('t', 0, 2, 2, [2, 3, 4]);
  const done = metadata.image().partition('t', 0)!;
  assert.deepEqual(done.replicas, [2, 3, 4]);
  assert.deepEqual(done.isr, [2, 3, 4]);
  assert.equal(done.addingReplicas, undefined);
  assert.deepEqual(await controller.listPartitionReassignments(null), []);
  const [none] = await controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: null }]);
  assert.equal(none!.errorCode, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);

  // cancellation goes back to the replicas before the reassignment
  await controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [1, 2, 3] }]);
  assert.deepEqual(metadata.image().partition('t', 0)!.replicas, [1, 2, 3, 4]);
  const [cancel] = await controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: null }]);
  assert.equal(cancel!.errorCode, ErrorCode.NONE);
  const back = metadata.image().partition('t', 0)!;
  assert.deepEqual(back.replicas, [2, 3, 4]);
  assert.equal(back.removingReplicas, undefined);

  // a reorder of the same replicas is final at once
  await controller.alterPartitionReassignments([{ topic: 't', partition: 0, replicas: [4, 3, 2] }]);
  assert.deepEqual(metadata.image().partition('t', 0)!.replicas, [4, 3, 2]);
  assert.deepEqual(await controller.listPartitionReassignments(null), []);
});

test('nextMembershipStep: [1,2,3] led by 1 to [2,3,4], one single-server change per committed step', () => {
  let m = { voters: [1, 2, 3], learners: [] as number[] };
  let leader = 1;
  const seen: MembershipStep[] = [];
  for (let i = 0; i < 10; i++) {
    const s = nextMembershipStep(m, false, [2, 3, 4], leader);
    seen.push(s);
    if (s.kind === 'none') break;
    if (s.kind === 'transfer') { leader = s.to; continue; }
    const { type, node } = s.change;
    if (type === 'addLearner') m = { voters: m.voters, learners: [...m.learners, node] };
    if (type === 'promote') m = { voters: [...m.voters, node], learners: m.learners.filter((x) => x !== node) };
    if (type === 'remove') m = { voters: m.voters.filter((x) => x !== node), learners: m.learners.filter((x) => x !== node) };
  }
  assert.deepEqual(seen, [
    { kind: 'change', change: { type: 'addLearner', node: 4 } },
    { kind: 'change', change: { type: 'promote', node: 4 } },
    { kind: 'transfer', to: 2 },
    { kind: 'change', change: { type: 'remove', node: 1 } },
    { kind: 'none' },
  ]);
  assert.deepEqual(nextMembershipStep({ voters: [1, 2, 3], learners: [] }, true, [2, 3, 4], 1), { kind: 'none' }, 'nothing while a change is uncommitted');
  // a cancelled move: the stray learner goes first, then the promoted voter
  assert.deepEqual(nextMembershipStep({ voters: [1, 2, 3], learners: [4] }, false, [1, 2, 3], 1), { kind: 'change', change: { type: 'remove', node: 4 } });
  assert.deepEqual(nextMembershipStep({ voters: [1, 2, 3, 4], learners: [] }, false, [1, 2, 3], 1), { kind: 'change', change: { type: 'remove', node: 4 } });
  // the transfer prefers a live target voter
  assert.deepEqual(nextMembershipStep({ voters: [1, 2, 3], learners: [] }, false, [2, 3], 1, (n) => n === 3), { kind: 'transfer', to: 3 });
});

test('rack-aware assignment: each partition spreads over min(RF, racks) racks; leaders spread over brokers', () => {
  const brokers = [
    { id: 1, rack: 'a' }, { id: 2, rack: 'a' }, { id: 3, rack: 'b' }, { id: 4, rack: 'b' }, { id: 5, rack: 'c' }, { id: 6, rack: 'c' },
  ];
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
  for (let seed = 1; seed <= 20; seed++) {
    const a = assignReplicasRackAware(brokers, 12, 3, new Random(seed));
    for (const replicas of a) {
      assert.equal(new Set(replicas).size, 3, `seed ${seed}: distinct brokers ${replicas}`);
      assert.equal(new Set(replicas.map((r) => rackOf.get(r))).size, 3, `seed ${seed}: three racks ${replicas}`);
    }
    const leaders = new Map<number, number>();
    for (const r of a) leaders.set(r[0]!, (leaders.get(r[0]!) ?? 0) + 1);
    assert.deepEqual([...leaders.values()], [2, 2, 2, 2, 2, 2], `seed ${seed}: two leaderships each`);
    const replicaCount = new Map<number, number>();
    for (const r of a) for (const id of r) replicaCount.set(id, (replicaCount.get(id) ?? 0) + 1);
    for (const [id, n] of replicaCount) assert.equal(n, 6, `seed ${seed}: broker ${id} holds 6 replicas`);
  }
  // 2 racks, RF 3: both racks in every partition
  const two = [{ id: 1, rack: 'x' }, { id: 2, rack: 'x' }, { id: 3, rack: 'y' }, { id: 4, rack: 'y' }];
  for (const replicas of assignReplicasRackAware(two, 8, 3, new Random(5))) {
    assert.equal(new Set(replicas).size, 3);
    assert.equal(new Set(replicas.map((r) => (r <= 2 ? 'x' : 'y'))).size, 2);
  }
});

test('CreateTopics uses racks when every live broker has broker.rack; the racks are in the image', async () => {
  const { metadata, controller } = await cluster([{ id: 1, rack: 'r1' }, { id: 2, rack: 'r1' }, { id: 3, rack: 'r2' }, { id: 4, rack: 'r2' }, { id: 5, rack: 'r3' }, { id: 6, rack: 'r3' }]);
  assert.equal(metadata.image().brokers.get(3)!.rack, 'r2');
  await controller.createTopics([{ name: 'racked', numPartitions: 6, replicationFactor: 3, assignments: [], configs: new Map() }], 1, false);
  const t = metadata.image().topics.get('racked')!;
  for (const p of t.partitions) {
    assert.equal(new Set(p.replicas.map((r) => metadata.image().brokers.get(r)!.rack)).size, 3, `partition ${p.partition}: ${p.replicas}`);
  }
});
