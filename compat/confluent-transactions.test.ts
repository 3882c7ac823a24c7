import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type Cluster } from './harness.js';
import { PYTHON, pythonScript } from './clients/python.js';
import { run, tail } from './clients/process.js';

/** librdkafka's transactional producer (confluent-kafka, Debian python3-confluent-kafka 1.7.0 / librdkafka 2.0.2) against three brokers. */
describe('confluent-kafka transactional producer', () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster({ size: 3, config: { 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 5 } });
    const admin = new Kafka({ clientId: 'compat-txn', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'confluent-txn', numPartitions: 1, replicationFactor: 3 }] });
    await admin.disconnect();
  });
  after(async () => { await cluster?.destroy(); });

  it('commits and aborts: read_committed sees the committed records only, read_uncommitted all of them, neither a control record', async () => {
    const res = await run(PYTHON, [pythonScript('confluent_txn.py'), cluster.bootstrapList.join(','), 'confluent-txn', 'compat-confluent-txn'], '');
    assert.equal(res.code, 0, `confluent_txn.py failed:\n${tail(res.stderr)}`);
    const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { read_committed: string[]; read_uncommitted: string[] };
    const committed = [...Array.from({ length: 5 }, (_, i) => `committed-${i}`), 'end'];
    const aborted = Array.from({ length: 5 }, (_, i) => `aborted-${i}`);
    assert.deepEqual(out.read_committed, committed);
    assert.deepEqual(out.read_uncommitted, [...committed.slice(0, 5), ...aborted, 'end']);
  });
});
