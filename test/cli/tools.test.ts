import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertOneLineError, raftka } from './run-cli.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';

describe('raftka tools against a broker process', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let bs: string[];

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    bs = ['--bootstrap-server', `127.0.0.1:${broker.port}`];
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('topics: create, list, describe, alter, delete with kafka-topics.sh output', async () => {
    let r = await raftka(['topics', ...bs, '--create', '--topic', 'orders', '--partitions', '2', '--replication-factor', '1', '--config', 'retention.ms=60000']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, ['Created topic orders.']);

    r = await raftka(['topics', ...bs, '--create', '--topic', 'orders', '--partitions', '2']);
    assertOneLineError(r, /^Error while executing topic command : Topic 'orders' already exists\.$/);
    r = await raftka(['topics', ...bs, '--create', '--topic', 'orders', '--if-not-exists']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');

    r = await raftka(['topics', ...bs, '--list']);
    assert.deepEqual(r.lines, ['orders']);

    r = await raftka(['topics', ...bs, '--alter', '--topic', 'orders', '--partitions', '3']);
    assert.equal(r.code, 0, r.stderr);
    r = await raftka(['topics', ...bs, '--alter', '--topic', 'orders', '--partitions', '2']);
    assertOneLineError(r, /^Error while executing topic command : The topic orders currently has 3 partition\(s\); 2 would not be an increase\.$/);

    r = await raftka(['topics', ...bs, '--describe', '--topic', 'orders']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.lines[0]!, /^Topic: orders\tTopicId: [0-9a-f-]{36}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention\.ms=60000$/);
    assert.deepEqual(r.lines.slice(1), [0, 1, 2].map((p) => `\tTopic: orders\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`));

    r = await raftka(['topics', ...bs, '--delete', '--topic', 'orders']);
    assert.equal(r.code, 0, r.stderr);
    r = await raftka(['topics', ...bs, '--describe', '--topic', 'orders']);
    assertOneLineError(r, /^Error while executing topic command : Topic 'orders' does not exist as expected$/);
    r = await raftka(['topics', ...bs, '--delete', '--topic', 'orders', '--if-exists']);
    assert.equal(r.code, 0);
  });

  it('configs: describe and alter with kafka-configs.sh output', async () => {
    await raftka(['topics', ...bs, '--create', '--topic', 'cfg']);
    let r = await raftka(['configs', ...bs, '--alter', '--entity-type', 'topics', '--entity-name', 'cfg', '--add-config', 'retention.ms=1000,cleanup.policy=[delete,compact]']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, ['Completed updating config for topic cfg.']);
    r = await raftka(['configs', ...bs, '--describe', '--topic', 'cfg']);
    assert.deepEqual(r.lines, [
      'Dynamic configs for topic cfg are:',
      '  cleanup.policy=delete,compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=delete,compact, DEFAULT_CONFIG:log.cleanup.policy=delete}',
      '  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}',
    ]);
    r = await raftka(['configs', ...bs, '--alter', '--topic', 'cfg', '--delete-config', 'retention.ms']);
    assert.equal(r.code, 0, r.stderr);
    r = await raftka(['configs', ...bs, '--describe', '--topic', 'cfg', '--all']);
    assert.equal(r.lines[0], 'All configs for topic cfg are:');
    assert.ok(r.lines.includes('  retention.ms=604800000 sensitive=false synonyms={}'), r.stdout);
    r = await raftka(['configs', ...bs, '--describe', '--broker', '1', '--all']);
    assert.ok(r.lines.includes('  num.partitions=1 sensitive=false synonyms={DEFAULT_CONFIG:num.partitions=1}'), r.stdout);
    r = await raftka(['configs', ...bs, '--alter', '--topic', 'cfg', '--add-config', 'no.such.thing=1']);
    assertOneLineError(r, /Unknown topic config name: no\.such\.thing/);
    r = await raftka(['configs', ...bs, '--alter', '--topic', 'missing', '--add-config', 'retention.ms=1']);
    assertOneLineError(r, /^Error while executing config command : The topic 'missing' does not exist\.$/);
  });

  it('produce then consume returns the same lines, keys included', async () => {
    await raftka(['topics', ...bs, '--create', '--topic', 'lines', '--partitions', '3']);
    const input = Array.from({ length: 200 }, (_, i) => `k${i % 7}:value ${i}`);
    let r = await raftka(['produce', ...bs, '--topic', 'lines', '--property', 'parse.key=true', '--property', 'key.separator=:'], `${input.join('\n')}\n`);
    assert.equal(r.code, 0, r.stderr);
    r = await raftka(['consume', ...bs, '--topic', 'lines', '--from-beginning', '--max-messages', '200', '--property', 'print.key=true', '--property', 'key.separator=:']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Processed a total of 200 messages/);
    assert.deepEqual([...r.lines].sort(), [...input].sort());
    // Each key's records keep their order (one key, one partition).
    for (let k = 0; k < 7; k++) {
      assert.deepEqual(r.lines.filter((l) => l.startsWith(`k${k}:`)), input.filter((l) => l.startsWith(`k${k}:`)));
    }
    r = await raftka(['consume', ...bs, '--topic', 'lines', '--partition', '0', '--offset', 'earliest', '--timeout-ms', '500', '--property', 'print.offset=true']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.lines.length > 0 && r.lines.every((l, i) => l.startsWith(`Offset:${i}\t`)), r.stdout);
  });

  it('perf produce and perf consume print Kafka\'s summaries', async () => {
    let r = await raftka(['perf', 'produce', ...bs, '--topic', 'perf', '--num-records', '3000', '--record-size', '100', '--throughput', '-1', '--producer-props', 'acks=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.lines.at(-1)!, /^3000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$/);
    r = await raftka(['perf', 'produce', ...bs, '--topic', 'perf', '--num-records', '40', '--record-size', '10', '--throughput', '100', '--reporting-interval', '100']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.lines.length >= 3, `progress lines while running: ${r.stdout}`);
    assert.match(r.lines[0]!, /^\d+ records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.$/);
    r = await raftka(['perf', 'consume', ...bs, '--topic', 'perf', '--messages', '3040']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0], 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    assert.match(r.lines[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, 0\.2865, [\d.]+, 3040, /);
  });

  it('leader-election reports partitions already on their preferred leader', async () => {
    await raftka(['topics', ...bs, '--create', '--topic', 'elect']);
    let r = await raftka(['leader-election', ...bs, '--election-type', 'preferred', '--topic', 'elect', '--partition', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, ['Valid replica already elected for partitions elect-0']);
    r = await raftka(['leader-election', ...bs, '--election-type', 'PREFERRED', '--all-topic-partitions']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, []);
    r = await raftka(['leader-election', ...bs, '--election-type', 'preferred', '--topic', 'nope', '--partition', '0']);
    assert.equal(r.code, 1);
    assert.deepEqual(r.lines, ['Error completing leader election (PREFERRED) for partition: nope-0: UNKNOWN_TOPIC_OR_PARTITION: The partition nope-0 does not exist.']);
  });

  it('bad flags and unreachable brokers: one line, non-zero exit, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', ...bs, '--list', '--describe'], /exactly one action/],
      [['topics', ...bs, '--create', '--topic', 'x', '--partitions', 'many'], /--partitions must be an integer/],
      [['topics', '--list'], /Missing required argument "\[bootstrap-server\]"/],
      [['topics', ...bs, '--lst'], /Unknown option '--lst'/],
      [['configs', ...bs, '--describe', '--entity-type', 'users'], /Invalid entity type users/],
      [['produce', ...bs], /Missing required argument "\[topic\]"/],
      [['consume', ...bs, '--topic', 'x', '--offset', '5'], /partition is required/],
      [['perf', 'produce', ...bs, '--topic', 'x', '--num-records', '10'], /record-size/],
      [['perf', 'fly'], /unknown perf mode 'fly'/],
      [['leader-election', ...bs, '--election-type', 'sideways', '--all-topic-partitions'], /Unknown election type/],
      [['topics', '--bootstrap-server', '127.0.0.1:1', '--list'], /cannot connect to 127\.0\.0\.1:1/],
      [['topics', '--bootstrap-server', 'nonsense', '--list'], /invalid bootstrap server 'nonsense'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => raftka(args)));
    runs.forEach((r, i) => assertOneLineError(r, cases[i]![1]));
  });
});
