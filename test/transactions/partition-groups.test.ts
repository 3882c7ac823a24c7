/**
 * Transactional offset commits against a broker process, driven with raw requests: TxnOffsetCommit
 * writes pending offsets, OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT until the
 * marker, a COMMIT marker on `__consumer_offsets` makes them visible, an ABORT drops them, and a
 * coordinator reload (broker restart) replays transactional batches and their markers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import { defaultFindCoordinatorRequest, type FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import { defaultOffsetFetchRequest, type OffsetFetchResponse } from '../../protocol/generated/offset-fetch.js';
import type { TxnOffsetCommitResponse } from '../../protocol/generated/txn-offset-commit.js';
import { defaultOffsetCommitRequest, type OffsetCommitResponse } from '../../protocol/generated/offset-commit.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import type { DescribeProducersResponse } from '../../protocol/generated/describe-producers.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const ENV = { RAFTKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1', RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' };
const OFFSETS_TOPIC = '__consumer_offsets';

describe('transactional offset commits (broker process)', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  const kafka = (): Kafka => new Kafka({ clientId: 'raftka-txnp-groups', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

  const request = async <T>(apiKey: number, version: number, body: unknown): Promise<T> => {
    raw.send(apiKey, version, body);
    return (await raw.receive()).body as T;
  };
  const initProducerId = async (): Promise<bigint> => {
    const res = await request<InitProducerIdResponse>(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
    assert.equal(res.errorCode, ErrorCode.NONE);
    return res.producerId;
  };
  const waitForCoordinator = async (groupId: string): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const res = await request<FindCoordinatorResponse>(ApiKey.FindCoordinator, 3, { ...defaultFindCoordinatorRequest(), key: groupId, keyType: 0 });
      if (res.errorCode === ErrorCode.NONE) {
        // the shard may still be loading: an OffsetFetch answers once it is loaded
        const f = await request<OffsetFetchResponse>(ApiKey.OffsetFetch, 7, { ...defaultOffsetFetchRequest(), groupId, topics: null });
        if (f.errorCode === ErrorCode.NONE) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`no coordinator for ${groupId}`);
  };
  const txnCommit = async (groupId: string, producerId: bigint, offset: bigint, opts: { generationId?: number; memberId?: string; epoch?: number } = {}): Promise<number> => {
    const res = await request<TxnOffsetCommitResponse>(ApiKey.TxnOffsetCommit, 3, {
      transactionalId: 'tx', groupId, producerId, producerEpoch: opts.epoch ?? 0, generationId: opts.generationId ?? -1, memberId: opts.memberId ?? '', groupInstanceId: null,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    });
    return res.topics[0]!.partitions[0]!.errorCode;
  };
  const fetchOffset = async (groupId: string, requireStable: boolean): Promise<{ offset: bigint; errorCode: number }> => {
    const res = await request<OffsetFetchResponse>(ApiKey.OffsetFetch, 7, { ...defaultOffsetFetchRequest(), groupId, topics: [{ name: 'in', partitionIndexes: [0] }], requireStable });
    assert.equal(res.errorCode, ErrorCode.NONE);
    const p = res.topics[0]!.partitions[0]!;
    return { offset: p.committedOffset, errorCode: p.errorCode };
  };
  const marker = async (producerId: bigint, commit: boolean, epoch = 0): Promise<number> => {
    const res = await request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, 1, {
      markers: [{ producerId, producerEpoch: epoch, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: OFFSETS_TOPIC, partitionIndexes: [0] }] }],
    });
    return res.markers[0]!.topics[0]!.partitions[0]!.errorCode;
  };
  const restart = async (): Promise<void> => {
    await broker.stop();
    broker = await startBroker({ dataDir, env: ENV });
    raw.socket.destroy();
    raw = await RawClient.connect(broker.port);
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, env: ENV });
    raw = await RawClient.connect(broker.port);
    const admin = kafka().admin();
    await admin.connect();
    try { await admin.createTopics({ topics: [{ topic: 'in', numPartitions: 1 }] }); } finally { await admin.disconnect(); }
    await waitForCoordinator('g1');
  });
  after(async () => {
    raw?.socket.destroy();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('pending until the COMMIT marker, UNSTABLE_OFFSET_COMMIT with requireStable meanwhile', async () => {
    const pid = await initProducerId();
    assert.equal(await txnCommit('g1', pid, 5n), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g1', true), { offset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    assert.deepEqual(await fetchOffset('g1', false), { offset: -1n, errorCode: ErrorCode.NONE });
    assert.equal(await marker(pid, true), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g1', true), { offset: 5n, errorCode: ErrorCode.NONE });
  });

  it('an ABORT marker drops the pending offsets', async () => {
    const pid = await initProducerId();
    assert.equal(await txnCommit('g1', pid, 9n), ErrorCode.NONE);
    assert.equal(await marker(pid, false), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g1', true), { offset: 5n, errorCode: ErrorCode.NONE });
  });

  it('member and generation checks: ILLEGAL_GENERATION for an unknown group with a generation, INVALID_PRODUCER_EPOCH for a fenced producer', async () => {
    const pid = await initProducerId();
    assert.equal(await txnCommit('unknown-group', pid, 1n, { generationId: 3, memberId: 'm-1' }), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await txnCommit('g1', pid, 6n, { epoch: 2 }), ErrorCode.NONE);
    assert.equal(await txnCommit('g1', pid, 7n, { epoch: 1 }), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await marker(pid, false, 2), ErrorCode.NONE);
  });

  it('a coordinator reload replays pending transactional offsets and their markers', async () => {
    const pid = await initProducerId();
    assert.equal(await txnCommit('g1', pid, 12n), ErrorCode.NONE);
    await restart();
    await waitForCoordinator('g1');
    assert.deepEqual(await fetchOffset('g1', true), { offset: -1n, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    assert.deepEqual(await fetchOffset('g1', false), { offset: 5n, errorCode: ErrorCode.NONE });
    assert.equal(await marker(pid, true), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g1', true), { offset: 12n, errorCode: ErrorCode.NONE });
    await restart();
    await waitForCoordinator('g1');
    assert.deepEqual(await fetchOffset('g1', true), { offset: 12n, errorCode: ErrorCode.NONE });
  });

  it('a plain commit written after the transactional one wins when the transaction commits (live and after a reload)', async () => {
    const pid = await initProducerId();
    assert.equal(await txnCommit('g2', pid, 20n), ErrorCode.NONE);
    const plain = await request<OffsetCommitResponse>(ApiKey.OffsetCommit, 8, {
      ...defaultOffsetCommitRequest(), groupId: 'g2',
      topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 25n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] }],
    });
    assert.equal(plain.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal(await marker(pid, true), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g2', true), { offset: 25n, errorCode: ErrorCode.NONE });
    await restart();
    await waitForCoordinator('g2');
    assert.deepEqual(await fetchOffset('g2', true), { offset: 25n, errorCode: ErrorCode.NONE }, 'the replay applies the same rule');
    // And the other order: the transaction's offset is newer, so it replaces the plain one.
    const pid2 = await initProducerId();
    assert.equal(await txnCommit('g2', pid2, 30n), ErrorCode.NONE);
    assert.equal(await marker(pid2, true), ErrorCode.NONE);
    assert.deepEqual(await fetchOffset('g2', true), { offset: 30n, errorCode: ErrorCode.NONE });
    await restart();
    await waitForCoordinator('g2');
    assert.deepEqual(await fetchOffset('g2', true), { offset: 30n, errorCode: ErrorCode.NONE });
  });

  it('DescribeProducers lists producers with their open transaction', async () => {
    const pid = await initProducerId();
    const records = buildRecordBatch({ producerId: pid, producerEpoch: 4, baseSequence: 0, isTransactional: true, records: [{ key: null, value: Buffer.from('x'), timestamp: 1234n }] });
    const produced = await request<ProduceResponse>(ApiKey.Produce, 9, { transactionalId: 'txnp', acks: -1, timeoutMs: 5000, topicData: [{ name: 'in', partitionData: [{ index: 0, records }] }] });
    const base = produced.responses[0]!.partitionResponses[0]!.baseOffset;
    const describe = async () => (await request<DescribeProducersResponse>(ApiKey.DescribeProducers, 0, { topics: [{ name: 'in', partitionIndexes: [0, 7] }] })).topics[0]!.partitions;
    const [p0, p7] = await describe();
    assert.equal(p7!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(p0!.errorCode, ErrorCode.NONE);
    assert.deepEqual(p0!.activeProducers.find((p) => p.producerId === pid), {
      producerId: pid, producerEpoch: 4, lastSequence: 0, lastTimestamp: 1234n, coordinatorEpoch: -1, currentTxnStartOffset: base,
    });
    const res = await request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, 1, {
      markers: [{ producerId: pid, producerEpoch: 4, transactionResult: true, coordinatorEpoch: 3, topics: [{ name: 'in', partitionIndexes: [0] }] }],
    });
    assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const [again] = await describe();
    const after = again!.activeProducers.find((p) => p.producerId === pid)!;
    assert.equal(after.coordinatorEpoch, 3);
    assert.equal(after.currentTxnStartOffset, -1n);
  });
});
