import { intFlag, keyValues, parseFlags, required, UsageError } from './args.js';
import { errorName, KafkaClient } from './client/client.js';
import { runProducerPerf } from './perf-producer.js';
import { LatencyHistogram } from './histogram.js';
import { println } from './output.js';
import { PartitionReader } from './reader.js';

export const PERF_USAGE = `Usage: raftka perf produce|consume [options]

raftka perf produce --bootstrap-server HOST:PORT --topic T --num-records N --record-size BYTES
                    [--throughput RECORDS_PER_SEC (-1: unlimited)] [--acks -1|0|1]
                    [--producer-props acks=1 batch.size=16384 max.in.flight.requests.per.connection=5]
                    [--reporting-interval MS]                      (like kafka-producer-perf-test.sh)
                    (one connection per leader broker; each request carries one batch of up to
                    batch.size bytes per partition that broker leads, max.in.flight per connection)
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
  const ackValue = intFlag('acks', ackText === 'all' ? '-1' : ackText)!;
  if (ackValue !== -1 && ackValue !== 0 && ackValue !== 1) throw new UsageError(`acks must be -1 (all), 0 or 1, got ${ackValue}`);
  const acks: -1 | 0 | 1 = ackValue;
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

    const total = new LatencyHistogram();
    const window = new LatencyHistogram();
    let windowStart = Date.now();
    let windowCount = 0;
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
    const result = await runProducerPerf(client, {
      topic, numRecords, throughput, acks, batchSize, maxInFlight, payload,
      onAck: (records, latencyUs) => { total.record(latencyUs, records); window.record(latencyUs, records); windowCount += records; },
      onError: (p, message) => process.stderr.write(`Error producing to ${topic}-${p}: ${message}\n`),
      // as Kafka's producer logs a retry (a WARN of its Sender)
      onRetry: (p, code, left) => process.stderr.write(`Got error produce response on topic-partition ${topic}-${p}, retrying (${left} attempts left). Error: ${errorName(code)}\n`),
    }).finally(() => clearInterval(timer));
    const acked = result.acked;
    const errors = result.failed;
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
    let emptyPolls = 0;
    const stopped = (): boolean => count >= messages || Date.now() - lastRecordAt >= timeoutMs;
    const onRecords = (got: { records: number; bytes: number }): void => {
      count += got.records;
      bytes += got.bytes;
      if (got.records > 0) lastRecordAt = Date.now();
      if (detailed && Date.now() - lastReport >= reportingMs) {
        const secs = (Date.now() - lastReport) / 1000;
        const mb = (bytes - lastReportBytes) / MB;
        println(`${timestamp(Date.now())}, 0, ${fix(bytes / MB, 4)}, ${fix(mb / secs, 4)}, ${count}, ${fix((count - lastReportCount) / secs, 4)}, 0, ${Date.now() - lastReport}, ${fix(mb / secs, 4)}, ${fix((count - lastReportCount) / secs, 4)}`);
        lastReport = Date.now();
        lastReportCount = count;
        lastReportBytes = bytes;
      }
    };
    // One fetch loop per leader broker, as a Kafka consumer keeps one fetch in flight per node:
    // a leader whose partitions are drained (its Fetch long-polls for maxWaitMs) holds up no other.
    const loops = new Map<number, Promise<void>>();
    let failure: unknown;
    const fetchLoop = async (leader: number): Promise<void> => {
      while (!stopped() && failure === undefined) {
        const partitions = (await reader.leaders()).get(leader);
        if (partitions === undefined) return; // its partitions moved: the supervisor starts their new leaders' loops
        const before = performance.now();
        // Counted from the record headers: no record objects (allocation is what this tool would measure).
        const got = await reader.pollLeaderCounts(leader, partitions, Math.min(500, timeoutMs), fetchSize);
        // Latency of the fetches that returned records; an empty one is a long poll that waited out maxWaitMs.
        if (got.records > 0) fetchLatency.record((performance.now() - before) * 1000); else emptyPolls++;
        onRecords(got);
      }
    };
    while (!stopped() && failure === undefined) {
      const byLeader = await reader.leaders();
      if (byLeader.size === 0) await client.metadata([topic]);
      for (const leader of byLeader.keys()) {
        if (loops.has(leader)) continue;
        loops.set(leader, fetchLoop(leader).catch((err: unknown) => { failure ??= err; }).finally(() => loops.delete(leader)));
      }
      await Promise.race([...loops.values(), new Promise((r) => setTimeout(r, 20))]);
    }
    if (failure !== undefined) throw failure;
    const end = Date.now();
    if (count < messages) process.stderr.write(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded.\n`);
    const secs = (end - start) / 1000;
    const mb = bytes / MB;
    if (!detailed) println('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec');
    println(`${timestamp(start)}, ${timestamp(end)}, ${fix(mb, 4)}, ${fix(mb / secs, 4)}, ${count}, ${fix(count / secs, 4)}, 0, ${end - start}, ${fix(mb / secs, 4)}, ${fix(count / secs, 4)}`);
    const ms = (us: number): string => fix(us / 1000, 1);
    println(`fetch latency: ${fetchLatency.count} fetches with records (${emptyPolls} empty long polls), ${ms(fetchLatency.percentile(50))} ms 50th, ${ms(fetchLatency.percentile(95))} ms 95th, ${ms(fetchLatency.percentile(99))} ms 99th, ${ms(fetchLatency.percentile(99.9))} ms 99.9th.`);
  } finally {
    client.close();
  }
}
