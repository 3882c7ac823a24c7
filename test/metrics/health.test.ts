import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/util/log.js';
import { BrokerMetrics, MetricsServer, type BrokerMetricsSource } from '../../src/metrics/broker-metrics.js';
import { parseExposition } from '../../src/metrics/registry.js';

describe('MetricsServer /health', () => {
  const metrics = new BrokerMetrics();
  const server = new MetricsServer(metrics, silentLogger);
  let base: string;
  let state = 'starting';
  const source: BrokerMetricsSource = {
    partitions: () => 4, leaders: () => 2, underReplicated: () => 1, offline: () => 0,
    activeController: () => false, ready: () => state === 'ready', state: () => state,
  };

  before(async () => { base = `http://127.0.0.1:${await server.listen('127.0.0.1', 0)}`; });
  after(() => server.close());

  const health = async (): Promise<[number, unknown]> => {
    const res = await fetch(`${base}/health`);
    return [res.status, JSON.parse(await res.text())];
  };

  it('answers 503 until the broker is ready, 200 when ready, 503 when fenced or shutting down', async () => {
    assert.deepEqual(await health(), [503, { status: 'not-ready', state: 'starting' }]);
    metrics.attach(source);
    assert.deepEqual(await health(), [503, { status: 'not-ready', state: 'starting' }]);
    state = 'ready';
    assert.deepEqual(await health(), [200, { status: 'ready', state: 'ready' }]);
    state = 'fenced';
    assert.deepEqual(await health(), [503, { status: 'not-ready', state: 'fenced' }]);
    state = 'shutting-down';
    assert.deepEqual(await health(), [503, { status: 'not-ready', state: 'shutting-down' }]);
  });

  it('serves the gauges read from the source at scrape time', async () => {
    const samples = parseExposition(await (await fetch(`${base}/metrics`)).text());
    const get = (name: string): number | undefined => samples.find((s) => s.name === name)?.value;
    assert.equal(get('raftka_partitions'), 4);
    assert.equal(get('raftka_leaders'), 2);
    assert.equal(get('raftka_under_replicated_partitions'), 1);
    assert.equal(get('raftka_active_controller'), 0);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });
});
