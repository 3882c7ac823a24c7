import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { KCAT } from './kcat.js';
import { PYTHON, pythonScript } from './python.js';
import { run, tail } from './process.js';

// kafkajs is CommonJS: its enums come through the default export.
const { ConfigResourceTypes: KafkajsConfigResourceTypes } = kafkajs;

/** A topic as a client's admin API describes it. */
export interface TopicDescription {
  name: string;
  partitions: { partition: number; leader: number; replicas: number[] }[];
}

/** The cluster as a client's admin API describes it (null: the client does not report that field). */
export interface ClusterDescription {
  clusterId: string | null;
  controller: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

/** One topic config as read back: its value and Kafka's ConfigSource id (1 = DYNAMIC_TOPIC_CONFIG). */
export interface ConfigValue { value: string | null; source: number }

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  members: { clientId: string }[];
}

/** Kafka's ConfigSource ids (DescribeConfigs v1+). */
export const CONFIG_SOURCE = { DYNAMIC_TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;

/**
 * What one client's own admin API offers for scenario 5. A missing operation is an API the client
 * does not have (`missing` says so for the README matrix); it is not a test.
 */
export interface AdminDriver {
  readonly client: string;
  listTopics?(bootstrap: string[]): Promise<string[]>;
  describeTopics?(bootstrap: string[], topics: string[]): Promise<TopicDescription[]>;
  deleteTopics?(bootstrap: string[], topics: string[]): Promise<void>;
  /** Grows `topic` to `count` partitions in total. */
  createPartitions?(bootstrap: string[], topic: string, count: number): Promise<void>;
  describeConfigs?(bootstrap: string[], topic: string, names: string[]): Promise<Record<string, ConfigValue>>;
  alterConfigs?(bootstrap: string[], topic: string, configs: Record<string, string>): Promise<void>;
  describeCluster?(bootstrap: string[]): Promise<ClusterDescription>;
  listGroups?(bootstrap: string[]): Promise<string[]>;
  describeGroups?(bootstrap: string[], groups: string[]): Promise<GroupDescription[]>;
  /**
   * For each timestamp, the offset the client returns for `topic-partition` (ListOffsets by
   * timestamp: the first offset whose timestamp is >= the asked one). When no record is that late,
   * Kafka answers -1; `noMatch` says how the client hands that on.
   */
  offsetsForTimes?(bootstrap: string[], topic: string, partition: number, timestamps: number[]): Promise<(number | null)[]>;
  /** 'null': the client returns null/-1 for "no such record"; 'high-watermark': it substitutes the partition's end (kafkajs). */
  readonly noMatch?: 'null' | 'high-watermark';
  /** Deletes the records of `topic-partition` below `offset`; the low watermark the client reports, or null when it reports none. */
  deleteRecords?(bootstrap: string[], topic: string, partition: number, offset: number): Promise<number | null>;
  /** Why an operation is absent (shown in the README matrix as "n/a (...)"). */
  readonly missing: Partial<Record<AdminOp, string>>;
}

export type AdminOp = 'listTopics' | 'describeTopics' | 'deleteTopics' | 'createPartitions' | 'describeConfigs' | 'alterConfigs'
  | 'describeCluster' | 'listGroups' | 'describeGroups' | 'offsetsForTimes' | 'deleteRecords';

// --- kafkajs 2.2.4 -------------------------------------------------------------------------------

async function withKafkajsAdmin<T>(bootstrap: string[], fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'raftka-compat-kafkajs-admin', brokers: bootstrap, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export const kafkajsAdmin: AdminDriver = {
  client: 'kafkajs',
  missing: {},
  listTopics: (b) => withKafkajsAdmin(b, (a) => a.listTopics()),
  describeTopics: (b, topics) => withKafkajsAdmin(b, async (a) => (await a.fetchTopicMetadata({ topics })).topics.map((t) => ({
    name: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas })),
  }))),
  deleteTopics: (b, topics) => withKafkajsAdmin(b, (a) => a.deleteTopics({ topics })),
  createPartitions: (b, topic, count) => withKafkajsAdmin(b, async (a) => { await a.createPartitions({ topicPartitions: [{ topic, count }] }); }),
  describeConfigs: (b, topic, names) => withKafkajsAdmin(b, async (a) => {
    const res = await a.describeConfigs({ includeSynonyms: false, resources: [{ type: KafkajsConfigResourceTypes.TOPIC, name: topic, configNames: names }] });
    const out: Record<string, ConfigValue> = {};
    // kafkajs's typings omit configSource, which it decodes from DescribeConfigs v1+.
    for (const e of res.resources[0]?.configEntries ?? []) out[e.configName] = { value: e.configValue, source: (e as unknown as { configSource: number }).configSource };
    return out;
  }),
  alterConfigs: (b, topic, configs) => withKafkajsAdmin(b, async (a) => {
    await a.alterConfigs({ validateOnly: false, resources: [{ type: KafkajsConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }] });
  }),
  describeCluster: (b) => withKafkajsAdmin(b, async (a) => {
    const c = await a.describeCluster();
    return { clusterId: c.clusterId, controller: c.controller, brokers: c.brokers.map((x) => ({ nodeId: x.nodeId, host: x.host, port: x.port })) };
  }),
  listGroups: (b) => withKafkajsAdmin(b, async (a) => (await a.listGroups()).groups.map((g) => g.groupId)),
  describeGroups: (b, groups) => withKafkajsAdmin(b, async (a) => (await a.describeGroups(groups)).groups.map((g) => ({
    groupId: g.groupId, state: g.state, protocolType: g.protocolType, members: g.members.map((m) => ({ clientId: m.clientId })),
  }))),
  noMatch: 'high-watermark',
  offsetsForTimes: (b, topic, partition, timestamps) => withKafkajsAdmin(b, async (a) => {
    const out: number[] = [];
    for (const ts of timestamps) {
      const res = await a.fetchTopicOffsetsByTimestamp(topic, ts);
      out.push(Number(res.find((p) => p.partition === partition)!.offset));
    }
    return out;
  }),
  deleteRecords: (b, topic, partition, offset) => withKafkajsAdmin(b, async (a) => {
    // deleteTopicRecords looks the leaders up in metadata it does not load itself: load it first.
    await a.fetchTopicOffsets(topic);
    await a.deleteTopicRecords({ topic, partitions: [{ partition, offset: String(offset) }] });
    return null; // kafkajs 2.2.4 resolves with nothing (no low watermark)
  }),
};

// --- @platformatic/kafka 1.35.0 ------------------------------------------------------------------

async function withPlatformaticAdmin<T>(bootstrap: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'raftka-compat-platformatic-admin', bootstrapBrokers: bootstrap, retries: 0 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export const platformaticAdmin: AdminDriver = {
  client: '@platformatic/kafka',
  missing: {},
  listTopics: (b) => withPlatformaticAdmin(b, (a) => a.listTopics()),
  // Admin has no describeTopics: the client's metadata() (Metadata API) describes them.
  describeTopics: (b, topics) => withPlatformaticAdmin(b, async (a) => {
    const md = await a.metadata({ topics, forceUpdate: true });
    return topics.map((name) => ({
      name, partitions: (md.topics.get(name)?.partitions ?? []).map((p, i) => ({ partition: i, leader: p.leader, replicas: p.replicas })),
    }));
  }),
  deleteTopics: (b, topics) => withPlatformaticAdmin(b, (a) => a.deleteTopics({ topics })),
  createPartitions: (b, topic, count) => withPlatformaticAdmin(b, (a) => a.createPartitions({ topics: [{ name: topic, count }] })),
  describeConfigs: (b, topic, names) => withPlatformaticAdmin(b, async (a) => {
    const res = await a.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: names }] });
    const out: Record<string, ConfigValue> = {};
    for (const c of res[0]?.configs ?? []) out[c.name] = { value: c.value ?? null, source: c.configSource };
    return out;
  }),
  alterConfigs: (b, topic, configs) => withPlatformaticAdmin(b, (a) => a.alterConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
  })),
  // Admin has no describeCluster (DescribeCluster API): metadata() gives cluster id, controller and brokers.
  describeCluster: (b) => withPlatformaticAdmin(b, async (a) => {
    const md = await a.metadata({ topics: [], forceUpdate: true });
    return { clusterId: md.id, controller: md.controllerId, brokers: [...md.brokers].map(([nodeId, x]) => ({ nodeId, host: x.host, port: x.port })) };
  }),
  listGroups: (b) => withPlatformaticAdmin(b, async (a) => [...(await a.listGroups()).keys()]),
  describeGroups: (b, groups) => withPlatformaticAdmin(b, async (a) => [...(await a.describeGroups({ groups })).values()].map((g) => ({
    groupId: g.id, state: g.state, protocolType: g.protocolType, members: [...g.members.values()].map((m) => ({ clientId: m.clientId })),
  }))),
  noMatch: 'null',
  offsetsForTimes: (b, topic, partition, timestamps) => withPlatformaticAdmin(b, async (a) => {
    const out: (number | null)[] = [];
    for (const ts of timestamps) {
      const res = await a.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: BigInt(ts) }] }] });
      const o = Number(res[0]!.partitions.find((p) => p.partitionIndex === partition)!.offset);
      out.push(o < 0 ? null : o);
    }
    return out;
  }),
  deleteRecords: (b, topic, partition, offset) => withPlatformaticAdmin(b, async (a) => {
    const res = await a.deleteRecords({ topics: [{ name: topic, partitions: [{ partition, offset: BigInt(offset) }] }] });
    return Number(res[0]!.partitions.find((p) => p.partition === partition)!.lowWatermark);
  }),
};

// --- kafka-python 2.0.2 and confluent-kafka 1.7.0 (python/*.py `admin`) --------------------------

function pythonAdminCall(script: string, client: string) {
  return async <T>(bootstrap: string[], action: string, args: object): Promise<T> => {
    const res = await run(PYTHON, [pythonScript(script), 'admin', bootstrap.join(','), '-', JSON.stringify({ action, ...args })], '', 60_000);
    if (res.code !== 0) throw new Error(`${client} admin ${action} failed (exit ${res.code}):\n${tail(res.stderr)}`);
    return JSON.parse(res.stdout) as T;
  };
}

const kp = pythonAdminCall('kafka_python_client.py', 'kafka-python');
export const kafkaPythonAdmin: AdminDriver = {
  client: 'kafka-python',
  missing: { deleteRecords: 'no API in kafka-python 2.0.2 (KafkaAdminClient has no delete_records)' },
  listTopics: (b) => kp(b, 'list-topics', {}),
  describeTopics: (b, topics) => kp(b, 'describe-topics', { topics }),
  deleteTopics: (b, topics) => kp(b, 'delete-topics', { topics }),
  createPartitions: (b, topic, count) => kp(b, 'create-partitions', { topic, count }),
  describeConfigs: (b, topic, names) => kp(b, 'describe-configs', { topic, names }),
  alterConfigs: (b, topic, configs) => kp(b, 'alter-configs', { topic, configs }),
  describeCluster: (b) => kp(b, 'describe-cluster', {}),
  listGroups: (b) => kp(b, 'list-groups', {}),
  describeGroups: (b, groups) => kp(b, 'describe-groups', { groups }),
  noMatch: 'null',
  offsetsForTimes: (b, topic, partition, timestamps) => kp(b, 'offsets-for-times', { topic, partition, timestamps }),
};

const ck = pythonAdminCall('confluent_client.py', 'confluent-kafka');
export const confluentAdmin: AdminDriver = {
  client: 'confluent-kafka',
  missing: {
    describeCluster: 'no API in confluent-kafka 1.7.0 (AdminClient has no describe_cluster)',
    deleteRecords: 'no API in confluent-kafka 1.7.0 (AdminClient has no delete_records)',
  },
  // list_topics() returns the whole ClusterMetadata: the topic list and every topic's partitions.
  listTopics: (b) => ck(b, 'list-topics', {}),
  describeTopics: (b, topics) => ck(b, 'describe-topics', { topics }),
  deleteTopics: (b, topics) => ck(b, 'delete-topics', { topics }),
  createPartitions: (b, topic, count) => ck(b, 'create-partitions', { topic, count }),
  describeConfigs: (b, topic, names) => ck(b, 'describe-configs', { topic, names }),
  alterConfigs: (b, topic, configs) => ck(b, 'alter-configs', { topic, configs }),
  // list_groups() is librdkafka's rd_kafka_list_groups: ListGroups to every broker, then DescribeGroups.
  listGroups: (b) => ck(b, 'list-groups', {}),
  describeGroups: (b, groups) => ck(b, 'describe-groups', { groups }),
  noMatch: 'null',
  // AdminClient 1.7.0 has no list_offsets; the client's Consumer.offsets_for_times is its API for it.
  offsetsForTimes: (b, topic, partition, timestamps) => ck(b, 'offsets-for-times', { topic, partition, timestamps }),
};

// --- kcat 1.7.1: -L (metadata) and -Q (offsets by timestamp) -------------------------------------

interface KcatMetadata {
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[] }[] }[];
}

async function kcatMetadata(bootstrap: string[], topic?: string): Promise<KcatMetadata> {
  const res = await run(KCAT, ['-L', '-J', '-b', bootstrap.join(','), ...(topic === undefined ? [] : ['-t', topic])], '', 30_000);
  if (res.code !== 0) throw new Error(`kcat -L failed (exit ${res.code}):\n${tail(res.stderr)}`);
  return JSON.parse(res.stdout) as KcatMetadata;
}

const noAdmin = 'no API in kcat 1.7.1 (metadata -L and offsets by timestamp -Q only)';
export const kcatAdmin: AdminDriver = {
  client: 'kcat',
  missing: {
    deleteTopics: noAdmin, createPartitions: noAdmin, describeConfigs: noAdmin, alterConfigs: noAdmin,
    listGroups: noAdmin, describeGroups: noAdmin, deleteRecords: noAdmin,
  },
  listTopics: async (b) => (await kcatMetadata(b)).topics.map((t) => t.topic),
  describeTopics: async (b, topics) => {
    const out: TopicDescription[] = [];
    for (const topic of topics) {
      const t = (await kcatMetadata(b, topic)).topics.find((x) => x.topic === topic && x.error === undefined);
      if (t !== undefined) out.push({ name: topic, partitions: t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas.map((r) => r.id) })) });
    }
    return out;
  },
  // -L lists the brokers and the controller (no cluster id).
  describeCluster: async (b) => {
    const md = await kcatMetadata(b);
    return {
      clusterId: null, controller: md.controllerid,
      brokers: md.brokers.map((x) => { const [host, port] = x.name.split(':'); return { nodeId: x.id, host: host!, port: Number(port) }; }),
    };
  },
  noMatch: 'null',
  offsetsForTimes: async (b, topic, partition, timestamps) => {
    const out: (number | null)[] = [];
    for (const ts of timestamps) {
      // -Q -t topic:partition:timestamp prints {"<topic>":{"topic":..,"<partition>":{"partition":p,"offset":o}}} with -J.
      const res = await run(KCAT, ['-Q', '-J', '-b', b.join(','), '-t', `${topic}:${partition}:${ts}`], '', 30_000);
      if (res.code !== 0) throw new Error(`kcat -Q failed (exit ${res.code}):\n${tail(res.stderr)}`);
      const parsed = JSON.parse(res.stdout) as Record<string, Record<string, { offset: number }>>;
      const o = parsed[topic]![String(partition)]!.offset;
      out.push(o < 0 ? null : o);
    }
    return out;
  },
};

/** Admin drivers by client name. */
export const ADMIN_DRIVERS: Record<string, AdminDriver> = {
  kafkajs: kafkajsAdmin,
  '@platformatic/kafka': platformaticAdmin,
  'kafka-python': kafkaPythonAdmin,
  'confluent-kafka': confluentAdmin,
  kcat: kcatAdmin,
};
