import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { fetchAllWithKafkajs } from '../helpers/kafkajs-fetch.js';

const COUNT = 1000;

describe('one broker with kafkajs', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  const client = (): Kafka => new Kafka({ clientId: 'raftka-e2e', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('creates a topic whose leaders are in place when CreateTopics answers', async () => {
    const admin = client().admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3 }], waitForLeaders: false }), true);
      const meta = await admin.fetchTopicMetadata({ topics: ['events'] });
      const partitions = meta.topics[0]!.partitions.sort((a, b) => a.partitionId - b.partitionId);
      assert.deepEqual(partitions.map((p) => [p.partitionId, p.leader, p.partitionErrorCode]), [[0, 1, 0], [1, 1, 0], [2, 1, 0]]);
      // kafkajs turns TOPIC_ALREADY_EXISTS into `false` (and any other error into a rejection).
      assert.equal(await admin.createTopics({ topics: [{ topic: 'events' }], waitForLeaders: false }), false);
    } finally {
      await admin.disconnect();
    }
  });

  it('takes 1000 records with keys and headers at once (no retries) and serves them back in order', async () => {
    const producer = client().producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let start = 0; start < COUNT; start += 100) {
        await producer.send({
          topic: 'events',
          acks: -1,
          messages: Array.from({ length: 100 }, (_, j) => {
            const i = start + j;
            return { partition: i % 3, key: `key-${i}`, value: `value-${i}`, headers: { seq: String(i), origin: 'e2e' } };
          }),
        });
      }
    } finally {
      await producer.disconnect();
    }
    assertAllRecords(await fetchAllWithKafkajs(client(), 'events'));
  });

  it('keeps every record across a restart', async () => {
    await broker.stop();
    broker = await startBroker({ dataDir });
    assertAllRecords(await fetchAllWithKafkajs(client(), 'events'));
    // ...and takes new writes at the right offsets.
    const producer = client().producer({ retry: { retries: 0 } });
    await producer.connect();
    const [res] = await producer.send({ topic: 'events', acks: -1, messages: [{ partition: 0, value: 'after-restart' }] });
    await producer.disconnect();
    assert.equal(res!.baseOffset, String(Math.ceil(COUNT / 3)));
  });
});

function assertAllRecords(messages: Awaited<ReturnType<typeof fetchAllWithKafkajs>>): void {
  assert.equal(messages.length, COUNT);
  for (let p = 0; p < 3; p++) {
    const mine = messages.filter((m) => m.partition === p);
    mine.forEach((m, k) => {
      const i = p + 3 * k;
      assert.equal(m.offset, String(k), `offsets of partition ${p} are dense`);
      assert.equal(m.key?.toString(), `key-${i}`);
      assert.equal(m.value?.toString(), `value-${i}`);
      assert.equal(m.headers.seq?.toString(), String(i));
      assert.equal(m.headers.origin?.toString(), 'e2e');
    });
  }
}
