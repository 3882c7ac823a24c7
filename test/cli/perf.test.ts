import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch, iterateRecords, LOG_OVERHEAD, readBatchHeader, RECORD_BATCH_OVERHEAD, verifyBatchCrc } from '../../protocol/records/index.js';
import { recordSizes } from '../../src/cli/reader.js';
import { Random } from '../../src/util/random.js';
import { LatencyHistogram } from '../../src/cli/histogram.js';
import { BatchTemplates, runProducerPerf } from '../../src/cli/perf-producer.js';
import { KafkaClient } from '../../src/cli/client/client.js';
import { createTopic } from '../../src/cli/client/admin.js';
import type { KafkaConnection } from '../../src/cli/client/connection.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { raftka } from './run-cli.js';

describe('perf tool building blocks', () => {
  it('BatchTemplates reuses one batch per record count and restamps it after 100 ms', () => {
    let now = 1_000_000;
    const payload = Buffer.from('ABCDEFGHIJ');
    const t = new BatchTemplates(payload, () => now);
    const a = t.get(3);
    assert.equal(t.get(3), a, 'the same buffer within the restamp window');
    assert.ok(verifyBatchCrc(a));
    const h = readBatchHeader(a, 0);
    assert.equal(h.lastOffsetDelta, 2);
    assert.equal(h.baseTimestamp, 1_000_000n);
    const values = [...iterateRecords(a, 0)].map((r) => r.value?.toString());
    assert.deepEqual(values, ['ABCDEFGHIJ', 'ABCDEFGHIJ', 'ABCDEFGHIJ']);
    assert.notEqual(t.get(1), a);
    now += 99;
    assert.equal(t.get(3), a);
    now += 1;
    const b = t.get(3);
    assert.notEqual(b, a, 'rebuilt once 100 ms old');
    assert.equal(readBatchHeader(b, 0).baseTimestamp, 1_000_100n);
    assert.ok(verifyBatchCrc(b));
  });

  it('recordSizes sums key and value bytes from the record headers as iterateRecords does (seeded random records)', () => {
    const random = new Random(7);
    for (let round = 0; round < 20; round++) {
      const records = Array.from({ length: 1 + random.int(0, 40) }, (_, i) => ({
        key: random.int(0, 2) === 0 ? null : Buffer.alloc(random.int(0, 300), 1),
        value: random.int(0, 5) === 0 ? null : Buffer.alloc(random.int(0, 5000), 2),
        headers: random.int(0, 2) === 0 ? [] : [{ key: 'h', value: Buffer.alloc(random.int(0, 50)) }],
        timestamp: BigInt(1_700_000_000_000 + i * random.int(0, 100_000)),
      }));
      const batch = buildRecordBatch({ records });
      const h = readBatchHeader(batch, 0);
      const expected = [...iterateRecords(batch, 0)].reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
      assert.equal(recordSizes(batch, RECORD_BATCH_OVERHEAD, LOG_OVERHEAD + h.batchLength, h.recordsCount), expected);
      assert.equal(recordSizes(batch, RECORD_BATCH_OVERHEAD, LOG_OVERHEAD + h.batchLength, h.recordsCount + 1), -1, 'a wrong count does not parse');
    }
  });

  it('LatencyHistogram.record(value, count) counts the value count times', () => {
    const bulk = new LatencyHistogram();
    const single = new LatencyHistogram();
    bulk.record(500, 16);
    bulk.record(20_000, 4);
    for (let i = 0; i < 16; i++) single.record(500);
    for (let i = 0; i < 4; i++) single.record(20_000);
    assert.equal(bulk.count, 20);
    assert.equal(bulk.mean, single.mean);
    for (const p of [50, 80, 81, 99, 99.9]) assert.equal(bulk.percentile(p), single.percentile(p), `p${p}`);
  });
});

describe('perf produce against a scripted broker', () => {
  it('keeps max.in.flight requests going after leader errors make it re-read the metadata while requests are in flight', async () => {
    // One leader for 2 partitions; the first 3 answers say NOT_LEADER_OR_FOLLOWER (the perf tool
    // re-reads the metadata while the other requests are still in flight), every later one succeeds.
    const retriable = 3;
    let answered = 0;
    let outstanding = 0;
    let peakAfterErrors = 0;
    const conn = {
      version: () => 9,
      send: (_api: unknown, _version: number, body: { topicData: { partitionData: { index: number }[] }[] }) => {
        outstanding++;
        return new Promise((resolve) => setImmediate(() => {
          outstanding--;
          const errorCode = ++answered <= retriable ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
          resolve({ responses: [{ name: 'scripted', partitionResponses: body.topicData[0]!.partitionData.map((p) => ({ index: p.index, errorCode })) }] });
        }));
      },
    } as unknown as KafkaConnection;
    const client = {
      requestTimeoutMs: 1000,
      metadata: async () => ({ topics: [{ name: 'scripted', errorCode: ErrorCode.NONE, partitions: [{ partition: 0, leader: 1 }, { partition: 1, leader: 1 }] }] }),
      broker: async () => conn,
      leaderOf: async (_t: string, partition: number) => ({ partition, leader: 1 }),
      produce: async () => ({ errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: 0n }),
    } as unknown as KafkaClient;
    const sampler = setInterval(() => { if (answered > retriable) peakAfterErrors = Math.max(peakAfterErrors, outstanding); }, 0).unref();
    try {
      const retried: number[] = [];
      const r = await runProducerPerf(client, {
        topic: 'scripted', numRecords: 2000, throughput: -1, acks: -1, batchSize: 100, maxInFlight: 5, payload: Buffer.alloc(10),
        onRetry: (_p, code) => retried.push(code),
      });
      assert.deepEqual({ acked: r.acked, failed: r.failed }, { acked: 2000, failed: 0 });
      // each of the 3 refused requests carried a batch for both partitions: 6 batches sent again, once each
      assert.deepEqual(retried, Array(6).fill(ErrorCode.NOT_LEADER_OR_FOLLOWER));
    } finally {
      clearInterval(sampler);
    }
    assert.equal(peakAfterErrors, 5, 'the window is whole again after the re-reads');
  });
});

describe('raftka perf against a broker process', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let bootstrap: string;
  let client: KafkaClient;

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    bootstrap = `127.0.0.1:${broker.port}`;
    client = await KafkaClient.connect(bootstrap);
    for (const name of ['spread', 'sparse']) {
      const r = await createTopic(client, { name, numPartitions: 4, replicationFactor: 1, assignments: null, configs: new Map() }, 30_000);
      if (r.error !== null) throw r.error;
    }
  });
  after(async () => {
    client?.close();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  const endOffsets = async (topic: string): Promise<bigint[]> => {
    const out: bigint[] = [];
    for (let p = 0; p < 4; p++) out.push(await client.listOffset(topic, p, -1n));
    return out;
  };

  it('perf produce puts one batch per partition in each request, up to max.in.flight per broker, and acknowledges every record', async () => {
    let acks = 0;
    let ackCalls = 0;
    const r = await runProducerPerf(client, {
      topic: 'spread', numRecords: 1000, throughput: -1, acks: -1, batchSize: 1000, maxInFlight: 2, payload: Buffer.alloc(100, 0x41),
      onAck: (n) => { acks += n; ackCalls++; },
    });
    assert.equal(r.acked, 1000);
    assert.equal(r.failed, 0);
    assert.equal(acks, 1000);
    assert.equal(ackCalls, 100, '10 records of 100 bytes per 1000-byte batch: 100 batches');
    assert.equal(r.requests, 25, 'the broker leads all 4 partitions: 4 batches per request');
    const ends = await endOffsets('spread');
    assert.equal(ends.reduce((a, b) => a + b, 0n), 1000n);
    assert.deepEqual(ends, [250n, 250n, 250n, 250n], 'the requests rotate over the partitions');
  });

  it('perf produce with a throughput limit and acks=0 or 1 sends exactly the records asked for', async () => {
    const before = (await endOffsets('spread')).reduce((a, b) => a + b, 0n);
    const limited = await runProducerPerf(client, { topic: 'spread', numRecords: 30, throughput: 300, acks: 1, batchSize: 16384, maxInFlight: 5, payload: Buffer.alloc(10) });
    assert.deepEqual(limited, { acked: 30, failed: 0, requests: limited.requests });
    const fireAndForget = await runProducerPerf(client, { topic: 'spread', numRecords: 200, throughput: -1, acks: 0, batchSize: 500, maxInFlight: 5, payload: Buffer.alloc(50) });
    assert.equal(fireAndForget.acked, 200);
    // acks=0 has no answer to wait for: the records arrive shortly after
    for (let i = 0; i < 100; i++) {
      if ((await endOffsets('spread')).reduce((a, b) => a + b, 0n) === before + 230n) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal((await endOffsets('spread')).reduce((a, b) => a + b, 0n), before + 230n);
  });

  it('perf consume reads a topic whose other partitions are idle, and reports fetches with records apart from empty long polls', async () => {
    // only partition 0 holds records: the other three are idle (their fetches long-poll)
    const t = new BatchTemplates(Buffer.alloc(10));
    for (let i = 0; i < 3; i++) assert.equal((await client.produce('sparse', 0, t.get(100), -1)).errorCode, 0);
    const total = 300;
    const r = await raftka(['perf', 'consume', '--bootstrap-server', bootstrap, '--topic', 'sparse', '--messages', String(total), '--timeout', '20000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.lines[1]!, new RegExp(`^[^,]+, [^,]+, [\\d.]+, [\\d.]+, ${total}, `));
    assert.match(r.lines[2]!, /^fetch latency: \d+ fetches with records \(\d+ empty long polls\), [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.$/);
  });
});
