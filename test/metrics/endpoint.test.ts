import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { parseExposition, type Sample } from '../../src/metrics/registry.js';

describe('/metrics and /health on a broker process', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let base: string;

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
    const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    assert.ok(s !== undefined, `no sample ${name} ${JSON.stringify(labels)}`);
    return s.value;
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, env: { RAFTKA_METRICS_PORT: '0' } });
    const m = /metrics on ([^\s:]+):(\d+)/.exec(broker.output());
    assert.ok(m !== null, `no metrics line in:\n${broker.output()}`);
    base = `http://${m[1]}:${m[2]}`;
  });
  after(async () => {
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('answers /health with 200 and a one-line JSON body once ready', async () => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body.trim().split('\n').length, 1);
    assert.deepEqual(JSON.parse(body), { status: 'ready', state: 'ready' });
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
  });

  it('counts produce requests and bytes in, and reports partitions, leaders and the controller', async () => {
    const before = await scrape();
    const bytesBefore = value(before, 'raftka_network_bytes_in_total');
    const producesBefore = before.find((s) => s.name === 'raftka_requests_total' && s.labels.api === 'Produce')?.value ?? 0;
    assert.equal(value(before, 'raftka_active_controller'), 1);
    assert.ok(value(before, 'raftka_raft_leader_elections_total') >= 1, 'the metadata group was elected here');

    const kafka = new Kafka({ clientId: 'raftka-metrics', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'metered', numPartitions: 3 }] });
      const value100 = 'v'.repeat(100);
      for (let i = 0; i < 5; i++) {
        await producer.send({ topic: 'metered', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value: value100 })) });
      }
      assert.ok(value(await scrape(), 'raftka_connections') >= 1, 'kafkajs is connected');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }

    const after = await scrape();
    assert.ok(value(after, 'raftka_requests_total', { api: 'Produce' }) >= producesBefore + 5);
    assert.ok(value(after, 'raftka_request_duration_ms_count', { api: 'Produce' }) >= producesBefore + 5);
    assert.equal(value(after, 'raftka_request_duration_ms_bucket', { api: 'Produce', le: '+Inf' }), value(after, 'raftka_request_duration_ms_count', { api: 'Produce' }));
    assert.ok(value(after, 'raftka_requests_total', { api: 'CreateTopics' }) >= 1);
    assert.ok(value(after, 'raftka_network_bytes_in_total') >= bytesBefore + 5 * 10 * 100, 'at least the record values came in');
    assert.ok(value(after, 'raftka_network_bytes_out_total') > 0);
    assert.equal(value(after, 'raftka_partitions'), 3);
    assert.equal(value(after, 'raftka_leaders'), 3);
    assert.equal(value(after, 'raftka_under_replicated_partitions'), 0);
    assert.equal(value(after, 'raftka_offline_partitions'), 0);
    assert.equal(value(after, 'raftka_active_controller'), 1);
    assert.equal(value(after, 'raftka_ready'), 1);
    assert.ok(value(after, 'raftka_raft_leader_elections_total') >= 4, 'metadata and three partition groups elected here');
    assert.ok(value(after, 'raftka_connections_created_total') >= 2);
  });
});
