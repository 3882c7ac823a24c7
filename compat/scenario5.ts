import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { metadata, type Cluster } from './harness.js';
import { describeTopicConfigsRaw, eventually, fetchRaw, listOffsetRaw, metadataEverywhere, partitionLeader, step } from './checks.js';
import { CONFIG_SOURCE, type AdminDriver } from './clients/admin.js';
import { kafkajsDriver } from './clients/kafkajs.js';
import { GROUP_MEMBERS, waitForMembers, type GroupMember } from './clients/group.js';

/** Partitions a scenario 5 topic is grown to by CreatePartitions (from 3). */
export const SCENARIO_5_GROWN_PARTITIONS = 5;
/** Records of the offsets-by-timestamp and delete-records checks (one partition, several batches). */
export const SCENARIO_5_RECORDS = 12;
/** CreateTime of record i in the offsets-by-timestamp check: T0 + i * 1000 ms. */
export const SCENARIO_5_T0 = 1_700_000_000_000;

const userTopics = (names: string[]): string[] => names.filter((n) => !n.startsWith('__')).sort();

/** Produces `count` records (record i: key `${tag}-${i}`, CreateTime T0 + i s) to partition 0 in batches of 4 (kafkajs, acks=all). */
/**
 * The records of partition 0 once all SCENARIO_5_RECORDS acknowledged ones are readable (10 s at
 * most): an acknowledgement means below the high watermark of the leader that gave it, and a
 * leader elected since may expose that a moment later (as in Kafka). What is still missing after
 * that is lost, and the caller's count assertion says so.
 */
async function storedRecords(cluster: Cluster, topic: string): Promise<Awaited<ReturnType<typeof fetchRaw>>['records']> {
  const read = (): ReturnType<typeof fetchRaw> => fetchRaw(cluster, topic, 0, 0n);
  return (await eventually(`${topic}: ${SCENARIO_5_RECORDS} records readable`, read, (r) => r.records.length >= SCENARIO_5_RECORDS).catch(read)).records;
}

async function produceTimestamped(bootstrap: string[], topic: string, tag: string, count: number): Promise<void> {
  const producer = new Kafka({ clientId: 'raftka-compat-s5', brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
  await producer.connect();
  try {
    for (let i = 0; i < count; i += 4) {
      const messages = Array.from({ length: Math.min(4, count - i) }, (_, k) => ({
        partition: 0, key: `${tag}-${i + k}`, value: `v${i + k}`, timestamp: String(SCENARIO_5_T0 + (i + k) * 1000),
      }));
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Scenario 5 (admin) for one client: one test per group of operations the client's own admin API
 * offers; each asserts the broker's real answer through a reference (raw Metadata, ListOffsets,
 * Fetch or DescribeConfigs on the brokers themselves). Called inside the client's describe().
 */
export function scenario5(admin: AdminDriver, slug: string, getCluster: () => Cluster): void {
  const name = admin.client;
  const bootstrap = (): string[] => getCluster().bootstrapList;
  const createTopic = async (label: string, topic: string, partitions: number): Promise<void> => {
    const cluster = getCluster();
    // Setup, not under test: kafkajs's admin with its default retries (its createTopics first reads
    // every topic's metadata, and a LEADER_NOT_AVAILABLE anywhere, e.g. after scenario 6's restart,
    // fails it when retries are off).
    await step(`${label} create ${topic} (kafkajs)`, cluster, async () => {
      const a = new Kafka({ clientId: 'raftka-compat-s5-setup', brokers: bootstrap(), logLevel: logLevel.NOTHING }).admin();
      await a.connect();
      try {
        await a.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: cluster.replicationFactor }], waitForLeaders: true });
      } finally {
        await a.disconnect();
      }
    });
    await partitionLeader(cluster, topic, 0);
  };

  if (admin.listTopics !== undefined || admin.describeTopics !== undefined) {
    it(`scenario 5 (${name}): list and describe topics`, async () => {
      const label = `${name} scenario 5 topics`;
      const cluster = getCluster();
      const topic = `s5-topics-${slug}`;
      await createTopic(label, topic, 3);
      const reference = await metadata(cluster.brokers[0]!.port, null);
      if (admin.listTopics !== undefined) {
        const listed = await step(`${label} list`, cluster, () => admin.listTopics!(bootstrap()));
        assert.ok(listed.includes(topic), `${label}: ${topic} missing from the list [${listed.join(', ')}]`);
        assert.deepEqual(userTopics(listed), userTopics(reference.topics.map((t) => t.name!)), `${label}: the client's topic list differs from Metadata's`);
      }
      if (admin.describeTopics !== undefined) {
        const [d] = await step(`${label} describe`, cluster, () => admin.describeTopics!(bootstrap(), [topic]));
        assert.ok(d !== undefined && d.name === topic, `${label}: no description of ${topic}`);
        const ref = (await metadata(cluster.brokers[0]!.port, [topic])).topics[0]!;
        const want = ref.partitions.map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes })).sort((a, b) => a.partition - b.partition);
        assert.equal(want.length, 3, `${label}: Metadata shows ${want.length} partitions`);
        assert.deepEqual([...d.partitions].sort((a, b) => a.partition - b.partition), want, `${label}: partitions, leaders and replicas as described vs Metadata`);
        for (const p of d.partitions) assert.equal(p.replicas.length, cluster.replicationFactor, `${label}: replicas of partition ${p.partition}`);
      }
    });
  }

  if (admin.deleteTopics !== undefined) {
    it(`scenario 5 (${name}): delete topics: gone from Metadata on every broker`, async () => {
      const label = `${name} scenario 5 delete topics`;
      const cluster = getCluster();
      const topics = [`s5-delete-a-${slug}`, `s5-delete-b-${slug}`];
      for (const t of topics) await createTopic(label, t, 3);
      await step(`${label} delete`, cluster, () => admin.deleteTopics!(bootstrap(), topics));
      await step(`${label} gone everywhere`, cluster, () => eventually(`${topics.join(', ')} gone from every broker's Metadata`,
        () => metadataEverywhere(cluster, null), (mds) => mds.every((md) => md.topics.every((t) => !topics.includes(t.name!)))));
      for (const md of await metadataEverywhere(cluster, topics)) {
        for (const t of md.topics) assert.equal(t.errorCode, 3, `${label}: Metadata for deleted ${t.name}: error ${t.errorCode}, expected UNKNOWN_TOPIC_OR_PARTITION (3)`);
      }
      if (admin.listTopics !== undefined) {
        const listed = await admin.listTopics(bootstrap());
        for (const t of topics) assert.ok(!listed.includes(t), `${label}: ${t} still listed by the client`);
      }
    });
  }

  if (admin.createPartitions !== undefined) {
    it(`scenario 5 (${name}): create partitions (3 -> ${SCENARIO_5_GROWN_PARTITIONS}): count and leaders on every broker, new partitions writable`, async () => {
      const label = `${name} scenario 5 create partitions`;
      const cluster = getCluster();
      const topic = `s5-partitions-${slug}`;
      const n = SCENARIO_5_GROWN_PARTITIONS;
      await createTopic(label, topic, 3);
      await step(`${label} grow to ${n}`, cluster, () => admin.createPartitions!(bootstrap(), topic, n));
      const mds = await step(`${label} every broker`, cluster, () => eventually(`${topic} with ${n} partitions, each with a leader among ${cluster.replicationFactor} replicas, on every broker`,
        () => metadataEverywhere(cluster, [topic]),
        (all) => all.every((md) => md.topics[0]?.partitions.length === n && md.topics[0].partitions.every((p) => p.leaderId >= 0 && p.replicaNodes.length === cluster.replicationFactor && p.replicaNodes.includes(p.leaderId)))));
      const leaders = (md: typeof mds[number]): string => md.topics[0]!.partitions.map((p) => `${p.partitionIndex}:${p.leaderId}`).sort().join(',');
      for (const md of mds) assert.equal(leaders(md), leaders(mds[0]!), `${label}: brokers disagree on the leaders`);
      if (admin.describeTopics !== undefined) {
        const [d] = await admin.describeTopics(bootstrap(), [topic]);
        assert.equal(d?.partitions.length, n, `${label}: the client describes ${d?.partitions.length} partitions`);
      }
      // The new partitions take writes (acks=all, no retries) and serve them back.
      const records = Array.from({ length: n }, (_, p) => ({ partition: p, key: `${slug}-p${p}`, value: `v${p}`, headers: { p: String(p) } }));
      await step(`${label} produce to every partition (kafkajs)`, cluster, () => kafkajsDriver.produce(bootstrap(), topic, records));
      const got = await kafkajsDriver.consume(bootstrap(), topic, n, n);
      assert.deepEqual(got.map((r) => r.key).sort(), records.map((r) => r.key).sort(), `${label}: records read back from the ${n} partitions`);
    });
  }

  if (admin.describeConfigs !== undefined) {
    it(`scenario 5 (${name}): describe configs${admin.alterConfigs !== undefined ? ', alter one: reads back as DYNAMIC_TOPIC_CONFIG on every broker' : ''}`, async () => {
      const label = `${name} scenario 5 configs`;
      const cluster = getCluster();
      const topic = `s5-configs-${slug}`;
      await createTopic(label, topic, 3);
      const names = ['retention.ms', 'cleanup.policy'];
      const before = await step(`${label} describe`, cluster, () => admin.describeConfigs!(bootstrap(), topic, names));
      const ref = await describeTopicConfigsRaw(cluster.brokers[0]!.port, topic, names);
      assert.deepEqual(before, ref, `${label}: described configs vs DescribeConfigs v4`);
      assert.equal(before['retention.ms']?.value, '604800000', `${label}: default retention.ms`);
      assert.notEqual(before['retention.ms']?.source, CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG, `${label}: retention.ms is not a topic override yet`);
      if (admin.alterConfigs === undefined) return;
      await step(`${label} alter retention.ms`, cluster, () => admin.alterConfigs!(bootstrap(), topic, { 'retention.ms': '3600000' }));
      const after = await step(`${label} describe after alter`, cluster, () => admin.describeConfigs!(bootstrap(), topic, names));
      assert.deepEqual(after['retention.ms'], { value: '3600000', source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG }, `${label}: retention.ms as the client reads it back`);
      assert.deepEqual(after['cleanup.policy'], before['cleanup.policy'], `${label}: cleanup.policy untouched`);
      await step(`${label} every broker`, cluster, () => eventually('retention.ms=3600000 (DYNAMIC_TOPIC_CONFIG) on every broker',
        () => Promise.all(cluster.brokers.map((b) => describeTopicConfigsRaw(b.port, topic, ['retention.ms']))),
        (all) => all.every((c) => c['retention.ms']?.value === '3600000' && c['retention.ms'].source === CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG)));
    });
  }

  if (admin.describeCluster !== undefined) {
    it(`scenario 5 (${name}): describe cluster: every broker, the controller, the cluster id`, async () => {
      const label = `${name} scenario 5 describe cluster`;
      const cluster = getCluster();
      const d = await step(`${label} describe`, cluster, () => admin.describeCluster!(bootstrap()));
      const ref = await metadata(cluster.brokers[0]!.port, []);
      const brokers = [...d.brokers].sort((a, b) => a.nodeId - b.nodeId);
      assert.deepEqual(brokers, cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: '127.0.0.1', port: b.port })), `${label}: brokers`);
      if (d.controller !== null) assert.equal(d.controller, ref.controllerId, `${label}: controller`);
      if (d.clusterId !== null) assert.equal(d.clusterId, ref.clusterId, `${label}: cluster id`);
    });
  }

  if (admin.listGroups !== undefined || admin.describeGroups !== undefined) {
    it(`scenario 5 (${name}): list and describe groups (a kafkajs member in a Stable group)`, async () => {
      const label = `${name} scenario 5 groups`;
      const cluster = getCluster();
      const topic = `s5-groups-${slug}`;
      const group = `g5-${slug}`;
      await createTopic(label, topic, 3);
      const members: GroupMember[] = [];
      try {
        members.push(await step(`${label} start a kafkajs member`, cluster, () => GROUP_MEMBERS.kafkajs!(bootstrap(), topic, group, `${label} member`)));
        await step(`${label} member assigned`, cluster, () => waitForMembers(members, () => (members[0]!.assignment ?? []).length === 3, 'all 3 partitions assigned'));
        if (admin.listGroups !== undefined) {
          const listed = await step(`${label} list`, cluster, () => admin.listGroups!(bootstrap()));
          assert.ok(listed.includes(group), `${label}: ${group} missing from [${listed.join(', ')}]`);
        }
        if (admin.describeGroups !== undefined) {
          const [g] = await step(`${label} describe`, cluster, () => admin.describeGroups!(bootstrap(), [group]));
          assert.ok(g !== undefined, `${label}: no description of ${group}`);
          assert.equal(g.groupId, group, `${label}: group id`);
          assert.equal(g.state.toLowerCase(), 'stable', `${label}: state`);
          assert.equal(g.protocolType, 'consumer', `${label}: protocol type`);
          assert.deepEqual(g.members.map((m) => m.clientId), ['raftka-compat-kafkajs'], `${label}: members`);
        }
      } finally {
        await Promise.allSettled(members.map((m) => m.stop()));
      }
    });
  }

  if (admin.offsetsForTimes !== undefined) {
    it(`scenario 5 (${name}): offsets by timestamp: the first offset with a timestamp >= the asked one`, async () => {
      const label = `${name} scenario 5 offsets by timestamp`;
      const cluster = getCluster();
      const topic = `s5-times-${slug}`;
      await createTopic(label, topic, 1);
      await step(`${label} produce ${SCENARIO_5_RECORDS} timestamped records (kafkajs)`, cluster, () => produceTimestamped(bootstrap(), topic, slug, SCENARIO_5_RECORDS));
      const stored = await storedRecords(cluster, topic);
      assert.equal(stored.length, SCENARIO_5_RECORDS, `${label}: records stored`);
      const end = Number(await listOffsetRaw(cluster, topic, 0, -1n));
      const t = (i: number): number => SCENARIO_5_T0 + i * 1000;
      const asked = [t(0) - 5000, t(0), t(2) + 500, t(4), t(7) + 1, t(SCENARIO_5_RECORDS - 1), t(SCENARIO_5_RECORDS - 1) + 1];
      const expected = asked.map((ts) => {
        const first = stored.find((r) => r.timestamp >= ts);
        if (first !== undefined) return first.offset;
        return admin.noMatch === 'high-watermark' ? end : null;
      });
      const got = await step(`${label} ask`, cluster, () => admin.offsetsForTimes!(bootstrap(), topic, 0, asked));
      assert.deepEqual(got, expected, `${label}: offsets for timestamps T0${asked.map((ts) => `${ts >= SCENARIO_5_T0 ? '+' : ''}${ts - SCENARIO_5_T0}`).join(', T0')} (records at T0+i s; ${admin.noMatch === 'high-watermark' ? 'no match: the client returns the high watermark' : 'no match: none'})`);
      // The broker's own answer agrees (ListOffsets v7 on the leader; -1 when no record is that late).
      for (let k = 0; k < asked.length; k++) {
        const raw = Number(await listOffsetRaw(cluster, topic, 0, BigInt(asked[k]!)));
        assert.equal(raw, stored.find((r) => r.timestamp >= asked[k]!)?.offset ?? -1, `${label}: ListOffsets v7 for ${asked[k]}`);
      }
    });
  }

  if (admin.deleteRecords !== undefined) {
    it(`scenario 5 (${name}): delete records: the low watermark moves, older offsets are out of range`, async () => {
      const label = `${name} scenario 5 delete records`;
      const cluster = getCluster();
      const topic = `s5-delete-records-${slug}`;
      await createTopic(label, topic, 1);
      await step(`${label} produce (kafkajs)`, cluster, () => produceTimestamped(bootstrap(), topic, slug, SCENARIO_5_RECORDS));
      const stored = await storedRecords(cluster, topic);
      const cut = stored[5]!.offset;
      const reported = await step(`${label} delete below ${cut}`, cluster, () => admin.deleteRecords!(bootstrap(), topic, 0, cut));
      if (reported !== null) assert.equal(reported, cut, `${label}: low watermark reported by the client`);
      assert.equal(Number(await listOffsetRaw(cluster, topic, 0, -2n)), cut, `${label}: earliest offset (ListOffsets -2) after the delete`);
      const below = await fetchRaw(cluster, topic, 0, 0n);
      assert.equal(below.errorCode, 1, `${label}: Fetch from offset 0 after the delete: error ${below.errorCode}, expected OFFSET_OUT_OF_RANGE (1)`);
      const from = await fetchRaw(cluster, topic, 0, BigInt(cut));
      assert.equal(from.errorCode, 0, `${label}: Fetch from the new low watermark`);
      assert.deepEqual(from.records.map((r) => r.key), stored.slice(5).map((r) => r.key), `${label}: records left`);
    });
  }
}
