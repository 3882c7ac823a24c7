import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { assertOneLineError, raftka } from './run-cli.js';

describe('raftka consumer-groups against a broker process', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let bs: string[];

  before(async () => {
    dataDir = await makeDataDir();
    // Kafka's 3 s initial rebalance delay would only slow the test down.
    broker = await startBroker({ dataDir, env: { RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
    bs = ['--bootstrap-server', `127.0.0.1:${broker.port}`];
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('consumer-groups: describe shows offsets and lag of active and inactive groups; reset-offsets; delete', async () => {
    await raftka(['topics', ...bs, '--create', '--topic', 'grouped', '--partitions', '2']);
    await raftka(['produce', ...bs, '--topic', 'grouped', '--partition', '0'], Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n'));
    let r = await raftka(['consumer-groups', ...bs, '--reset-offsets', '--group', 'idle', '--topic', 'grouped:0', '--to-offset', '3', '--execute']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines.map((l) => l.split(/\s+/).join(' ')), ['GROUP TOPIC PARTITION NEW-OFFSET ', 'idle grouped 0 3 ']);
    r = await raftka(['consumer-groups', ...bs, '--describe', '--group', 'idle']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Consumer group 'idle' has no active members\./);
    assert.deepEqual(r.lines.map((l) => l.split(/\s+/)), [
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      ['idle', 'grouped', '0', '3', '10', '7', '-', '-', '-'],
    ]);

    const kafka = new Kafka({ clientId: 'lag-test', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'active', heartbeatInterval: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'grouped', fromBeginning: true });
      let seen = 0;
      await new Promise<void>((resolve) => { void consumer.run({ autoCommit: false, eachMessage: async () => { if (++seen === 10) resolve(); } }); });
      await consumer.commitOffsets([{ topic: 'grouped', partition: 0, offset: '8' }]);
      r = await raftka(['consumer-groups', ...bs, '--describe', '--group', 'active']);
      assert.equal(r.code, 0, r.stderr);
      const rows = r.lines.slice(1).map((l) => l.split(/\s+/));
      assert.deepEqual(rows.map((c) => [c[0], c[1], c[2], c[3], c[4], c[5], c[8]]), [
        ['active', 'grouped', '0', '8', '10', '2', 'lag-test'],
        ['active', 'grouped', '1', '-', '0', '-', 'lag-test'],
      ]);
      assert.match(rows[0]![6]!, /^lag-test-/);
      r = await raftka(['consumer-groups', ...bs, '--list']);
      assert.deepEqual([...r.lines].sort(), ['active', 'idle']);
      r = await raftka(['consumer-groups', ...bs, '--reset-offsets', '--group', 'active', '--all-topics', '--to-earliest', '--execute']);
      assertOneLineError(r, /^Error: Assignments can only be reset if the group 'active' is inactive, but the current state is Stable\.$/);
    } finally {
      await consumer.disconnect();
    }
    r = await raftka(['consumer-groups', ...bs, '--delete', '--group', 'idle']);
    assert.deepEqual(r.lines, ["Deletion of requested consumer groups ('idle') was successful."]);
    r = await raftka(['consumer-groups', ...bs, '--describe', '--group', 'idle']);
    assertOneLineError(r, /^Error: Consumer group 'idle' does not exist\.$/);
  });


  it('consume --group starts at the committed offsets, commits on exit, and shows up with its lag', async () => {
    await raftka(['topics', ...bs, '--create', '--topic', 'tail', '--partitions', '3']);
    const first = Array.from({ length: 30 }, (_, i) => `a${i}`);
    await raftka(['produce', ...bs, '--topic', 'tail'], first.join('\n'));
    let r = await raftka(['consume', ...bs, '--topic', 'tail', '--group', 'reader', '--from-beginning', '--max-messages', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.lines].sort(), [...first].sort());
    r = await raftka(['consumer-groups', ...bs, '--describe', '--group', 'reader']);
    const lags = r.lines.slice(1).map((l) => l.split(/\s+/)[5]);
    assert.ok(lags.length > 0 && lags.every((lag) => lag === '0'), r.stdout);

    const second = ['b1', 'b2', 'b3'];
    await raftka(['produce', ...bs, '--topic', 'tail'], second.join('\n'));
    r = await raftka(['consume', ...bs, '--topic', 'tail', '--group', 'reader', '--from-beginning', '--max-messages', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, second, '--from-beginning applies only without a committed offset');
  });
});
