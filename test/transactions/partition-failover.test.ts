/**
 * Followers keep the transaction state too: after the leader of a partition dies in the middle of
 * a transaction, the new leader (which only ever appended as a follower) holds the LSO at the open
 * transaction, returns the aborted transactions from its own index, and accepts the marker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { FetchResponse } from '../../protocol/generated/fetch.js';
import type { InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { RawClient } from '../helpers/raw-client.js';

const ZERO = '00000000-0000-0000-0000-000000000000';

async function call<T>(port: number, apiKey: number, version: number, body: unknown): Promise<T> {
  const raw = await RawClient.connect(port);
  try {
    raw.send(apiKey, version, body);
    return (await raw.receive()).body as T;
  } finally { raw.close(); }
}

describe('transaction state on a new leader (three brokers)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ size: 3, config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 } });
  });
  after(async () => { await cluster?.destroy(); });

  const leaderOf = async (topic: string, viaPort: number, not?: number): Promise<number> => {
    for (let i = 0; i < 200; i++) {
      const md = await call<MetadataResponse>(viaPort, ApiKey.Metadata, 12, { topics: [{ topicId: ZERO, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      const leader = md.topics[0]?.partitions[0]?.leaderId ?? -1;
      if (leader >= 0 && leader !== not && cluster.broker(leader).running) return leader;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no leader for ${topic}`);
  };
  const produce = (port: number, producerId: bigint, n: number) => call<ProduceResponse>(port, ApiKey.Produce, 9, {
    transactionalId: 'txnp', acks: -1, timeoutMs: 5000,
    topicData: [{ name: 'ft', partitionData: [{ index: 0, records: buildRecordBatch({ producerId, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: Array.from({ length: n }, () => ({ key: null, value: Buffer.from('x'), timestamp: 1n })) }) }] }],
  }).then((r) => r.responses[0]!.partitionResponses[0]!);
  const marker = (port: number, producerId: bigint, commit: boolean) => call<WriteTxnMarkersResponse>(port, ApiKey.WriteTxnMarkers, 1, {
    markers: [{ producerId, producerEpoch: 0, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: 'ft', partitionIndexes: [0] }] }],
  }).then((r) => r.markers[0]!.topics[0]!.partitions[0]!.errorCode);
  const fetchCommitted = (port: number) => call<FetchResponse>(port, ApiKey.Fetch, 12, {
    clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
    isolationLevel: 1, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
    topics: [{ topic: 'ft', topicId: ZERO, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO }] }],
  }).then((r) => r.responses[0]!.partitions[0]!);

  it('the new leader holds the LSO at the open transaction and knows the aborted one', async () => {
    const admin = new Kafka({ clientId: 'txnp-failover', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try { await admin.createTopics({ topics: [{ topic: 'ft', numPartitions: 1, replicationFactor: 3 }] }); } finally { await admin.disconnect(); }
    const leader = await leaderOf('ft', cluster.brokers[0]!.port);
    const port = cluster.broker(leader).port;
    const pid = async (): Promise<bigint> => (await call<InitProducerIdResponse>(port, ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 })).producerId;
    const a = await pid();
    const b = await pid();
    const aStart = await produce(port, a, 3);
    assert.equal(aStart.errorCode, ErrorCode.NONE);
    assert.equal(await marker(port, a, false), ErrorCode.NONE);
    const bStart = await produce(port, b, 2);
    assert.equal(bStart.errorCode, ErrorCode.NONE);
    const before = await fetchCommitted(port);
    assert.equal(before.lastStableOffset, bStart.baseOffset);

    await cluster.broker(leader).kill();
    const other = cluster.brokers.find((x) => x.nodeId !== leader)!;
    const newLeader = await leaderOf('ft', other.port, leader);
    const newPort = cluster.broker(newLeader).port;
    let r = await fetchCommitted(newPort);
    for (let i = 0; i < 100 && (r.errorCode !== ErrorCode.NONE || r.highWatermark <= bStart.baseOffset + 1n); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await fetchCommitted(newPort);
    }
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.lastStableOffset, bStart.baseOffset, 'the open transaction still holds the LSO on the new leader');
    assert.deepEqual(r.abortedTransactions, [{ producerId: a, firstOffset: aStart.baseOffset }]);
    assert.equal(await marker(newPort, b, true), ErrorCode.NONE);
    const after = await fetchCommitted(newPort);
    assert.equal(after.lastStableOffset, after.highWatermark);
  });
});
