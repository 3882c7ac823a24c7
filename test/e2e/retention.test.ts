import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { fetchPartition } from '../helpers/raw-fetch.js';

const { ConfigResourceTypes } = kafkajs;

describe('log retention and compaction run on the broker', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  const kafka = (): Kafka => new Kafka({ clientId: 'retention', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, env: { RAFTKA_LOG_RETENTION_CHECK_INTERVAL_MS: '100', RAFTKA_LOG_CLEANER_BACKOFF_MS: '100' } });
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  /** Polls the earliest offset until `check` holds (retention runs on the broker's own schedule). */
  async function earliestWhen(topic: string, check: (low: bigint) => boolean): Promise<bigint> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      for (let i = 0; i < 100; i++) {
        const [p] = await admin.fetchTopicOffsets(topic);
        if (check(BigInt(p!.low))) return BigInt(p!.low);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('retention did not run');
    } finally {
      await admin.disconnect();
    }
  }

  it('deletes closed segments past retention.ms and moves the log start offset', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'short-lived', configEntries: [{ name: 'retention.ms', value: '1' }, { name: 'segment.bytes', value: '1024' }] }] });
    await admin.disconnect();
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'short-lived', acks: -1, messages: [{ value: 'x'.repeat(300) }] });
    await producer.disconnect();
    const low = await earliestWhen('short-lived', (l) => l > 0n);
    assert.ok(low > 0n && low <= 20n, `log start offset ${low}`);
  });

  it('applies configs altered on a running topic at once, without a restart (segment.bytes, retention.ms)', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'altered' }] });
    const producer = kafka().producer();
    await producer.connect();
    const produce = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await producer.send({ topic: 'altered', acks: -1, messages: [{ value: 'z'.repeat(300) }] });
    };
    try {
      // Kafka's defaults (1 GiB segments, 7 days): one segment, nothing to delete.
      await produce(10);
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'altered', configEntries: [
        { name: 'segment.bytes', value: '1024' }, { name: 'retention.ms', value: '1' },
      ] }] });
      // The running log now rolls at 1 KiB and deletes closed segments past 1 ms.
      await produce(10);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
    const low = await earliestWhen('altered', (l) => l >= 10n);
    assert.ok(low >= 10n && low <= 20n, `log start offset ${low}`);
  });

  it('keeps only the latest value of each key in a compacted topic (offsets kept, older values gone)', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'table', configEntries: [
      { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '1024' }, { name: 'min.cleanable.dirty.ratio', value: '0.01' },
    ] }] });
    await admin.disconnect();
    const producer = kafka().producer();
    await producer.connect();
    for (let round = 0; round < 10; round++) {
      await producer.send({ topic: 'table', acks: -1, messages: ['a', 'b', 'c'].map((k) => ({ key: k, value: `${k}-${round}-${'y'.repeat(100)}` })) });
    }
    await producer.disconnect();
    let records = await fetchPartition(broker.port, 'table', 0);
    for (let i = 0; i < 100 && records.length >= 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      records = await fetchPartition(broker.port, 'table', 0);
    }
    assert.ok(records.length < 30, 'compaction removed superseded values');
    const latest = new Map<string, string>();
    for (const r of records) latest.set(r.key!, r.value!);
    for (const k of ['a', 'b', 'c']) assert.equal(latest.get(k)?.slice(0, 5), `${k}-9-y`, `latest value of ${k} survives`);
    const offsets = records.map((r) => r.offset);
    assert.deepEqual([...offsets].sort((x, y) => (x < y ? -1 : 1)), offsets, 'offsets keep their order');
  });
});
