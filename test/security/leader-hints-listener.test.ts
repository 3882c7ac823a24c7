/**
 * KIP-951 leader hints (Produce v10+, Fetch v16+ nodeEndpoints) name the leader's endpoint on the
 * listener the request came in on, as Kafka's getAliveBrokerNode(id, listenerName).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import { defaultProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.js';
import { defaultFetchRequest, type FetchResponse } from '../../protocol/generated/fetch.js';
import type { MetadataRecord } from '../../src/cluster/records.js';
import { DEFAULT_BROKER_CONFIG } from '../../src/config.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { createHandlers } from '../../src/kafka/handlers/index.js';
import { nodeEndpointsFor } from '../../src/kafka/handlers/leader-hints.js';
import type { HandlerDeps } from '../../src/kafka/handlers/deps.js';
import type { RequestContext } from '../../src/kafka/handlers/handler.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

const TOPIC_ID = '11111111-1111-4111-8111-111111111111';

function register(brokerId: number, endPoints: { name: string; port: number; securityProtocol: number }[], fenced = false): MetadataRecord {
  return {
    type: 'RegisterBroker',
    data: {
      brokerId, isMigratingZkBroker: false, incarnationId: `44444444-4444-4444-8444-44444444444${brokerId}`, brokerEpoch: 0n,
      endPoints: endPoints.map((e) => ({ ...e, host: `b${brokerId}.example` })), features: [], rack: null, fenced, inControlledShutdown: false, logDirs: [],
    },
  };
}

async function image(): Promise<MemoryMetadataLog> {
  const log = new MemoryMetadataLog();
  await log.append([
    register(1, [{ name: 'INTERNAL', port: 9092, securityProtocol: 0 }, { name: 'EXTERNAL', port: 9094, securityProtocol: 3 }]),
    register(2, [{ name: 'INTERNAL', port: 9092, securityProtocol: 0 }, { name: 'EXTERNAL', port: 9194, securityProtocol: 3 }]),
    register(3, [{ name: 'INTERNAL', port: 9092, securityProtocol: 0 }]),
    register(4, [{ name: 'INTERNAL', port: 9092, securityProtocol: 0 }, { name: 'EXTERNAL', port: 9494, securityProtocol: 3 }], true),
    { type: 'Topic', data: { name: 'orders', topicId: TOPIC_ID } },
    {
      type: 'Partition',
      data: {
        partitionId: 0, topicId: TOPIC_ID, replicas: [2, 1, 3], isr: [2, 1, 3], removingReplicas: [], addingReplicas: [], leader: 2, leaderRecoveryState: 0,
        leaderEpoch: 4, partitionEpoch: 1, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null,
      },
    },
  ]);
  return log;
}

function ctx(apiKey: number, apiVersion: number, listenerName: string, client: [string | null, string | null] = ['apache-kafka-java', '3.9.0']): RequestContext {
  return {
    apiKey, apiVersion, correlationId: 1, clientId: 'hints', log: silentLogger,
    connection: { id: 1, remoteAddress: '127.0.0.1:1', localPort: 9094, clientSoftwareName: client[0], clientSoftwareVersion: client[1], principal: 'User:ANONYMOUS', listenerName },
  };
}

/** Handlers of broker 1, which leads nothing (no partition here): every Produce and Fetch gets NOT_LEADER_OR_FOLLOWER. */
async function followerHandlers(): Promise<ReturnType<typeof createHandlers>> {
  const log = await image();
  return createHandlers({
    nodeId: 1, clusterId: 'c', autoCreateTopics: false, brokerConfig: DEFAULT_BROKER_CONFIG,
    metadata: () => log.image(), controllerId: () => 1, createTopics: async () => [], waitForMetadata: async () => true,
    partition: () => undefined, waitForHighWatermark: async () => undefined,
  } as unknown as HandlerDeps);
}

const produce = { ...defaultProduceRequest(), acks: -1, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }] };

describe('KIP-951 leader hints by listener', () => {
  it('nodeEndpointsFor: the endpoint of the request\'s listener; brokers without it, fenced and unknown ones left out', async () => {
    const img = (await image()).image();
    assert.deepEqual(nodeEndpointsFor(img, [2, 1, 2, 3, 4, 9, -1], 'EXTERNAL'), [
      { nodeId: 2, host: 'b2.example', port: 9194, rack: null }, { nodeId: 1, host: 'b1.example', port: 9094, rack: null },
    ]);
    assert.deepEqual(nodeEndpointsFor(img, [3], 'INTERNAL'), [{ nodeId: 3, host: 'b3.example', port: 9092, rack: null }]);
  });

  it('Produce and Fetch answering NOT_LEADER_OR_FOLLOWER give the leader on the listener they came in on', async () => {
    const handlers = await followerHandlers();
    for (const [listener, port] of [['EXTERNAL', 9194], ['INTERNAL', 9092]] as const) {
      const r = await handlers.get(ApiKey.Produce)!.handle(produce, ctx(ApiKey.Produce, 10, listener)) as ProduceResponse;
      assert.equal(r.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(r.responses[0]!.partitionResponses[0]!.currentLeader, { leaderId: 2, leaderEpoch: 4 });
      assert.deepEqual(r.nodeEndpoints, [{ nodeId: 2, host: 'b2.example', port, rack: null }]);
    }
    const fetch = {
      ...defaultFetchRequest(), maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, sessionEpoch: -1,
      topics: [{ topic: 'orders', topicId: TOPIC_ID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    };
    const f = await handlers.get(ApiKey.Fetch)!.handle(fetch, ctx(ApiKey.Fetch, 16, 'EXTERNAL')) as FetchResponse;
    assert.equal(f.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(f.nodeEndpoints, [{ nodeId: 2, host: 'b2.example', port: 9194, rack: null }]);
  });

  it('no hints to a connection that did not name its client in ApiVersions v3+, nor to @platformatic/kafka 1.x (it misparses tagged fields)', async () => {
    const handlers = await followerHandlers();
    const cases: [[string | null, string | null], boolean][] = [
      [[null, null], false], [['platformatic-kafka', '1.35.0'], false], [['platformatic-kafka', '2.12.1'], true], [['kafkajs', '2.2.4'], true],
    ];
    for (const [client, hinted] of cases) {
      const r = await handlers.get(ApiKey.Produce)!.handle(produce, ctx(ApiKey.Produce, 11, 'EXTERNAL', client)) as ProduceResponse;
      assert.equal(r.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(r.responses[0]!.partitionResponses[0]!.currentLeader, hinted ? { leaderId: 2, leaderEpoch: 4 } : { leaderId: -1, leaderEpoch: -1 }, String(client));
      assert.equal(r.nodeEndpoints.length, hinted ? 1 : 0, String(client));
    }
  });
});
