import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';

/** The start-up line the CLI prints before `ready`: how the broker found its partition logs. */
function summary(broker: BrokerProcess): string {
  const line = /opened (\d+ partition logs?: .*)/.exec(broker.output());
  assert.ok(line !== null, `no start-up summary in:\n${broker.output()}`);
  return line[1]!;
}

describe('start-up says what it recovered', () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;

  before(async () => { dataDir = await makeDataDir(); });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('counts new, cleanly closed and recovered logs, and the bytes of a torn tail it cut', async () => {
    broker = await startBroker({ dataDir });
    // A fresh broker: only the metadata log, new.
    assert.equal(summary(broker), '1 partition log: 0 clean, 1 new');

    const kafka = new Kafka({ clientId: 'raftka-startup', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'summary', numPartitions: 2 }] });
    await admin.disconnect();
    const produce = async (port: number): Promise<void> => {
      const producer = new Kafka({ clientId: 'raftka-startup', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic: 'summary', acks: -1, messages: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }] });
      await producer.disconnect();
    };
    await produce(broker.port);

    // A clean stop writes clean-shutdown checkpoints: nothing to recover.
    await broker.stop();
    broker = await startBroker({ dataDir });
    assert.equal(summary(broker), '3 partition logs: 3 clean');

    // Appends (and the broker's registration in the metadata log) after the clean start, SIGKILL,
    // then a torn batch at the end of one partition's active segment: every log is recovered (no
    // clean checkpoint matches it any more), and the garbage is cut.
    await produce(broker.port);
    await broker.kill();
    const dir = join(dataDir, 'summary-0');
    const segment = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort().at(-1)!;
    await appendFile(join(dir, segment), Buffer.alloc(37, 0xab));
    broker = await startBroker({ dataDir });
    assert.equal(summary(broker), '3 partition logs: 0 clean, 3 recovered after an unclean stop (cut 37 bytes of torn tail)');
  });
});
