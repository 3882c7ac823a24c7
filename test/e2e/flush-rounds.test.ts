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
  const env = { RAFTKA_RAFTKA_LOG_FLUSH_ROUNDS: 'true', RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' };

  before(async () => { dataDir = await makeDataDir(); });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('acknowledges acks=all produces to several partitions and keeps them across a SIGKILL', { timeout: 60_000 }, async () => {
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
    // Every acknowledged record is there after the SIGKILL (the offsets may include a new
    // leader's control batch, and a retried send may have written a value twice).
    const consumer = kafka(broker.port).consumer({ groupId: 'rounds-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'rounds', fromBeginning: true });
    const seen = new Set<string>();
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const v = message.value?.toString() ?? '';
          assert.ok(v.endsWith(`-${partition}`), `value ${v} in partition ${partition}`);
          seen.add(v);
          if (seen.size === 80) resolve();
        },
      });
    });
    await all;
    await consumer.disconnect();
    assert.equal(seen.size, 80);
  });
});
