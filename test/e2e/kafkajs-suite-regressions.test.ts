// Broker behaviours that kafkajs's own integration suite (v2.2.4) relies on, reproduced here with
// raw requests so that they stay covered without that suite (see compat/README.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import type { AlterConfigsResponse } from '../../protocol/generated/alter-configs.js';
import type { IncrementalAlterConfigsResponse } from '../../protocol/generated/incremental-alter-configs.js';
import type { DescribeConfigsResponse } from '../../protocol/generated/describe-configs.js';
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

  // kafkajs: admin/alterConfigs.spec.js 'alter broker configs' sets cleanup.policy (a topic config
  // name, unknown to a broker) on a broker with AlterConfigs. Kafka's ConfigAdminManager refuses
  // only non-dynamic broker configs (INVALID_REQUEST, KAFKA-13609) and its controller stores the
  // rest as BROKER ConfigRecords; raftka changes no broker config at runtime, so it refuses every
  // config it knows and stores the unknown ones.
  it('AlterConfigs on a broker: unknown names are stored, known (non-dynamic here) ones refused', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const answer = await admin.alterConfigs({ validateOnly: false, resources: [
        { type: 2, name: 'rf1', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { type: 4, name: '1', configEntries: [{ name: 'cleanup.policy', value: 'delete' }] },
      ] });
      assert.deepEqual((answer.resources as { errorCode: number }[]).map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE]);
    } finally {
      await admin.disconnect();
    }
    const legacy = async (name: string, configs: { name: string; value: string | null }[]): Promise<AlterConfigsResponse['responses'][number]> => {
      raw.send(ApiKey.AlterConfigs, 2, { resources: [{ resourceType: 4, resourceName: name, configs }], validateOnly: false });
      return ((await raw.receive()).body as AlterConfigsResponse).responses[0]!;
    };
    const incremental = async (configs: { name: string; configOperation: number; value: string | null }[]): Promise<number> => {
      raw.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '', configs }], validateOnly: false });
      return ((await raw.receive()).body as IncrementalAlterConfigsResponse).responses[0]!.errorCode;
    };
    const refused = await legacy('1', [{ name: 'num.partitions', value: '3' }, { name: 'my.own.setting', value: 'x' }]);
    assert.equal(refused.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(refused.errorMessage, 'Cannot update these configs dynamically: Set(num.partitions)');
    assert.equal((await legacy('one', [{ name: 'x', value: 'y' }])).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await legacy('1', [{ name: 'x', value: null }])).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(await incremental([{ name: 'log.retention.hours', configOperation: 0, value: '1' }]), ErrorCode.INVALID_REQUEST);
    assert.equal(await incremental([{ name: 'my.list', configOperation: 2, value: 'a' }]), ErrorCode.INVALID_CONFIG);
    assert.equal(await incremental([{ name: 'my.own.setting', configOperation: 0, value: 'x' }, { name: 'log.retention.hours', configOperation: 1, value: null }]), ErrorCode.NONE);
    // The broker's own configs are unchanged.
    raw.send(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 4, resourceName: '1', configurationKeys: ['num.partitions'] }], includeSynonyms: false, includeDocumentation: false });
    const described = ((await raw.receive()).body as DescribeConfigsResponse).results[0]!;
    assert.deepEqual(described.configs.map((c) => [c.name, c.value]), [['num.partitions', '1']]);
  });
});
