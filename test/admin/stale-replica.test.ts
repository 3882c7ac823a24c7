import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';

describe('a replica directory left behind by a deleted topic', () => {
  let dataDir: string;
  let saved: string;
  let broker: BrokerProcess;
  const kafka = (): Kafka => new Kafka({ clientId: 'stale-test', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });

  before(async () => {
    dataDir = await makeDataDir();
    saved = await makeDataDir('raftka-saved-');
    broker = await startBroker({ dataDir });
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
    await removeDataDir(saved);
  });

  it('is wiped, not reused, when a new topic of the same name opens it (partition.metadata topic id)', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ghost' }] });
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'ghost', acks: -1, messages: [{ value: 'old-1' }, { value: 'old-2' }] });
    await producer.disconnect();
    await admin.disconnect();
    assert.match(await readFile(join(dataDir, 'ghost-0', 'partition.metadata'), 'utf8'), /^version: 0\ntopic_id: [0-9a-f-]{36}\n$/);

    // Keep a copy of the old replica, delete the topic, and put the copy back while the broker is
    // down: what a crash between committing the RemoveTopicRecord and removing the directory
    // leaves behind. Then create a topic of the same name.
    await broker.stop();
    await cp(join(dataDir, 'ghost-0'), join(saved, 'ghost-0'), { recursive: true });
    broker = await startBroker({ dataDir });
    const admin2 = kafka().admin();
    await admin2.connect();
    await admin2.deleteTopics({ topics: ['ghost'] });
    await admin2.disconnect();
    await broker.stop();
    await cp(join(saved, 'ghost-0'), join(dataDir, 'ghost-0'), { recursive: true });

    broker = await startBroker({ dataDir });
    const admin3 = kafka().admin();
    await admin3.connect();
    try {
      await admin3.createTopics({ topics: [{ topic: 'ghost' }] });
      assert.deepEqual((await admin3.fetchTopicOffsets('ghost')).map((o) => [o.partition, o.low, o.high]), [[0, '0', '0']], 'the old records are gone');
      const producer2 = kafka().producer();
      await producer2.connect();
      const [written] = await producer2.send({ topic: 'ghost', acks: -1, messages: [{ value: 'new' }] });
      await producer2.disconnect();
      assert.equal(written!.baseOffset, '0');
    } finally {
      await admin3.disconnect();
    }
  });
});
