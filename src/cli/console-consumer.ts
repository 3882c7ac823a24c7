import { intFlag, keyValues, parseFlags, required, unescape, UsageError } from './args.js';
import { KafkaClient } from './client/client.js';
import { eprintln, flushStdout } from './output.js';
import { PartitionReader, type ConsumedRecord, type StartPosition } from './reader.js';
import { GroupMember } from './client/group-member.js';
import { fetchOffsets } from './client/groups.js';
import type { KafkaClient as Client } from './client/client.js';

export const CONSUME_USAGE = `Usage: raftka consume --bootstrap-server HOST:PORT --topic T [options]   (like kafka-console-consumer.sh)

  --from-beginning                 start at the log start offset (default: the end)
  --partition N                    read only partition N (default: every partition)
  --offset earliest|latest|N       start offset, with --partition
  --max-messages N                 exit after N records
  --timeout-ms MS                  exit when no record arrives for MS
  --property print.key=true        also print keys (print.timestamp, print.partition, print.offset, print.value)
  --property key.separator=SEP     between key and value (default: a tab)
  --property line.separator=SEP    after each record (default: a newline)

  --group G                        join consumer group G (range assignor): start at its committed offsets,
                                   commit every 5 s and on exit

Prints "Processed a total of N messages" to stderr on exit.
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
  if (f.group !== undefined && (f.partition !== undefined || f.offset !== undefined)) {
    throw new UsageError('Options group and partition/offset cannot be specified together (a group member is assigned its partitions).');
  }
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
  let stopGroup = async (): Promise<void> => undefined;
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
    const group = f.group === undefined ? null : new GroupSession(client, f.group, topic, f['from-beginning'] === true ? 'earliest' : 'latest');
    let reader = group === null ? await PartitionReader.open(client, topic, partitions, start) : await group.start();
    stopGroup = async () => { if (group !== null) await group.close(reader); };
    let lastRecordAt = Date.now();
    while (!stopped) {
      if (group !== null) reader = await group.tick(reader);
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
    await stopGroup().catch(() => undefined);
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

const HEARTBEAT_MS = 3000;
const AUTO_COMMIT_MS = 5000;

/** The console consumer as a group member: heartbeats, auto-commit, and a new reader after each rebalance. */
class GroupSession {
  private member: GroupMember | null = null;
  private lastHeartbeat = 0;
  private lastCommit = 0;

  constructor(private readonly client: Client, private readonly groupId: string, private readonly topic: string, private readonly reset: 'earliest' | 'latest') {}

  async start(): Promise<PartitionReader> {
    this.member = await GroupMember.join(this.client, this.groupId, this.topic, { memberId: this.member?.memberId });
    const committed = (await fetchOffsets(this.client, this.groupId)).get(this.topic) ?? new Map<number, bigint>();
    this.lastHeartbeat = Date.now();
    this.lastCommit = Date.now();
    return PartitionReader.openAt(this.client, this.topic, new Map(this.member.partitions.map((p) => [p, committed.get(p) ?? this.reset])));
  }

  /** Heartbeats and commits when due; rejoins (returning a new reader) when the group rebalances. */
  async tick(reader: PartitionReader): Promise<PartitionReader> {
    const now = Date.now();
    if (now - this.lastCommit >= AUTO_COMMIT_MS) {
      this.lastCommit = now;
      await this.member!.commit(reader.allPositions());
    }
    if (now - this.lastHeartbeat < HEARTBEAT_MS) return reader;
    this.lastHeartbeat = now;
    if (await this.member!.heartbeat() === 'ok') return reader;
    await this.member!.commit(reader.allPositions()).catch(() => undefined);
    return this.start();
  }

  async close(reader: PartitionReader): Promise<void> {
    if (this.member === null) return;
    await this.member.commit(reader.allPositions());
    await this.member.leave();
  }
}
