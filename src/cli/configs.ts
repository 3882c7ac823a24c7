import { parseFlags, required, UsageError } from './args.js';
import { KafkaClient } from './client/client.js';
import { describeConfigs, incrementalAlterConfigs } from './client/admin.js';
import { println } from './output.js';

export const CONFIGS_USAGE = `Usage: raftka configs --bootstrap-server HOST:PORT <--describe | --alter> <entity> [options]   (like kafka-configs.sh)

Entity: --entity-type topics|brokers --entity-name NAME, or --topic T, or --broker ID
  --describe [--all]                       dynamic configs (all configs with --all), with sources and synonyms
  --alter --add-config k1=v1,k2=[a,b]      set configs
          --delete-config k1,k2            remove dynamic configs (back to the default)
`;

/** DescribeConfigs ConfigSource ids by the names Kafka's Admin client prints. */
const SOURCE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNKNOWN', 1: 'DYNAMIC_TOPIC_CONFIG', 2: 'DYNAMIC_BROKER_CONFIG', 3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG', 5: 'DEFAULT_CONFIG', 6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

/** Thrown for failures kafka-configs.sh reports as "Error while executing config command". */
export class ConfigCommandError extends Error {}

/** raftka configs: kafka-configs.sh's --describe and --alter for topics and brokers. */
export async function configsCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, describe: { type: 'boolean' }, alter: { type: 'boolean' }, all: { type: 'boolean' },
    'entity-type': { type: 'string' }, 'entity-name': { type: 'string' }, topic: { type: 'string' }, broker: { type: 'string' },
    'add-config': { type: 'string', multiple: true }, 'delete-config': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(CONFIGS_USAGE); return; }
  if ((f.describe === true) === (f.alter === true)) throw new UsageError('Command must include exactly one action: --describe, --alter');
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const entity = entityOf(f['entity-type'], f['entity-name'], f.topic, f.broker);
  const add = (f['add-config'] ?? []).flatMap(parseAddConfig);
  const del = (f['delete-config'] ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (f.alter === true && add.length === 0 && del.length === 0) throw new UsageError('At least one of --add-config or --delete-config must be specified with --alter');
  if (f.describe === true && (add.length > 0 || del.length > 0)) throw new UsageError('Option "[add-config]" and "[delete-config]" can only be used with option "[alter]"');
  const overlap = add.find(([k]) => del.includes(k));
  if (overlap !== undefined) throw new UsageError(`Invalid config(s): ${overlap[0]} (both added and deleted)`);

  const client = await KafkaClient.connect(bootstrap);
  try {
    const resourceType = entity.type === 'topics' ? 2 : 4;
    const what = entity.type === 'topics' ? 'topic' : 'broker';
    if (f.describe === true) {
      const names = entity.name !== null ? [entity.name] : entity.type === 'topics'
        ? (await client.metadata(null)).topics.map((t) => t.name).sort()
        : [...(await client.metadata([])).brokers.keys()].sort((a, b) => a - b).map(String);
      for (const name of names) {
        const all = await describeConfigs(client, resourceType, name);
        const dynamic = (source: number): boolean => entity.type === 'topics' ? source === 1 : source === 2 || source === 3;
        const shown = f.all === true ? all : all.filter((c) => dynamic(c.configSource));
        println(`${f.all === true ? 'All' : 'Dynamic'} configs for ${what} ${name} are:`);
        for (const c of shown) {
          const synonyms = c.synonyms.map((s) => `${SOURCE_NAMES[s.source] ?? 'UNKNOWN'}:${s.name}=${s.value ?? 'null'}`).join(', ');
          println(`  ${c.name}=${c.isSensitive ? 'null' : c.value ?? 'null'} sensitive=${c.isSensitive} synonyms={${synonyms}}`);
        }
      }
      return;
    }
    if (entity.name === null) throw new UsageError('--entity-name (or --topic / --broker) must be specified with --alter');
    if (entity.type === 'topics' && !(await client.metadata([entity.name])).topics.some((t) => t.name === entity.name && t.errorCode === 0)) {
      throw new ConfigCommandError(`The topic '${entity.name}' does not exist.`);
    }
    await incrementalAlterConfigs(client, resourceType, entity.name, [
      ...add.map(([name, value]) => ({ name, op: 0, value })),
      ...del.map((name) => ({ name, op: 1, value: null })),
    ]);
    println(`Completed updating config for ${what} ${entity.name}.`);
  } finally {
    client.close();
  }
}

function entityOf(type: string | undefined, name: string | undefined, topic: string | undefined, broker: string | undefined): { type: 'topics' | 'brokers'; name: string | null } {
  if (topic !== undefined) return { type: 'topics', name: topic };
  if (broker !== undefined) {
    if (!/^\d+$/.test(broker)) throw new UsageError(`The entity name for brokers must be a valid integer broker id, but it is: ${broker}`);
    return { type: 'brokers', name: broker };
  }
  if (type === undefined) throw new UsageError('--entity-type must be specified (topics or brokers), or use --topic / --broker');
  const t = type === 'topic' ? 'topics' : type === 'broker' ? 'brokers' : type;
  if (t !== 'topics' && t !== 'brokers') throw new UsageError(`Invalid entity type ${type}, the entity type must be one of topics, brokers`);
  if (t === 'brokers' && name !== undefined && !/^\d+$/.test(name)) throw new UsageError(`The entity name for brokers must be a valid integer broker id, but it is: ${name}`);
  return { type: t, name: name ?? null };
}

/** k1=v1,k2=[a,b]: commas inside square brackets belong to the value (Kafka's list syntax). */
function parseAddConfig(s: string): [string, string][] {
  const out: [string, string][] = [];
  let depth = 0;
  let cur = '';
  const push = (): void => {
    if (cur.trim() === '') return;
    const i = cur.indexOf('=');
    if (i <= 0) throw new UsageError(`Invalid config: '${cur}' (expected key=value)`);
    out.push([cur.slice(0, i).trim(), cur.slice(i + 1).trim().replace(/^\[(.*)\]$/, '$1')]);
    cur = '';
  };
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) { push(); continue; }
    cur += ch;
  }
  push();
  return out;
}
