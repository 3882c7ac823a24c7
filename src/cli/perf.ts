import { buildRecordBatch, type RecordInput } from '../../protocol/records/index.js';
import { intFlag, keyValues, parseFlags, required, UsageError } from './args.js';
import { errorName, isRetriable, KafkaClient } from './client/client.js';
import { LatencyHistogram } from './histogram.js';
import { println } from './output.js';
import { PartitionReader } from './reader.js';

export const PERF_USAGE = `Usage: raftka perf produce|consume [options]

raftka perf produce --bootstrap-server HOST:PORT --topic T --num-records N --record-size BYTES
                    [--throughput RECORDS_PER_SEC (-1: unlimited)] [--acks -1|0|1]
                    [--producer-props acks=1 batch.size=16384 max.in.flight.requests.per.connection=5]
                    [--reporting-interval MS]                      (like kafka-producer-perf-test.sh)
raftka perf consume --bootstrap-server HOST:PORT --topic T --messages N [--from-latest]
                    [--timeout MS] [--reporting-interval MS] [--show-detailed-stats]
                                                                   (like kafka-consumer-perf-test.sh)
`;

export async function perfCommand(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'produce') return producePerf(rest);
  if (mode === 'consume') return consumePerf(rest);
  if (mode === undefined || mode === '-h' || mode === '--help') { process.stdout.write(PERF_USAGE); return; }
  throw new UsageError(`unknown perf mode '${mode}' (expected produce or consume)`);
}

const MB = 1024 * 1024;
const fix = (n: number, digits: number): string => (Number.isFinite(n) ? n : 0).toFixed(digits);

/** Kafka's ProducerPerformance: random A-Z payloads, throttled, latency of each record from send to acknowledgement. */
async function producePerf(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, topic: { type: 'string' }, 'num-records': { type: 'string' }, 'record-size': { type: 'string' },
    throughput: { type: 'string' }, acks: { type: 'string' }, 'producer-props': { type: 'string', multiple: true },
    'reporting-interval': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(PERF_USAGE); return; }
  const props = keyValues('producer-props', (f['producer-props'] ?? []).flatMap((s) => s.split(/\s+/)).filter((s) => s !== ''));
  const bootstrap = f['bootstrap-server'] ?? props.get('bootstrap.servers');
  if (bootstrap === undefined) throw new UsageError('Either --bootstrap-server or bootstrap.servers in --producer-props must be specified');
  const topic = required('topic', f.topic);
  const numRecords = required('num-records', intFlag('num-records', f['num-records'], { min: 1 }));
  const recordSize = required('record-size', intFlag('record-size', f['record-size'], { min: 1, max: 16 * MB }));
  const throughput = intFlag('throughput', f.throughput) ?? -1;
  const ackText = f.acks ?? props.get('acks') ?? '-1';
  const acks = intFlag('acks', ackText === 'all' ? '-1' : ackText)!;
  if (acks !== -1 && acks !== 0 && acks !== 1) throw new UsageError(`acks must be -1 (all), 0 or 1, got ${acks}`);
  const batchSize = intFlag('batch.size', props.get('batch.size'), { min: 1 }) ?? 16384;
  const maxInFlight = intFlag('max.in.flight.requests.per.connection', props.get('max.in.flight.requests.per.connection'), { min: 1 }) ?? 5;
  const reportingMs = intFlag('reporting-interval', f['reporting-interval'], { min: 1 }) ?? 5000;

  const client = await KafkaClient.connect(bootstrap, { clientId: 'producer-performance' });
  try {
    await client.metadata([topic], true);
    let numPartitions = 0;
    for (let i = 0; numPartitions === 0 && i < 20; i++) {
      numPartitions = (await client.metadata([topic])).topics.find((t) => t.name === topic && t.errorCode === 0)?.partitions.length ?? 0;
      if (numPartitions === 0) await new Promise((r) => setTimeout(r, 100 * (i + 1)));
    }
    if (numPartitions === 0) throw new UsageError(`Topic ${topic} not present in metadata`);

    // One random payload, as Kafka's tool reuses a random payload of uppercase letters.
    const payload = Buffer.alloc(recordSize);
    for (let i = 0; i < recordSize; i++) payload[i] = 65 + Math.floor(Math.random() * 26);
    const perBatch = Math.max(1, Math.floor(batchSize / recordSize));

    const total = new LatencyHistogram();
    const window = new LatencyHistogram();
    let windowStart = Date.now();
    let windowCount = 0;
    let acked = 0;
    let errors = 0;
    const start = Date.now();
    const report = (): void => {
      const elapsed = (Date.now() - windowStart) / 1000;
      const rate = windowCount / elapsed;
      println(`${windowCount} records sent, ${fix(rate, 1)} records/sec (${fix((rate * recordSize) / MB, 2)} MB/sec), ${fix(window.mean / 1000, 1)} ms avg latency, ${fix(window.max / 1000, 1)} ms max latency.`);
      window.reset();
      windowCount = 0;
      windowStart = Date.now();
    };
    const timer = setInterval(report, reportingMs);

    const inFlight = new Set<Promise<void>>();
    let partition = Math.floor(Math.random() * numPartitions);
    const sendBatch = async (p: number, records: RecordInput[], sentAt: number): Promise<void> => {
      const batch = buildRecordBatch({ records });
      for (let attempt = 0; ; attempt++) {
        const r = await client.produce(topic, p, batch, acks);
        if (r.errorCode === 0) break;
        if (isRetriable(r.errorCode) && attempt < 10) {
          await client.leaderOf(topic, p, true).catch(() => undefined);
          continue;
        }
        errors += records.length;
        process.stderr.write(`Error producing to ${topic}-${p}: ${errorName(r.errorCode)}\n`);
        return;
      }
      const latencyUs = (performance.now() - sentAt) * 1000;
      for (let i = 0; i < records.length; i++) { total.record(latencyUs); window.record(latencyUs); }
      acked += records.length;
      windowCount += records.length;
    };

    let sent = 0;
    while (sent < numRecords) {
      let count = Math.min(perBatch, numRecords - sent);
      if (throughput > 0) {
        // Kafka's ThroughputThrottler: never ahead of `throughput` records per second.
        const due = Math.floor(((Date.now() - start) / 1000) * throughput) + 1 - sent;
        if (due <= 0) {
          await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(((sent + 1) / throughput) * 1000 - (Date.now() - start)))));
          continue;
        }
        count = Math.min(count, due);
      }
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const now = BigInt(Date.now());
      const records: RecordInput[] = [];
      for (let i = 0; i < count; i++) records.push({ key: null, value: payload, timestamp: now });
      const pending = sendBatch(partition, records, performance.now()).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
      partition = (partition + 1) % numPartitions;
      sent += count;
    }
    await Promise.all(inFlight);
    clearInterval(timer);
    const seconds = (Date.now() - start) / 1000;
    const rate = acked / seconds;
    const ms = (us: number): number => Math.round(us / 1000);
    println(`${acked} records sent, ${fix(rate, 6)} records/sec (${fix((rate * recordSize) / MB, 2)} MB/sec), ${fix(total.mean / 1000, 2)} ms avg latency, ${fix(total.max / 1000, 2)} ms max latency, ${ms(total.percentile(50))} ms 50th, ${ms(total.percentile(95))} ms 95th, ${ms(total.percentile(99))} ms 99th, ${ms(total.percentile(99.9))} ms 99.9th.`);
    if (errors > 0) throw new UsageError(`${errors} record(s) failed`);
  } finally {
    client.close();
  }
}

/** yyyy-MM-dd HH:mm:ss:SSS, as kafka-consumer-perf-test prints times. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}:${p(d.getMilliseconds(), 3)}`;
}

/** Kafka's ConsumerPerformance output, plus a line of Fetch latency percentiles. */
async function consumePerf(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, topic: { type: 'string' }, messages: { type: 'string' }, 'from-latest': { type: 'boolean' },
    timeout: { type: 'string' }, 'reporting-interval': { type: 'string' }, 'show-detailed-stats': { type: 'boolean' },
    'fetch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(PERF_USAGE); return; }
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const topic = required('topic', f.topic);
  const messages = required('messages', intFlag('messages', f.messages, { min: 1 }));
  const timeoutMs = intFlag('timeout', f.timeout, { min: 1 }) ?? 10000;
  const reportingMs = intFlag('reporting-interval', f['reporting-interval'], { min: 1 }) ?? 5000;
  const fetchSize = intFlag('fetch-size', f['fetch-size'], { min: 1 }) ?? 1048576;
  const detailed = f['show-detailed-stats'] === true;

  const client = await KafkaClient.connect(bootstrap, { clientId: 'consumer-performance' });
  try {
    const t = (await client.metadata([topic])).topics.find((x) => x.name === topic);
    if (t === undefined || t.errorCode !== 0) throw new UsageError(`Topic ${topic} not present in metadata`);
    const reader = await PartitionReader.open(client, topic, t.partitions.map((p) => p.partition), f['from-latest'] === true ? 'latest' : 'earliest');
    const fetchLatency = new LatencyHistogram();
    const start = Date.now();
    let count = 0;
    let bytes = 0;
    let lastRecordAt = start;
    let lastReport = start;
    let lastReportCount = 0;
    let lastReportBytes = 0;
    if (detailed) println('time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    while (count < messages && Date.now() - lastRecordAt < timeoutMs) {
      const before = performance.now();
      const records = await reader.poll(Math.min(500, timeoutMs), fetchSize);
      fetchLatency.record((performance.now() - before) * 1000);
      for (const r of records) { count++; bytes += r.size; }
      if (records.length > 0) lastRecordAt = Date.now();
      if (detailed && Date.now() - lastReport >= reportingMs) {
        const secs = (Date.now() - lastReport) / 1000;
        const mb = (bytes - lastReportBytes) / MB;
        println(`${timestamp(Date.now())}, 0, ${fix(bytes / MB, 4)}, ${fix(mb / secs, 4)}, ${count}, ${fix((count - lastReportCount) / secs, 4)}, 0, ${Date.now() - lastReport}, ${fix(mb / secs, 4)}, ${fix((count - lastReportCount) / secs, 4)}`);
        lastReport = Date.now();
        lastReportCount = count;
        lastReportBytes = bytes;
      }
    }
    const end = Date.now();
    if (count < messages) process.stderr.write(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded.\n`);
    const secs = (end - start) / 1000;
    const mb = bytes / MB;
    if (!detailed) println('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    println(`${timestamp(start)}, ${timestamp(end)}, ${fix(mb, 4)}, ${fix(mb / secs, 4)}, ${count}, ${fix(count / secs, 4)}, 0, ${end - start}, ${fix(mb / secs, 4)}, ${fix(count / secs, 4)}`);
    const ms = (us: number): string => fix(us / 1000, 1);
    println(`fetch latency: ${fetchLatency.count} fetches, ${ms(fetchLatency.percentile(50))} ms 50th, ${ms(fetchLatency.percentile(95))} ms 95th, ${ms(fetchLatency.percentile(99))} ms 99th, ${ms(fetchLatency.percentile(99.9))} ms 99.9th.`);
  } finally {
    client.close();
  }
}
