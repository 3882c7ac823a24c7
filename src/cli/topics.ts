import { intFlag, keyValues, parseFlags, required, UsageError } from './args.js';
import { KafkaClient, type TopicMetadata } from './client/client.js';
import { createPartitions, createTopic, deleteTopics, describeConfigs } from './client/admin.js';
import { println } from './output.js';

export const TOPICS_USAGE = `Usage: raftka topics --bootstrap-server HOST:PORT <action> [options]   (like kafka-topics.sh)

Actions (exactly one):
  --create --topic T [--partitions N] [--replication-factor R] [--replica-assignment 1:2,2:3]
           [--config k=v]... [--if-not-exists]
  --list [--exclude-internal]
  --describe [--topic T] [--exclude-internal] [--topics-with-overrides]
             [--under-replicated-partitions] [--unavailable-partitions]
  --delete --topic T [--if-exists]
  --alter --topic T --partitions N [--replica-assignment ...] [--if-exists]

--topic accepts a regular expression for --describe, --delete and --alter (as Kafka's does).
`;

/** Thrown for the errors kafka-topics.sh reports as "Error while executing topic command : ...". */
export class TopicCommandError extends Error {}

/** raftka topics: kafka-topics.sh's flags, output and exit codes. */
export async function topicsCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, create: { type: 'boolean' }, list: { type: 'boolean' }, describe: { type: 'boolean' },
    delete: { type: 'boolean' }, alter: { type: 'boolean' }, topic: { type: 'string' }, partitions: { type: 'string' },
    'replication-factor': { type: 'string' }, 'replica-assignment': { type: 'string' }, config: { type: 'string', multiple: true },
    'if-not-exists': { type: 'boolean' }, 'if-exists': { type: 'boolean' }, 'exclude-internal': { type: 'boolean' },
    'topics-with-overrides': { type: 'boolean' }, 'under-replicated-partitions': { type: 'boolean' }, 'unavailable-partitions': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(TOPICS_USAGE); return; }
  const actions = (['create', 'list', 'describe', 'delete', 'alter'] as const).filter((a) => f[a] === true);
  if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
  const action = actions[0]!;
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const partitions = intFlag('partitions', f.partitions, { min: 1 });
  const replicationFactor = intFlag('replication-factor', f['replication-factor'], { min: 1, max: 32767 });
  const assignment = f['replica-assignment'] === undefined ? null : parseAssignment(f['replica-assignment']);
  if ((action === 'create' || action === 'delete' || action === 'alter') && f.topic === undefined) {
    throw new UsageError(`Missing required argument "[topic]"`);
  }
  if (action === 'alter' && partitions === undefined && assignment === null) throw new UsageError('--alter needs --partitions');
  if (action === 'alter' && replicationFactor !== undefined) throw new UsageError('Option "[replication-factor]" can\'t be used with option "[alter]"');
  if (action === 'create' && assignment !== null && (partitions !== undefined || replicationFactor !== undefined)) {
    throw new UsageError('Option "[replica-assignment]" can\'t be used with option "[partitions]" or "[replication-factor]"');
  }
  if (f['if-not-exists'] === true && action !== 'create') throw new UsageError('Option "[if-not-exists]" can only be used with option "[create]"');
  const configs = keyValues('config', f.config ?? []);
  if (configs.size > 0 && action !== 'create') throw new UsageError('Option "[config]" can only be used with option "[create]" (use raftka configs --alter)');

  const client = await KafkaClient.connect(bootstrap);
  try {
    switch (action) {
      case 'create': {
        const topic = f.topic!;
        const r = await createTopic(client, {
          name: topic, numPartitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1, assignments: assignment, configs,
        });
        if (r.error !== null) {
          if (r.error.code === TOPIC_ALREADY_EXISTS && f['if-not-exists'] === true) return;
          throw new TopicCommandError(r.error.message);
        }
        if (topic.includes('.') || topic.includes('_')) {
          println('WARNING: Due to limitations in metric names, topics with a period (\'.\') or underscore (\'_\') could collide. To avoid issues it is best to use either, but not both.');
        }
        println(`Created topic ${topic}.`);
        return;
      }
      case 'list': {
        const md = await client.metadata(null);
        for (const t of sortedTopics(md.topics, f['exclude-internal'] === true)) println(t.name);
        return;
      }
      case 'describe': {
        const md = await client.metadata(null);
        const topics = matching(md.topics, f.topic, f['exclude-internal'] === true, f['if-exists'] === true);
        for (const t of topics) await describeTopic(client, t, {
          withOverrides: f['topics-with-overrides'] === true,
          underReplicated: f['under-replicated-partitions'] === true,
          unavailable: f['unavailable-partitions'] === true,
          liveBrokers: new Set(md.brokers.keys()),
        });
        return;
      }
      case 'delete': {
        const md = await client.metadata(null);
        const topics = matching(md.topics, f.topic, false, f['if-exists'] === true);
        const internal = topics.find((t) => t.isInternal);
        if (internal !== undefined) throw new TopicCommandError(`Topic ${internal.name} is a kafka internal topic and is not allowed to be marked for deletion.`);
        if (topics.length === 0) return;
        const results = await deleteTopics(client, topics.map((t) => t.name));
        const failed = results.find((r) => r.error !== null);
        if (failed !== undefined) throw new TopicCommandError(failed.error!.message);
        return;
      }
      case 'alter': {
        const md = await client.metadata(null);
        const topics = matching(md.topics, f.topic, false, f['if-exists'] === true);
        for (const t of topics) {
          const count = partitions ?? t.partitions.length + (assignment?.length ?? 0);
          const r = await createPartitions(client, t.name, count, assignment === null ? null : assignment.slice(t.partitions.length));
          if (r.error !== null) throw new TopicCommandError(r.error.message);
        }
        return;
      }
    }
  } finally {
    client.close();
  }
}

const TOPIC_ALREADY_EXISTS = 36;

/** `1:2,2:3` (Kafka's --replica-assignment): partitions by commas, replicas by colons. */
function parseAssignment(value: string): number[][] {
  return value.split(',').map((p, i) => p.split(':').map((b) => {
    const n = Number(b.trim());
    if (b.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`invalid broker id '${b}' in --replica-assignment for partition ${i}`);
    return n;
  }));
}

function sortedTopics(topics: readonly TopicMetadata[], excludeInternal: boolean): TopicMetadata[] {
  return topics.filter((t) => !(excludeInternal && t.isInternal)).sort((a, b) => a.name.localeCompare(b.name));
}

/** Kafka's TopicCommand treats --topic as a regular expression (an include list). */
function matching(topics: readonly TopicMetadata[], pattern: string | undefined, excludeInternal: boolean, ifExists: boolean): TopicMetadata[] {
  const all = sortedTopics(topics, excludeInternal);
  if (pattern === undefined) return all;
  let re: RegExp;
  try { re = new RegExp(`^(?:${pattern})$`); } catch { throw new UsageError(`--topic '${pattern}' is not a valid regular expression`); }
  const found = all.filter((t) => t.name === pattern || re.test(t.name));
  if (found.length === 0 && !ifExists) throw new TopicCommandError(`Topic '${pattern}' does not exist as expected`);
  return found;
}

async function describeTopic(client: KafkaClient, t: TopicMetadata, options: {
  withOverrides: boolean; underReplicated: boolean; unavailable: boolean; liveBrokers: ReadonlySet<number>;
}): Promise<void> {
  const configs = (await describeConfigs(client, 2, t.name)).filter((c) => !c.isDefault && c.configSource !== 5);
  const partitionFilter = options.underReplicated || options.unavailable;
  if (options.withOverrides && configs.length === 0) return;
  const rf = t.partitions[0]?.replicas.length ?? 0;
  if (!partitionFilter) {
    const id = t.topicId !== '00000000-0000-0000-0000-000000000000' ? `\tTopicId: ${t.topicId}` : '';
    println(`Topic: ${t.name}${id}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs.map((c) => `${c.name}=${c.value ?? ''}`).join(',')}`);
  }
  if (options.withOverrides) return;
  for (const p of t.partitions) {
    const hasLeader = p.leader >= 0 && options.liveBrokers.has(p.leader);
    if (options.underReplicated && p.isr.length >= p.replicas.length) continue;
    if (options.unavailable && hasLeader) continue;
    println(`\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${hasLeader ? p.leader : 'none'}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`);
  }
}
