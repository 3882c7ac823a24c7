import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, parseExposition } from '../../src/metrics/registry.js';
import { RequestMetrics, collectErrorCodes, errorName } from '../../src/metrics/broker-metrics.js';
import { formatPrettyLine } from '../../src/util/log.js';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const r = new Registry();
    const c = r.counter('x_requests_total', 'Requests.');
    c.inc({ api: 'Produce' });
    c.inc({ api: 'Produce' }, 2);
    c.inc({ api: 'Fetch' });
    const g = r.gauge('x_partitions', 'Partitions\nhosted.');
    g.set(3);
    r.gauge('x_collected', 'Collected at scrape.', () => [[{ broker: '1' }, 7], [{ broker: '2' }, 0]]);
    const h = r.histogram('x_latency_ms', 'Latency.', [10, 1, 5]);
    h.observe(0.5, { api: 'Produce' });
    h.observe(4, { api: 'Produce' });
    h.observe(100, { api: 'Produce' });
    assert.equal(r.render(), [
      '# HELP x_requests_total Requests.',
      '# TYPE x_requests_total counter',
      'x_requests_total{api="Fetch"} 1',
      'x_requests_total{api="Produce"} 3',
      '# HELP x_partitions Partitions\\nhosted.',
      '# TYPE x_partitions gauge',
      'x_partitions 3',
      '# HELP x_collected Collected at scrape.',
      '# TYPE x_collected gauge',
      'x_collected{broker="1"} 7',
      'x_collected{broker="2"} 0',
      '# HELP x_latency_ms Latency.',
      '# TYPE x_latency_ms histogram',
      'x_latency_ms_bucket{api="Produce",le="1"} 1',
      'x_latency_ms_bucket{api="Produce",le="5"} 2',
      'x_latency_ms_bucket{api="Produce",le="10"} 2',
      'x_latency_ms_bucket{api="Produce",le="+Inf"} 3',
      'x_latency_ms_sum{api="Produce"} 104.5',
      'x_latency_ms_count{api="Produce"} 3',
      '',
    ].join('\n'));
  });

  it('escapes label values and parses its own output back', () => {
    const r = new Registry();
    r.counter('y_total', 'Y.').inc({ name: 'a"b\\c\nd' }, 5);
    const text = r.render();
    assert.match(text, /y_total\{name="a\\"b\\\\c\\nd"\} 5/);
    assert.deepEqual(parseExposition(text), [{ name: 'y_total', labels: { name: 'a"b\\c\nd' }, value: 5 }]);
    assert.deepEqual(parseExposition('z{le="+Inf"} +Inf\nw 1.5 1700000000000\n'), [
      { name: 'z', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
      { name: 'w', labels: {}, value: 1.5 },
    ]);
  });

  it('rejects bad names, duplicates and negative counter steps', () => {
    const r = new Registry();
    assert.throws(() => r.counter('bad-name', 'x'), /invalid metric name/);
    r.gauge('g', 'x');
    assert.throws(() => r.gauge('g', 'x'), /registered twice/);
    assert.throws(() => r.counter('c', 'x').inc({}, -1), /only goes up/);
  });

  it('counts requests, latency and nested error codes per API', () => {
    const r = new Registry();
    const m = new RequestMetrics(r);
    const response = {
      throttleTimeMs: 0,
      responses: [{ name: 't', partitionResponses: [
        { index: 0, errorCode: 0, records: Buffer.from([0, 6]) },
        { index: 1, errorCode: 6 },
        { index: 2, errorCode: 6 },
      ] }],
    };
    m.requestCompleted(0, 'Produce', 3, response);
    m.requestCompleted(0, 'Produce', 1, { responses: [] });
    const counts = new Map<number, number>();
    collectErrorCodes({ errorCode: 3, topics: [{ errorCode: 0 }] }, counts);
    assert.deepEqual([...counts], [[3, 1]]);
    assert.equal(errorName(6), 'NOT_LEADER_OR_FOLLOWER');
    const samples = parseExposition(r.render());
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(value('raftka_requests_total', { api: 'Produce' }), 2);
    assert.equal(value('raftka_request_duration_ms_count', { api: 'Produce' }), 2);
    assert.equal(value('raftka_request_duration_ms_sum', { api: 'Produce' }), 4);
    assert.equal(value('raftka_request_errors_total', { api: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER' }), 2);
    assert.equal(samples.filter((s) => s.name === 'raftka_request_errors_total').length, 1);
  });

  it('formats pino lines for a terminal as `time level msg key=value`', () => {
    const line = formatPrettyLine(JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 1, hostname: 'h', nodeId: 1, msg: 'broker ready', dataDir: '/tmp/a b' }));
    assert.equal(line, '03:04:05.006 INFO  broker ready nodeId=1 dataDir="/tmp/a b"\n');
  });
});
