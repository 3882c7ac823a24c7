import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';

/**
 * raftka.log.flush.rounds=true: every partition's flush goes through the broker-wide
 * FlushScheduler. acks=all answers (Raft commits, each after the log's fsync) and the data
 * survives a SIGKILL and a restart with the same setting.
 */
describe('broker with raftka.log.flush.rounds=true', () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;
  const env = { RAFTKA_RAFTKA_LOG_FLUSH_ROUNDS: 'true' };

  before(async () => { dataDir = await makeDataDir(); });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('acknowledges acks=all produces to several partitions and keeps them across a SIGKILL', async () => {
    broker = await startBroker({ dataDir, env });
    const kafka = (port: number): Kafka => new Kafka({ clientId: 'raftka-rounds', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka(broker.port).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rounds', numPartitions: 4 }] });
    await admin.disconnect();
    const producer = kafka(broker.port).producer();
    await producer.connect();
    // Concurrent sends to every partition: their flushes share sync rounds.
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({
      topic: 'rounds', acks: -1, messages: [0, 1, 2, 3].map((p) => ({ partition: p, value: `v${i}-${p}` })),
    })));
    await producer.disconnect();

    await broker.kill();
    broker = await startBroker({ dataDir, env });
    const admin2 = kafka(broker.port).admin();
    await admin2.connect();
    const offsets = await admin2.fetchTopicOffsets('rounds');
    await admin2.disconnect();
    assert.deepEqual(offsets.map((o) => [o.partition, o.high]).sort(), [[0, '20'], [1, '20'], [2, '20'], [3, '20']]);
  });
});
