import { intFlag, keyValues, parseFlags, required, unescape, UsageError } from './args.js';
import { KafkaClient } from './client/client.js';
import { eprintln, flushStdout } from './output.js';
import { PartitionReader, type ConsumedRecord, type StartPosition } from './reader.js';

export const CONSUME_USAGE = `Usage: raftka consume --bootstrap-server HOST:PORT --topic T [options]   (like kafka-console-consumer.sh)

  --from-beginning                 start at the log start offset (default: the end)
  --partition N                    read only partition N (default: every partition)
  --offset earliest|latest|N       start offset, with --partition
  --max-messages N                 exit after N records
  --timeout-ms MS                  exit when no record arrives for MS
  --property print.key=true        also print keys (print.timestamp, print.partition, print.offset, print.value)
  --property key.separator=SEP     between key and value (default: a tab)
  --property line.separator=SEP    after each record (default: a newline)

Prints "Processed a total of N messages" to stderr on exit. Consumer groups (--group) are not supported yet.
`;

/** raftka consume: a console consumer over assigned partitions. */
export async function consumeCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, topic: { type: 'string' }, 'from-beginning': { type: 'boolean' },
    partition: { type: 'string' }, offset: { type: 'string' }, 'max-messages': { type: 'string' }, 'timeout-ms': { type: 'string' },
    property: { type: 'string', multiple: true }, group: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(CONSUME_USAGE); return; }
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const topic = required('topic', f.topic);
  if (f.group !== undefined) throw new UsageError('--group is not supported yet: raftka consume reads assigned partitions without a consumer group');
  const partitionFlag = intFlag('partition', f.partition, { min: 0 });
  const maxMessages = intFlag('max-messages', f['max-messages'], { min: 1 });
  const timeoutMs = intFlag('timeout-ms', f['timeout-ms'], { min: 1 });
  if (f.offset !== undefined && partitionFlag === undefined) throw new UsageError('The partition is required when offset is specified.');
  if (f.offset !== undefined && f['from-beginning'] === true) throw new UsageError('Options from-beginning and offset cannot be specified together.');
  const start: StartPosition = f.offset === undefined ? (f['from-beginning'] === true ? 'earliest' : 'latest') : parseOffset(f.offset);
  const props = keyValues('property', f.property ?? []);
  const format = formatter(props);

  const client = await KafkaClient.connect(bootstrap, { clientId: 'console-consumer' });
  let processed = 0;
  let stopped = false;
  const stop = (): void => { stopped = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const md = await client.metadata([topic], false);
    const t = md.topics.find((x) => x.name === topic);
    if (t === undefined || t.errorCode !== 0) throw new UsageError(`Topic ${topic} not present in metadata`);
    const partitions = partitionFlag !== undefined ? [partitionFlag] : t.partitions.map((p) => p.partition);
    if (partitionFlag !== undefined && !t.partitions.some((p) => p.partition === partitionFlag)) {
      throw new UsageError(`Partition ${partitionFlag} of topic ${topic} does not exist`);
    }
    const reader = await PartitionReader.open(client, topic, partitions, start);
    let lastRecordAt = Date.now();
    while (!stopped) {
      const waitMs = timeoutMs === undefined ? 500 : Math.max(1, Math.min(500, timeoutMs - (Date.now() - lastRecordAt)));
      const records = await reader.poll(waitMs);
      for (const r of records) {
        process.stdout.write(format(r));
        processed++;
        if (maxMessages !== undefined && processed >= maxMessages) { stopped = true; break; }
      }
      if (records.length > 0) lastRecordAt = Date.now();
      else if (timeoutMs !== undefined && Date.now() - lastRecordAt >= timeoutMs) {
        eprintln('[raftka consume] ERROR Error processing message, terminating consumer process: TimeoutException');
        break;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    client.close();
    await flushStdout();
    eprintln(`Processed a total of ${processed} messages`);
  }
}

function parseOffset(v: string): StartPosition {
  if (v === 'earliest' || v === 'latest') return v;
  if (!/^\d+$/.test(v)) throw new UsageError(`The offset must be 'earliest', 'latest' or a non-negative integer, got '${v}'`);
  return BigInt(v);
}

/** Kafka's DefaultMessageFormatter: optional timestamp, partition, offset and key before the value. */
function formatter(props: ReadonlyMap<string, string>): (r: ConsumedRecord) => string {
  const flag = (k: string, def = false): boolean => (props.get(k) ?? String(def)) === 'true';
  const printKey = flag('print.key');
  const printValue = flag('print.value', true);
  const printTimestamp = flag('print.timestamp');
  const printPartition = flag('print.partition');
  const printOffset = flag('print.offset');
  const keySeparator = unescape(props.get('key.separator') ?? '\t');
  const lineSeparator = unescape(props.get('line.separator') ?? '\n');
  const text = (b: Buffer | null): string => b === null ? 'null' : b.toString('utf8');
  return (r) => {
    const parts: string[] = [];
    if (printTimestamp) parts.push(`${r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime'}:${r.timestamp}`);
    if (printPartition) parts.push(`Partition:${r.partition}`);
    if (printOffset) parts.push(`Offset:${r.offset}`);
    if (printKey) parts.push(text(r.key));
    if (printValue) parts.push(text(r.value));
    return parts.join(keySeparator) + lineSeparator;
  };
}
