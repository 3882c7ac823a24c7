import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../protocol/primitives.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { DeleteTopicsResponse } from '../../protocol/generated/delete-topics.js';
import type { CreatePartitionsResponse } from '../../protocol/generated/create-partitions.js';
import type { DescribeConfigsResponse } from '../../protocol/generated/describe-configs.js';
import type { IncrementalAlterConfigsResponse } from '../../protocol/generated/incremental-alter-configs.js';
import type { AlterConfigsResponse } from '../../protocol/generated/alter-configs.js';
import type { ElectLeadersResponse } from '../../protocol/generated/elect-leaders.js';
import type { DescribeClusterResponse } from '../../protocol/generated/describe-cluster.js';
import type { ApiVersionsResponse } from '../../protocol/generated/api-versions.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const { ConfigResourceTypes } = kafkajs;

describe('admin APIs on one broker', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  const kafka = (): Kafka => new Kafka({ clientId: 'raftka-admin-test', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const call = async <T>(apiKey: number, version: number, body: unknown): Promise<T> => {
    raw.send(apiKey, version, body);
    return (await raw.receive()).body as T;
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    raw = await RawClient.connect(broker.port);
  });
  after(async () => {
    raw?.close();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('advertises the admin APIs', async () => {
    const res = await call<ApiVersionsResponse>(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    const keys = new Set(res.apiKeys.map((k) => k.apiKey));
    for (const k of [ApiKey.DeleteTopics, ApiKey.CreatePartitions, ApiKey.DescribeConfigs, ApiKey.AlterConfigs,
      ApiKey.IncrementalAlterConfigs, ApiKey.DescribeCluster, ApiKey.ElectLeaders]) assert.ok(keys.has(k), `api key ${k}`);
  });

  it('kafkajs: createPartitions grows a topic, and answers INVALID_PARTITIONS when not increasing', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 1 }] });
      await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 3 }] });
      const md = await admin.fetchTopicMetadata({ topics: ['grow'] });
      assert.deepEqual(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort(), [[0, 1], [1, 1], [2, 1]]);
      await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 2 }] }), (err: Error & { type?: string }) => {
        assert.equal(err.type, 'INVALID_PARTITIONS');
        return true;
      });
    } finally {
      await admin.disconnect();
    }
    const same = await call<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 3, assignments: null }], timeoutMs: 5000, validateOnly: false });
    assert.deepEqual(same.results.map((r) => [r.errorCode, r.errorMessage]), [[ErrorCode.INVALID_PARTITIONS, 'Topic already has 3 partition(s).']]);
    const unknown = await call<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, { topics: [{ name: 'nope', count: 3, assignments: null }], timeoutMs: 5000, validateOnly: false });
    assert.equal(unknown.results[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const badAssignment = await call<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 5, assignments: [{ brokerIds: [1] }] }], timeoutMs: 5000, validateOnly: false });
    assert.equal(badAssignment.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    const validateOnly = await call<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 4, assignments: null }], timeoutMs: 5000, validateOnly: true });
    assert.equal(validateOnly.results[0]!.errorCode, ErrorCode.NONE);
    const admin2 = kafka().admin();
    await admin2.connect();
    try {
      assert.equal((await admin2.fetchTopicMetadata({ topics: ['grow'] })).topics[0]!.partitions.length, 3, 'validateOnly changed nothing');
    } finally {
      await admin2.disconnect();
    }
  });

  it('kafkajs: describeConfigs shows defaults and overrides with Kafka\'s sources and synonyms; alterConfigs replaces', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'conf', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
      const described = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'conf' }] });
      const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
      const retention = entries.get('retention.ms')!;
      assert.equal(retention.configValue, '1000');
      assert.equal(retention.configSource, 1); // DYNAMIC_TOPIC_CONFIG
      assert.deepEqual(retention.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]), [['retention.ms', '1000', 1]]);
      const cleanup = entries.get('cleanup.policy')!;
      assert.equal(cleanup.configValue, 'delete');
      assert.equal(cleanup.configSource, 5); // DEFAULT_CONFIG
      assert.deepEqual(cleanup.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]), [['log.cleanup.policy', 'delete', 5]]);

      // AlterConfigs (legacy) replaces the whole set: retention.ms goes back to its default.
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'conf', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
      const after = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'conf', configNames: ['retention.ms', 'segment.bytes'] }] });
      assert.deepEqual(after.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.configSource]).sort(),
        [['retention.ms', '604800000', 5], ['segment.bytes', '1048576', 1]]);

      const broker = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }] });
      const brokerEntries = new Map(broker.resources[0]!.configEntries.map((e) => [e.configName, e]));
      assert.equal(brokerEntries.get('num.partitions')!.configValue, '1');
      assert.equal(brokerEntries.get('log.retention.hours')!.configValue, '168');
      assert.equal(brokerEntries.get('log.dirs')!.configSource, 4); // STATIC_BROKER_CONFIG: not the default ./data

      await assert.rejects(admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'conf', configEntries: [{ name: 'no.such.config', value: '1' }] }] }),
        (err: Error & { type?: string }) => { assert.equal(err.type, 'INVALID_CONFIG'); return true; });
    } finally {
      await admin.disconnect();
    }
  });

  it('DescribeConfigs and IncrementalAlterConfigs with Kafka\'s error codes', async () => {
    const unknown = await call<DescribeConfigsResponse>(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 'nope', configurationKeys: null }, { resourceType: 4, resourceName: '7', configurationKeys: null }],
      includeSynonyms: true, includeDocumentation: false,
    });
    assert.deepEqual(unknown.results.map((r) => r.errorCode), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_REQUEST]);

    const alter = (resourceName: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false): Promise<IncrementalAlterConfigsResponse> =>
      call<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 2, resourceName, configs }], validateOnly });
    assert.equal((await alter('conf', [{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).responses[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await alter('conf', [{ name: 'max.message.bytes', configOperation: 0, value: '2048' }], true)).responses[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await alter('conf', [{ name: 'bogus', configOperation: 0, value: '1' }])).responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal((await alter('conf', [{ name: 'retention.ms', configOperation: 2, value: '5' }])).responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal((await alter('conf', [{ name: 'retention.ms', configOperation: 0, value: 'soon' }])).responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal((await alter('nope', [{ name: 'retention.ms', configOperation: 0, value: '5' }])).responses[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const brokerAlter = await call<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 4, resourceName: '1', configs: [{ name: 'num.partitions', configOperation: 0, value: '3' }] }], validateOnly: false,
    });
    assert.equal(brokerAlter.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST); // Kafka: a non-dynamic broker config

    const described = await call<DescribeConfigsResponse>(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: 2, resourceName: 'conf', configurationKeys: ['cleanup.policy', 'max.message.bytes'] }], includeSynonyms: false, includeDocumentation: false,
    });
    assert.deepEqual(described.results[0]!.configs.map((c) => [c.name, c.value]),
      [['cleanup.policy', 'delete,compact'], ['max.message.bytes', '1048588']], 'APPEND applied; validateOnly did not change max.message.bytes');

    const legacy = await call<AlterConfigsResponse>(ApiKey.AlterConfigs, 2, {
      resources: [{ resourceType: 2, resourceName: 'conf', configs: [{ name: 'cleanup.policy', value: 'sometimes' }] }], validateOnly: false,
    });
    assert.equal(legacy.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
  });

  it('an altered topic config takes effect for the next produce (max.message.bytes)', async () => {
    const admin = kafka().admin();
    await admin.connect();
    const producer = kafka().producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'small' }] });
      await producer.send({ topic: 'small', acks: -1, messages: [{ value: 'x'.repeat(500) }] });
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'small', configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
      await assert.rejects(producer.send({ topic: 'small', acks: -1, messages: [{ value: 'x'.repeat(500) }] }),
        (err: Error & { type?: string }) => { assert.equal(err.type, 'MESSAGE_TOO_LARGE'); return true; });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('DescribeCluster lists the broker and the controller', async () => {
    const res = await call<DescribeClusterResponse>(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.controllerId, 1);
    assert.deepEqual(res.brokers.map((b) => [b.brokerId, b.port]), [[1, broker.port]]);
  });

  it('ElectLeaders: ELECTION_NOT_NEEDED for a partition on its preferred leader, nothing listed for all partitions', async () => {
    const one = await call<ElectLeadersResponse>(ApiKey.ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 'grow', partitions: [0, 9] }], timeoutMs: 5000 });
    assert.deepEqual(one.replicaElectionResults[0]!.partitionResult.map((p) => [p.partitionId, p.errorCode]),
      [[0, ErrorCode.ELECTION_NOT_NEEDED], [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
    const all = await call<ElectLeadersResponse>(ApiKey.ElectLeaders, 2, { electionType: 0, topicPartitions: null, timeoutMs: 5000 });
    assert.deepEqual(all.replicaElectionResults, []);
  });

  it('kafkajs deleteTopics removes the topic, its log directories, and lets the name be reused', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
      const producer = kafka().producer();
      await producer.connect();
      await producer.send({ topic: 'doomed', messages: [{ partition: 0, value: 'old' }] });
      await producer.disconnect();
      await admin.deleteTopics({ topics: ['doomed'] });
      assert.ok(!(await admin.listTopics()).includes('doomed'));
      await waitFor(() => !existsSync(join(dataDir, 'doomed-0')) && !existsSync(join(dataDir, 'doomed-1')));
      // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION, so with no retries it arrives wrapped.
      await assert.rejects(admin.deleteTopics({ topics: ['doomed'] }), (err: Error) => {
        assert.equal(err.message, 'This server does not host this topic-partition'); // kafkajs' text for UNKNOWN_TOPIC_OR_PARTITION
        return true;
      });
      // Re-created under the same name: a fresh, empty log.
      await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }] });
      const offsets = await admin.fetchTopicOffsets('doomed');
      assert.deepEqual(offsets.map((o) => [o.partition, o.high, o.low]), [[0, '0', '0']]);
    } finally {
      await admin.disconnect();
    }
  });

  it('DeleteTopics v6 by topic id, UNKNOWN_TOPIC_ID for an unknown id, INVALID_REQUEST for a duplicate', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'by-id' }, { topic: 'twice' }] });
    await admin.disconnect();
    const md = await call<{ topics: { name: string; topicId: string }[] }>(ApiKey.Metadata, 12, {
      topics: [{ topicId: ZERO_UUID, name: 'by-id' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    });
    const topicId = md.topics[0]!.topicId;
    const res = await call<DeleteTopicsResponse>(ApiKey.DeleteTopics, 6, {
      topics: [{ name: null, topicId }, { name: null, topicId: '11111111-2222-4333-8444-555555555555' }, { name: 'twice', topicId: ZERO_UUID }, { name: 'twice', topicId: ZERO_UUID }],
      topicNames: [], timeoutMs: 5000,
    });
    assert.deepEqual(res.responses.map((r) => [r.name, r.errorCode]), [
      ['by-id', ErrorCode.NONE], [null, ErrorCode.UNKNOWN_TOPIC_ID], ['twice', ErrorCode.INVALID_REQUEST], ['twice', ErrorCode.INVALID_REQUEST],
    ]);
    const v1 = await call<DeleteTopicsResponse>(ApiKey.DeleteTopics, 1, { topicNames: ['twice', 'never-was'], topics: [], timeoutMs: 5000 });
    assert.deepEqual(v1.responses.map((r) => [r.name, r.errorCode]), [['twice', ErrorCode.NONE], ['never-was', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
  });

  it('deletions, new partitions and configs survive a restart', async () => {
    await broker.stop();
    broker = await startBroker({ dataDir });
    const admin = kafka().admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).sort();
      assert.ok(!topics.includes('by-id') && !topics.includes('twice'), topics.join(','));
      assert.ok(topics.includes('grow') && topics.includes('doomed'));
      assert.equal((await admin.fetchTopicMetadata({ topics: ['grow'] })).topics[0]!.partitions.length, 3);
      const conf = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'small', configNames: ['max.message.bytes'] }] });
      assert.equal(conf.resources[0]!.configEntries[0]!.configValue, '200');
      assert.deepEqual((await admin.fetchTopicOffsets('doomed')).map((o) => [o.partition, o.high]), [[0, '0']]);
    } finally {
      await admin.disconnect();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
