import { createInterface } from 'node:readline';
import { buildRecordBatch, type RecordInput } from '../../protocol/records/index.js';
import { intFlag, keyValues, parseFlags, required, unescape, UsageError } from './args.js';
import { errorName, isRetriable, KafkaClient } from './client/client.js';
import { eprintln } from './output.js';
import { partitionForKey } from './partitioner.js';

export const PRODUCE_USAGE = `Usage: raftka produce --bootstrap-server HOST:PORT --topic T [options]   (like kafka-console-producer.sh)

Reads lines from stdin, one record per line.
  --property parse.key=true            split each line into key and value at key.separator
  --property key.separator=SEP         (default: a tab)
  --request-required-acks ACKS         -1 (all, default), 1 or 0
  --producer-property acks=...         same as above
  --partition N                        send every record to partition N (default: hash of the key, else sticky)
  --batch-size BYTES                   records per Produce request, in bytes (default 16384)
`;

const MAX_RETRIES = 10;

/** raftka produce: a console producer. Resolves once every line read is acknowledged. */
export async function produceCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, topic: { type: 'string' }, property: { type: 'string', multiple: true },
    'producer-property': { type: 'string', multiple: true }, 'request-required-acks': { type: 'string' },
    partition: { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(PRODUCE_USAGE); return; }
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const topic = required('topic', f.topic);
  const props = keyValues('property', f.property ?? []);
  const producerProps = keyValues('producer-property', f['producer-property'] ?? []);
  const parseKey = props.get('parse.key') === 'true';
  const separator = unescape(props.get('key.separator') ?? '\t');
  const acks = intFlag('request-required-acks', f['request-required-acks'] ?? ackValue(producerProps.get('acks')));
  if (acks !== undefined && acks !== -1 && acks !== 0 && acks !== 1) throw new UsageError(`acks must be -1 (all), 0 or 1, got ${acks}`);
  const fixedPartition = intFlag('partition', f.partition, { min: 0 });
  const batchBytes = intFlag('batch-size', f['batch-size'], { min: 1 }) ?? 16384;

  const client = await KafkaClient.connect(bootstrap, { clientId: 'console-producer' });
  try {
    const md = await client.metadata([topic], true);
    let numPartitions = md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    for (let i = 0; numPartitions === 0 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100 * (i + 1)));
      numPartitions = (await client.metadata([topic])).topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    }
    if (numPartitions === 0) throw new UsageError(`Topic ${topic} not present in metadata`);
    if (fixedPartition !== undefined && fixedPartition >= numPartitions) throw new UsageError(`Partition ${fixedPartition} of topic ${topic} with partition count ${numPartitions} is not present in metadata`);

    let sticky = Math.floor(Math.random() * numPartitions);
    const pending = new Map<number, RecordInput[]>();
    let pendingBytes = 0;
    let failures = 0;
    const send = async (partition: number, records: RecordInput[]): Promise<void> => {
      const batch = buildRecordBatch({ records });
      for (let attempt = 0; ; attempt++) {
        const r = await client.produce(topic, partition, batch, acks ?? -1);
        if (r.errorCode === 0) return;
        if (isRetriable(r.errorCode) && attempt < MAX_RETRIES) {
          await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
          await client.leaderOf(topic, partition, true).catch(() => undefined);
          continue;
        }
        failures += records.length;
        eprintln(`ERROR Error when sending message to topic ${topic} with ${records.length} record(s): ${errorName(r.errorCode)}${r.errorMessage !== null ? `: ${r.errorMessage}` : ''}`);
        return;
      }
    };
    const flush = async (): Promise<void> => {
      const batches = [...pending];
      pending.clear();
      pendingBytes = 0;
      sticky = (sticky + 1) % numPartitions;
      await Promise.all(batches.map(([p, records]) => send(p, records)));
    };

    const prompt = process.stdin.isTTY === true;
    const lines = createInterface({ input: process.stdin, terminal: false });
    if (prompt) process.stdout.write('>');
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      let key: Buffer | null = null;
      let value = line;
      if (parseKey) {
        const i = line.indexOf(separator);
        if (i < 0) throw new UsageError(`No key separator found on line number ${lineNumber}: '${line}'`);
        key = Buffer.from(line.slice(0, i));
        value = line.slice(i + separator.length);
      }
      const partition = fixedPartition ?? (key !== null ? partitionForKey(key, numPartitions) : sticky);
      const list = pending.get(partition) ?? [];
      list.push({ key, value: Buffer.from(value), timestamp: BigInt(Date.now()) });
      pending.set(partition, list);
      pendingBytes += value.length + (key?.length ?? 0);
      // Interactive: every line goes out at once. Piped: batches of batch-size bytes.
      if (prompt || pendingBytes >= batchBytes) await flush();
      if (prompt) process.stdout.write('>');
    }
    await flush();
    if (failures > 0) throw new UsageError(`${failures} record(s) could not be sent`);
  } finally {
    client.close();
  }
}

function ackValue(v: string | undefined): string | undefined {
  return v === 'all' ? '-1' : v;
}
