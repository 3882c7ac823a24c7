import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { FetchResponse } from '../../protocol/generated/fetch.js';
import type { InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import { buildRecordBatch, readBatchHeader, TimestampType } from '../../protocol/records/index.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { fetchAllWithKafkajs } from '../helpers/kafkajs-fetch.js';

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number];

describe('produce semantics on one broker', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  const kafka = (): Kafka => new Kafka({ clientId: 'raftka-produce', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

  const produce = async (topic: string, records: Buffer, opts: { acks?: number; version?: number; partition?: number } = {}): Promise<PartitionResponse> => {
    const version = opts.version ?? 9;
    raw.send(ApiKey.Produce, version, {
      transactionalId: null, acks: opts.acks ?? -1, timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: opts.partition ?? 0, records }] }],
    });
    const res = (await raw.receive()).body as ProduceResponse;
    return res.responses[0]!.partitionResponses[0]!;
  };
  const initProducerId = async (): Promise<bigint> => {
    raw.send(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
    const res = (await raw.receive()).body as InitProducerIdResponse;
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.producerEpoch, 0);
    return res.producerId;
  };
  const idempotentBatch = (producerId: bigint, producerEpoch: number, baseSequence: number, n: number, tag = 'r'): Buffer => buildRecordBatch({
    producerId, producerEpoch, baseSequence,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}-${baseSequence + i}`), timestamp: BigInt(Date.now()) })),
  });
  const createTopic = async (topic: string, configEntries: { name: string; value: string }[] = []): Promise<void> => {
    const admin = kafka().admin();
    await admin.connect();
    try { await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries }] }); } finally { await admin.disconnect(); }
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    raw = await RawClient.connect(broker.port);
    await createTopic('plain');
  });
  after(async () => {
    raw?.socket.destroy();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('answers a retried idempotent batch with its original offset and writes it once', async () => {
    const pid = await initProducerId();
    const first = await produce('plain', idempotentBatch(pid, 0, 0, 3));
    assert.equal(first.errorCode, ErrorCode.NONE);
    const second = await produce('plain', idempotentBatch(pid, 0, 3, 2));
    assert.equal(second.baseOffset, first.baseOffset + 3n);
    // The response to `second` was "lost": the producer sends the same batch again.
    const retry = await produce('plain', idempotentBatch(pid, 0, 3, 2));
    assert.equal(retry.errorCode, ErrorCode.NONE);
    assert.equal(retry.baseOffset, second.baseOffset);
    const retryOfFirst = await produce('plain', idempotentBatch(pid, 0, 0, 3));
    assert.equal(retryOfFirst.baseOffset, first.baseOffset);
    const next = await produce('plain', idempotentBatch(pid, 0, 5, 1));
    assert.equal(next.baseOffset, second.baseOffset + 2n);
  });

  it('OUT_OF_ORDER_SEQUENCE_NUMBER for a gap, INVALID_PRODUCER_EPOCH for an older epoch', async () => {
    const pid = await initProducerId();
    assert.equal((await produce('plain', idempotentBatch(pid, 1, 0, 2))).errorCode, ErrorCode.NONE);
    assert.equal((await produce('plain', idempotentBatch(pid, 1, 5, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await produce('plain', idempotentBatch(pid, 0, 2, 1))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal((await produce('plain', idempotentBatch(pid, 2, 3, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await produce('plain', idempotentBatch(pid, 2, 0, 1))).errorCode, ErrorCode.NONE);
  });

  it('pipelined idempotent batches on one connection are appended in order', async () => {
    const pid = await initProducerId();
    const n = 20;
    for (let i = 0; i < n; i++) {
      raw.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'plain', partitionData: [{ index: 0, records: idempotentBatch(pid, 0, i, 1) }] }] });
    }
    const offsets: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const p = ((await raw.receive()).body as ProduceResponse).responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, ErrorCode.NONE);
      offsets.push(p.baseOffset);
    }
    for (let i = 1; i < n; i++) assert.equal(offsets[i], offsets[i - 1]! + 1n);
  });

  it('keeps producer state across a restart (rebuilt from the log) and never repeats producer ids', async () => {
    const pid = await initProducerId();
    const a = await produce('plain', idempotentBatch(pid, 0, 0, 2));
    await broker.stop();
    broker = await startBroker({ dataDir });
    raw.socket.destroy();
    raw = await RawClient.connect(broker.port);
    const dup = await produce('plain', idempotentBatch(pid, 0, 0, 2));
    assert.equal(dup.errorCode, ErrorCode.NONE);
    assert.equal(dup.baseOffset, a.baseOffset);
    assert.equal((await produce('plain', idempotentBatch(pid, 0, 7, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const after = await initProducerId();
    assert.ok(after > pid, `producer id ${after} after restart must be new (before: ${pid})`);
  });

  it('kafkajs idempotent producer writes every record once', async () => {
    await createTopic('idem');
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic: 'idem', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `m-${i * 10 + j}` })) });
      }
    } finally {
      await producer.disconnect();
    }
    const got = await fetchAllWithKafkajs(kafka(), 'idem');
    assert.deepEqual(got.map((m) => String(m.value)), Array.from({ length: 100 }, (_, i) => `m-${i}`));
  });

  it('LogAppendTime: the broker stamps the batch and answers with the append time', async () => {
    await createTopic('lat', [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    const before = BigInt(Date.now());
    const r = await produce('lat', buildRecordBatch({ records: [{ key: null, value: Buffer.from('x'), timestamp: 1000n }] }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.ok(r.logAppendTimeMs >= before && r.logAppendTimeMs <= BigInt(Date.now()), `logAppendTimeMs ${r.logAppendTimeMs}`);
    raw.send(ApiKey.Fetch, 11, {
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
      isolationLevel: 0, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
      topics: [{ topic: 'lat', topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
    });
    const f = (await raw.receive()).body as FetchResponse;
    const h = readBatchHeader(f.responses[0]!.partitions[0]!.records!);
    assert.equal(h.timestampType, TimestampType.LOG_APPEND_TIME);
    assert.equal(h.maxTimestamp, r.logAppendTimeMs);
  });

  it('INVALID_TIMESTAMP, MESSAGE_TOO_LARGE, CORRUPT_MESSAGE, NOT_ENOUGH_REPLICAS and UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await createTopic('strict', [
      { name: 'message.timestamp.before.max.ms', value: '60000' }, { name: 'max.message.bytes', value: '200' },
      { name: 'min.insync.replicas', value: '2' },
    ]);
    const old = await produce('strict', buildRecordBatch({ records: [{ key: null, value: Buffer.from('x'), timestamp: BigInt(Date.now() - 3_600_000) }] }), { acks: 1 });
    assert.equal(old.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(old.recordErrors.map((e) => e.batchIndex), [0]);
    const big = await produce('strict', buildRecordBatch({ records: [{ key: null, value: Buffer.alloc(300), timestamp: BigInt(Date.now()) }] }), { acks: 1 });
    assert.equal(big.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    const corrupt = buildRecordBatch({ records: [{ key: null, value: Buffer.from('abc'), timestamp: BigInt(Date.now()) }] });
    corrupt[corrupt.length - 1]! ^= 0x55;
    assert.equal((await produce('strict', corrupt, { acks: 1 })).errorCode, ErrorCode.CORRUPT_MESSAGE);
    const ok = buildRecordBatch({ records: [{ key: null, value: Buffer.from('ok'), timestamp: BigInt(Date.now()) }] });
    assert.equal((await produce('strict', Buffer.from(ok), { acks: -1 })).errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.equal((await produce('strict', Buffer.from(ok), { acks: 1 })).errorCode, ErrorCode.NONE);
    assert.equal((await produce('no-such-topic-x', Buffer.from(ok), { acks: 1, partition: 0 })).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('acks=0 sends no response (the next request is answered first)', async () => {
    raw.send(ApiKey.Produce, 9, { transactionalId: null, acks: 0, timeoutMs: 5000, topicData: [{ name: 'plain', partitionData: [{ index: 0, records: buildRecordBatch({ records: [{ key: null, value: Buffer.from('z'), timestamp: BigInt(Date.now()) }] }) }] }] });
    const r = await produce('plain', buildRecordBatch({ records: [{ key: null, value: Buffer.from('after'), timestamp: BigInt(Date.now()) }] }), { acks: 1, version: 11 });
    assert.equal(r.errorCode, ErrorCode.NONE);
  });
});
