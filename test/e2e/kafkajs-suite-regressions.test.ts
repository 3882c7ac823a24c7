// Broker behaviours that kafkajs's own integration suite (v2.2.4) relies on, reproduced here with
// raw requests so that they stay covered without that suite (see compat/README.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

describe('kafkajs suite regressions (one broker)', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  const kafka = (): Kafka => new Kafka({ clientId: 'raftka-kjs', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    raw = await RawClient.connect(broker.port);
    const admin = kafka().admin();
    await admin.connect();
    try { await admin.createTopics({ topics: [{ topic: 'rf1', numPartitions: 1, replicationFactor: 1 }] }); } finally { await admin.disconnect(); }
  });
  after(async () => {
    raw?.close();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  // kafkajs: broker/deleteRecords.spec.js produces 10 records with acks=1 and at once expects
  // ListOffsets(latest) = 10. Kafka's high watermark is the minimum log end over the ISR; with one
  // replica it covers the batch before the produce response goes out.
  it('acks=1 on a single-replica partition: the high watermark covers the batch when the response arrives', async () => {
    let expectedEnd = -1n;
    for (let round = 0; round < 40; round++) {
      const records = buildRecordBatch({ records: Array.from({ length: 50 }, (_, i) => ({ key: null, value: Buffer.alloc(200, i), timestamp: BigInt(Date.now()) })) });
      raw.send(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'rf1', partitionData: [{ index: 0, records }] }] });
      const produced = ((await raw.receive()).body as ProduceResponse).responses[0]!.partitionResponses[0]!;
      raw.send(ApiKey.ListOffsets, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'rf1', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }] });
      const listed = ((await raw.receive()).body as ListOffsetsResponse).topics[0]!.partitions[0]!;
      assert.equal(produced.errorCode, ErrorCode.NONE);
      assert.equal(listed.errorCode, ErrorCode.NONE);
      if (expectedEnd >= 0n) assert.equal(produced.baseOffset, expectedEnd);
      expectedEnd = produced.baseOffset + 50n;
      assert.equal(listed.offset, expectedEnd, `round ${round}: latest offset right after an acks=1 produce`);
    }
  });
});
