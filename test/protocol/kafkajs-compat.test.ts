/**
 * Byte-for-byte agreement with kafkajs 2.2.4's own request encoders, for every API and version
 * kafkajs sends that brokers must understand. For each case we build the message ourselves, encode
 * it with the generated encoder and compare with kafkajs's bytes; the full frame (size prefix +
 * request header v1 + body) is compared with kafkajs's protocol/request.js too. Then our decoder
 * reads kafkajs's bytes completely and re-encodes them to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Reader, Writer, ZERO_UUID } from '../../protocol/primitives.js';
import { frameChunks } from '../../protocol/frame.js';
import { apiByKey, ApiKey, encodeRequestHeader } from '../../protocol/generated/index.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder { buffer: Buffer }
interface KafkajsRequest { apiKey: number; apiVersion: number; encode: () => Promise<KafkajsEncoder> }
type KafkajsFactory = (args: Record<string, unknown>) => KafkajsRequest;
type KafkajsFrame = (a: { correlationId: number; clientId: string; request: KafkajsRequest }) => Promise<KafkajsEncoder>;

const kafkajsFrame = require('kafkajs/src/protocol/request.js') as KafkajsFrame;

function kafkajs(api: string, version: number): KafkajsFactory {
  return require(`kafkajs/src/protocol/requests/${api}/v${version}/request.js`) as KafkajsFactory;
}

interface Case {
  api: string;                     // kafkajs folder name
  key: number;
  versions: number[];
  args: Record<string, unknown>;
  /** Our message for a version (fields absent in the version are ignored by the encoder). */
  ours: (version: number) => Record<string, unknown>;
}


const cases: Case[] = [
  {
    api: 'apiVersions', key: ApiKey.ApiVersions, versions: [0, 1, 2], args: {},
    ours: () => ({ clientSoftwareName: '', clientSoftwareVersion: '' }),
  },
  {
    api: 'metadata', key: ApiKey.Metadata, versions: [0, 1, 2, 3, 4, 5, 6],
    args: { topics: ['orders', 'payments-é'], allowAutoTopicCreation: false },
    ours: () => ({
      topics: [{ topicId: ZERO_UUID, name: 'orders' }, { topicId: ZERO_UUID, name: 'payments-é' }],
      allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    }),
  },
  {
    api: 'fetch', key: ApiKey.Fetch, versions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    args: {
      replicaId: -1, maxWaitTime: 5000, minBytes: 1, maxBytes: 10485760, isolationLevel: 1, sessionId: 7,
      sessionEpoch: 3, rackId: 'rack-a',
      topics: [{ topic: 'orders', partitions: [{ partition: 2, fetchOffset: '12345678901', maxBytes: 1048576, logStartOffset: '5', currentLeaderEpoch: 9 }] }],
      forgottenTopics: [{ topic: 'old', partitions: [1, 4] }],
    },
    ours: (v) => ({
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 5000, minBytes: 1,
      maxBytes: 10485760, isolationLevel: 1, sessionId: 7, sessionEpoch: 3,
      topics: [{
        topic: 'orders', topicId: ZERO_UUID,
        partitions: [{
          partition: 2, currentLeaderEpoch: 9, fetchOffset: 12345678901n, lastFetchedEpoch: -1,
          logStartOffset: v >= 5 ? 5n : -1n, partitionMaxBytes: 1048576, replicaDirectoryId: ZERO_UUID,
        }],
      }],
      forgottenTopicsData: [{ topic: 'old', topicId: ZERO_UUID, partitions: [1, 4] }],
      rackId: 'rack-a',
    }),
  },
  {
    api: 'listOffsets', key: ApiKey.ListOffsets, versions: [0, 1, 2, 3],
    args: { replicaId: -1, isolationLevel: 1, topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -2 }, { partition: 1, timestamp: '1700000000000' }] }] },
    ours: () => ({
      replicaId: -1, isolationLevel: 1, timeoutMs: 0,
      topics: [{ name: 'orders', partitions: [
        { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n, maxNumOffsets: 1 },
        { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1700000000000n, maxNumOffsets: 1 },
      ] }],
    }),
  },
  {
    api: 'createTopics', key: ApiKey.CreateTopics, versions: [0, 1, 2, 3],
    args: {
      timeout: 30000, validateOnly: true,
      topics: [
        { topic: 'orders', numPartitions: 3, replicationFactor: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: 'manual', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
      ],
    },
    ours: () => ({
      timeoutMs: 30000, validateOnly: true,
      topics: [
        { name: 'orders', numPartitions: 3, replicationFactor: 2, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
        { name: 'manual', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] },
      ],
    }),
  },
  {
    api: 'findCoordinator', key: ApiKey.FindCoordinator, versions: [0, 1, 2],
    args: { groupId: 'group-1', coordinatorKey: 'group-1', coordinatorType: 0 },
    ours: () => ({ key: 'group-1', keyType: 0, coordinatorKeys: [] }),
  },
  {
    api: 'joinGroup', key: ApiKey.JoinGroup, versions: [0, 1, 2, 3, 4, 5],
    args: {
      groupId: 'group-1', sessionTimeout: 30000, rebalanceTimeout: 60000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 0x61]) }],
    },
    ours: () => ({
      groupId: 'group-1', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 0x61]) }],
      reason: null,
    }),
  },
  {
    api: 'syncGroup', key: ApiKey.SyncGroup, versions: [0, 1, 2, 3],
    args: {
      groupId: 'group-1', generationId: 4, memberId: 'member-1', groupInstanceId: 'static-1',
      groupAssignment: [{ memberId: 'member-1', memberAssignment: Buffer.from('assignment') }],
    },
    ours: () => ({
      groupId: 'group-1', generationId: 4, memberId: 'member-1', groupInstanceId: 'static-1', protocolType: null,
      protocolName: null, assignments: [{ memberId: 'member-1', assignment: Buffer.from('assignment') }],
    }),
  },
  {
    api: 'heartbeat', key: ApiKey.Heartbeat, versions: [0, 1, 2, 3],
    args: { groupId: 'group-1', groupGenerationId: 4, memberId: 'member-1', groupInstanceId: null },
    ours: () => ({ groupId: 'group-1', generationId: 4, memberId: 'member-1', groupInstanceId: null }),
  },
  {
    api: 'offsetCommit', key: ApiKey.OffsetCommit, versions: [0, 1, 2, 3, 4, 5],
    args: {
      groupId: 'group-1', groupGenerationId: 4, memberId: 'member-1', retentionTime: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '42', timestamp: 1700000000000, metadata: 'm' }, { partition: 1, offset: '9007199254740993', timestamp: 1700000000000 }] }],
    },
    ours: () => ({
      groupId: 'group-1', generationIdOrMemberEpoch: 4, memberId: 'member-1', groupInstanceId: null, retentionTimeMs: -1n,
      topics: [{ name: 'orders', partitions: [
        { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, commitTimestamp: 1700000000000n, committedMetadata: 'm' },
        { partitionIndex: 1, committedOffset: 9007199254740993n, committedLeaderEpoch: -1, commitTimestamp: 1700000000000n, committedMetadata: null },
      ] }],
    }),
  },
  {
    api: 'offsetFetch', key: ApiKey.OffsetFetch, versions: [1, 2, 3, 4],
    args: { groupId: 'group-1', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 3 }] }] },
    ours: () => ({
      groupId: 'group-1', topics: [{ name: 'orders', partitionIndexes: [0, 3] }], groups: [], requireStable: false,
    }),
  },
];

function encodeOurs(key: number, version: number, m: unknown): Buffer {
  const w = new Writer();
  apiByKey(key)!.encodeRequest(w, version, m);
  return w.toBuffer();
}

for (const c of cases) {
  test(`${c.api}: our encoder matches kafkajs byte for byte, v${c.versions.join(',')}`, async () => {
    const api = apiByKey(c.key)!;
    for (const v of c.versions) {
      const req = kafkajs(c.api, v)(c.args);
      assert.equal(req.apiKey, c.key);
      assert.equal(req.apiVersion, v);
      const theirs = (await req.encode()).buffer;
      assert.deepStrictEqual(encodeOurs(c.key, v, c.ours(v)).toString('hex'), theirs.toString('hex'), `${c.api} v${v}`);

      // our decoder consumes all of kafkajs's bytes and re-encodes them identically
      const r = new Reader(theirs);
      const decoded = api.decodeRequest(r, v);
      assert.equal(r.remaining(), 0);
      assert.ok(encodeOurs(c.key, v, decoded).equals(theirs));

      // the whole frame: size + request header v1 + body
      const frame = (await kafkajsFrame({ correlationId: 77, clientId: 'raftka-test', request: req })).buffer;
      const hv = api.requestHeaderVersion(v);
      assert.equal(hv, 1);
      const w = new Writer();
      encodeRequestHeader(w, hv, { requestApiKey: c.key, requestApiVersion: v, correlationId: 77, clientId: 'raftka-test' });
      api.encodeRequest(w, v, c.ours(v));
      assert.ok(Buffer.concat(frameChunks(w.toChunks())).equals(frame), `${c.api} v${v} frame`);
    }
  });
}

test('produce v0-v7: kafkajs requests (message sets and record batches) decode and re-encode byte for byte', async () => {
  const topicData = [{
    topic: 'orders',
    partitions: [{ partition: 1, messages: [{ key: 'k1', value: 'v1', timestamp: 1700000000000 }, { key: null, value: 'v2', timestamp: 1700000000001, headers: { h: 'x' } }] }],
  }];
  for (let v = 0; v <= 7; v++) {
    const req = kafkajs('produce', v)({ acks: -1, timeout: 30000, transactionalId: v >= 3 ? 'tx-1' : null, topicData });
    const theirs = (await req.encode()).buffer;
    const r = new Reader(theirs);
    const decoded = apiByKey(ApiKey.Produce)!.decodeRequest(r, v) as {
      transactionalId: string | null; acks: number; timeoutMs: number;
      topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
    };
    assert.equal(r.remaining(), 0);
    const records = decoded.topicData[0]!.partitionData[0]!.records!;
    assert.ok(records.length > 20);
    // the records are a zero-copy view into the request bytes
    assert.equal(records.buffer, theirs.buffer);
    const ours = {
      transactionalId: v >= 3 ? 'tx-1' : null, acks: -1, timeoutMs: 30000,
      topicData: [{ name: 'orders', partitionData: [{ index: 1, records: Buffer.from(records) }] }],
    };
    assert.deepStrictEqual(decoded, { ...ours, topicData: [{ name: 'orders', partitionData: [{ index: 1, records }] }] });
    assert.ok(encodeOurs(ApiKey.Produce, v, ours).equals(theirs), `produce v${v}`);
  }
});

// kafkajs's only flexible requests: it writes header v1 and starts the body with the empty tagged
// section that header v2 needs, so the whole frame must equal our header v2 + flexible body.
const flexibleCases: { api: string; key: number; args: Record<string, unknown>; ours: Record<string, unknown> }[] = [
  {
    api: 'listPartitionReassignments', key: ApiKey.ListPartitionReassignments,
    args: { timeout: 5000, topics: [{ topic: 'orders', partitions: [0, 2] }] },
    ours: { timeoutMs: 5000, topics: [{ name: 'orders', partitionIndexes: [0, 2] }] },
  },
  {
    api: 'listPartitionReassignments', key: ApiKey.ListPartitionReassignments,
    args: { timeout: 5000, topics: null },
    ours: { timeoutMs: 5000, topics: null },
  },
  {
    api: 'alterPartitionReassignments', key: ApiKey.AlterPartitionReassignments,
    args: { timeout: 7000, topics: [{ topic: 'orders', partitionAssignment: [{ partition: 1, replicas: [3, 1, 2] }] }] },
    ours: { timeoutMs: 7000, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, replicas: [3, 1, 2] }] }] },
  },
];

for (const c of flexibleCases) {
  test(`${c.api} v0 (flexible): the whole frame matches kafkajs (request header v2)`, async () => {
    const api = apiByKey(c.key)!;
    const req = kafkajs(c.api, 0)(c.args);
    const frame = (await kafkajsFrame({ correlationId: 5, clientId: 'kafkajs', request: req })).buffer;
    assert.equal(api.requestHeaderVersion(0), 2);
    const w = new Writer();
    encodeRequestHeader(w, 2, { requestApiKey: c.key, requestApiVersion: 0, correlationId: 5, clientId: 'kafkajs' });
    api.encodeRequest(w, 0, c.ours);
    assert.equal(Buffer.concat(frameChunks(w.toChunks())).toString('hex'), frame.toString('hex'));
  });
}
