import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { emptyHistory } from './history.js';
import { recordCommits } from './workload.js';

/**
 * Regression for a false `commit-lost` of a 5-broker fault run (seed 905028785): kafkajs 2.2.4's
 * consumer.commitOffsets() resolves without sending anything once the consumer is stopping
 * (runner.commitOffsets returns when not running), so a workload that counted a resolved
 * commitOffsets() as acknowledged reported a commit the coordinator never saw. The workload now
 * counts the COMMIT_OFFSETS event, which kafkajs emits only after the coordinator accepted it.
 */
describe('fault workload: a commit counts only when the coordinator accepted it', () => {
  let broker: BrokerProcess;
  let dataDir: string;
  before(async () => {
    dataDir = await makeDataDir('raftka-faults-commit-');
    broker = await startBroker({ dataDir, env: { RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
  });
  after(async () => {
    await broker.kill();
    await removeDataDir(dataDir);
  });

  it('a commitOffsets() made while the consumer stops resolves, is not counted, and is not committed', async () => {
    const kafka = new Kafka({ clientId: 'commit-ack', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'commit-ack';
    const groupId = 'commit-ack-group';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();

    const history = emptyHistory();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => recordCommits(history, 'm', e.payload));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let stopped: Promise<void> = Promise.resolve();
    const lateCommit = new Promise<string>((resolve, reject) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          if (message.offset === '0') {
            await consumer.commitOffsets([{ topic, partition: 0, offset: '1' }]);
          } else if (message.offset === '1') {
            stopped = consumer.stop(); // the consumer is now stopping (as when the workload stops)
            await consumer.commitOffsets([{ topic, partition: 0, offset: '2' }]).then(() => resolve('resolved'), reject);
          }
        },
      });
    });
    assert.equal(await lateCommit, 'resolved', 'kafkajs resolves the late commitOffsets() without an error');
    await stopped;
    await consumer.disconnect();

    assert.deepEqual(history.commits.map((c) => c.offset), [1n], 'only the commit the coordinator accepted is counted');
    const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(fetched!.partitions[0]!.offset, '1', 'the late commit never reached the coordinator');
    await admin.disconnect();
  });
});
