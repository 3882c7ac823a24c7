import { intFlag, parseFlags, required, UsageError } from './args.js';
import { errorName, KafkaClient } from './client/client.js';
import { commitOffsets, describeGroup, deleteGroups, fetchOffsets, listGroups, type GroupDescription } from './client/groups.js';
import { eprintln, println } from './output.js';

export const CONSUMER_GROUPS_USAGE = `Usage: raftka consumer-groups --bootstrap-server HOST:PORT <action>   (like kafka-consumer-groups.sh)

  --list [--state]
  --describe --group G [--members | --state | --offsets]     (--all-groups for every group)
  --delete --group G [--group G2]...
  --reset-offsets --group G (--topic T[:P,P...] | --all-topics)
        (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N)
        [--dry-run | --execute]
`;

/** Thrown for the errors kafka-consumer-groups.sh prints as "Error: ..." on stderr. */
export class GroupCommandError extends Error {}

const MISSING = '-';
const GROUP_NAMES: Readonly<Record<number, string>> = { 68: 'NON_EMPTY_GROUP', 69: 'GROUP_ID_NOT_FOUND' };
const pad = (s: string, w: number): string => s.padEnd(w);

/** raftka consumer-groups: kafka-consumer-groups.sh's list, describe, delete and reset-offsets. */
export async function consumerGroupsCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, list: { type: 'boolean' }, describe: { type: 'boolean' }, delete: { type: 'boolean' },
    'reset-offsets': { type: 'boolean' }, group: { type: 'string', multiple: true }, 'all-groups': { type: 'boolean' },
    members: { type: 'boolean' }, state: { type: 'boolean' }, offsets: { type: 'boolean' }, topic: { type: 'string', multiple: true },
    'all-topics': { type: 'boolean' }, 'to-earliest': { type: 'boolean' }, 'to-latest': { type: 'boolean' }, 'to-current': { type: 'boolean' },
    'to-offset': { type: 'string' }, 'shift-by': { type: 'string' }, 'dry-run': { type: 'boolean' }, execute: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(CONSUMER_GROUPS_USAGE); return; }
  const actions = (['list', 'describe', 'delete', 'reset-offsets'] as const).filter((a) => f[a] === true);
  if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --delete, --reset-offsets');
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const groups = f.group ?? [];
  if ((actions[0] === 'describe' || actions[0] === 'delete' || actions[0] === 'reset-offsets') && groups.length === 0 && f['all-groups'] !== true) {
    throw new UsageError(`Option [${actions[0]}] takes one of these options: [all-groups], [group]`);
  }

  const client = await KafkaClient.connect(bootstrap, { clientId: 'consumer-groups' });
  try {
    const allGroups = async (): Promise<string[]> => f['all-groups'] === true ? (await listGroups(client)).map((g) => g.groupId) : groups;
    switch (actions[0]!) {
      case 'list': {
        const list = await listGroups(client);
        if (f.state === true) {
          const w = Math.max(15, ...list.map((g) => g.groupId.length));
          println(`${pad('GROUP', w)} STATE`);
          for (const g of list) println(`${pad(g.groupId, w)} ${g.state}`);
        } else {
          for (const g of list) println(g.groupId);
        }
        return;
      }
      case 'describe':
        for (const g of await allGroups()) await describe(client, g, f.members === true ? 'members' : f.state === true ? 'state' : 'offsets');
        return;
      case 'delete': {
        const results = await deleteGroups(client, await allGroups());
        const failed = results.filter((r) => r.errorCode !== 0);
        const ok = results.filter((r) => r.errorCode === 0).map((r) => `'${r.groupId}'`);
        if (ok.length > 0) println(`Deletion of requested consumer groups (${ok.join(', ')}) was successful.`);
        if (failed.length > 0) {
          println('Deletion of some consumer groups failed:');
          for (const r of failed) println(`* Group '${r.groupId}' could not be deleted due to: ${GROUP_NAMES[r.errorCode] ?? errorName(r.errorCode)}`);
          throw new GroupCommandError(`${failed.length} group(s) could not be deleted`);
        }
        return;
      }
      case 'reset-offsets':
        for (const g of await allGroups()) await resetOffsets(client, g, f);
        return;
    }
  } finally {
    client.close();
  }
}

/** Prints Kafka's state message for a group; false when there is nothing to print a table for. */
function printState(d: GroupDescription): boolean {
  if (d.state === 'Dead' || d.errorCode === 69) throw new GroupCommandError(`Consumer group '${d.groupId}' does not exist.`);
  if (d.state === 'Empty') eprintln(`\nConsumer group '${d.groupId}' has no active members.`);
  if (['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'].includes(d.state)) eprintln(`\nWarning: Consumer group '${d.groupId}' is rebalancing.`);
  return true;
}

async function describe(client: KafkaClient, groupId: string, mode: 'offsets' | 'members' | 'state'): Promise<void> {
  const d = await describeGroup(client, groupId);
  if (d.errorCode !== 0 && d.errorCode !== 69) throw new GroupCommandError(`${errorName(d.errorCode)} describing group '${groupId}'`);
  if (mode === 'state') {
    const md = await client.metadata([]);
    const b = md.brokers.get(d.coordinator);
    const coordinator = `${b?.host ?? '?'}:${b?.port ?? '?'} (${d.coordinator})`;
    const w = Math.max(15, groupId.length);
    const cw = Math.max(25, coordinator.length);
    println(`\n${pad('GROUP', w)} ${pad('COORDINATOR (ID)', cw)} ${pad('ASSIGNMENT-STRATEGY', 20)} ${pad('STATE', 15)} #MEMBERS`);
    println(`${pad(groupId, w)} ${pad(coordinator, cw)} ${pad(d.protocol === '' ? '' : d.protocol, 20)} ${pad(d.state, 15)} ${d.members.length}`);
    return;
  }
  printState(d);
  if (mode === 'members') {
    if (d.members.length === 0) return;
    const w = [15, 15, 15, 15].map((min, i) => Math.max(min, groupId.length * Number(i === 0), ...d.members.map((m) => [groupId, m.memberId, m.clientHost, m.clientId][i]!.length)));
    println(`\n${pad('GROUP', w[0]!)} ${pad('CONSUMER-ID', w[1]!)} ${pad('HOST', w[2]!)} ${pad('CLIENT-ID', w[3]!)} #PARTITIONS `);
    for (const m of d.members) println(`${pad(groupId, w[0]!)} ${pad(m.memberId, w[1]!)} ${pad(m.clientHost, w[2]!)} ${pad(m.clientId, w[3]!)} ${pad(String(m.assignment.length), 15)} `);
    return;
  }
  const committed = await fetchOffsets(client, groupId);
  interface Row { topic: string; partition: number; member?: GroupDescription['members'][number] }
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const m of d.members) for (const a of m.assignment) { rows.push({ ...a, member: m }); seen.add(`${a.topic}:${a.partition}`); }
  for (const [topic, ps] of committed) for (const partition of ps.keys()) if (!seen.has(`${topic}:${partition}`)) rows.push({ topic, partition });
  if (rows.length === 0) return;
  rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const cells = await Promise.all(rows.map(async (r) => {
    const current = committed.get(r.topic)?.get(r.partition);
    const end = await client.listOffset(r.topic, r.partition, -1n).catch(() => undefined);
    return [groupId, r.topic, String(r.partition), current?.toString() ?? MISSING, end?.toString() ?? MISSING,
      current !== undefined && end !== undefined ? String(end - current) : MISSING,
      r.member?.memberId ?? MISSING, r.member?.clientHost ?? MISSING, r.member?.clientId ?? MISSING];
  }));
  const wg = Math.max(15, groupId.length);
  const wt = Math.max(15, ...rows.map((r) => r.topic.length));
  const wc = Math.max(15, ...cells.map((c) => c[6]!.length));
  const wh = Math.max(15, ...cells.map((c) => c[7]!.length));
  const line = (c: readonly string[]): string => `${pad(c[0]!, wg)} ${pad(c[1]!, wt)} ${pad(c[2]!, 10)} ${pad(c[3]!, 15)} ${pad(c[4]!, 15)} ${pad(c[5]!, 15)} ${pad(c[6]!, wc)} ${pad(c[7]!, wh)} ${c[8]}`;
  println(`\n${line(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'])}`);
  for (const c of cells) println(line(c));
}

type ResetFlags = {
  topic?: string[]; 'all-topics'?: boolean; 'to-earliest'?: boolean; 'to-latest'?: boolean; 'to-current'?: boolean;
  'to-offset'?: string; 'shift-by'?: string; 'dry-run'?: boolean; execute?: boolean;
};

async function resetOffsets(client: KafkaClient, groupId: string, f: ResetFlags): Promise<void> {
  const specs = [f['to-earliest'], f['to-latest'], f['to-current'], f['to-offset'] !== undefined, f['shift-by'] !== undefined].filter((x) => x === true).length;
  if (specs !== 1) throw new UsageError('Option [reset-offsets] takes exactly one of: --to-earliest, --to-latest, --to-current, --to-offset, --shift-by');
  if ((f.topic === undefined) === (f['all-topics'] !== true)) throw new UsageError('Option [reset-offsets] takes one of these options: [all-topics], [topic]');
  const toOffset = f['to-offset'] === undefined ? undefined : BigInt(intFlag('to-offset', f['to-offset'], { min: 0 })!);
  const shiftBy = f['shift-by'] === undefined ? undefined : BigInt(intFlag('shift-by', f['shift-by'])!);
  const d = await describeGroup(client, groupId);
  if (d.state !== 'Empty' && d.state !== 'Dead') {
    throw new GroupCommandError(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${d.state}.`);
  }
  const committed = await fetchOffsets(client, groupId);
  const targets: { topic: string; partition: number }[] = [];
  if (f['all-topics'] === true) {
    for (const [topic, ps] of committed) for (const partition of ps.keys()) targets.push({ topic, partition });
  } else {
    for (const spec of f.topic!) {
      const [topic, list] = spec.split(':') as [string, string | undefined];
      const md = await client.metadata([topic]);
      const t = md.topics.find((x) => x.name === topic && x.errorCode === 0);
      if (t === undefined) throw new GroupCommandError(`Topic '${topic}' does not exist`);
      const partitions = list === undefined ? t.partitions.map((p) => p.partition) : list.split(',').map((p) => intFlag('topic partition', p, { min: 0 })!);
      for (const partition of partitions) targets.push({ topic, partition });
    }
  }
  const plan = await Promise.all(targets.map(async ({ topic, partition }) => {
    const earliest = await client.listOffset(topic, partition, -2n);
    const latest = await client.listOffset(topic, partition, -1n);
    const current = committed.get(topic)?.get(partition) ?? latest;
    let offset = f['to-earliest'] === true ? earliest : f['to-latest'] === true ? latest : f['to-current'] === true ? current
      : toOffset !== undefined ? toOffset : current + shiftBy!;
    // Kafka clamps a reset into the partition's offsets.
    if (offset < earliest) offset = earliest;
    if (offset > latest) offset = latest;
    return { topic, partition, offset };
  }));
  plan.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  if (f.execute !== true && f['dry-run'] !== true) {
    println('WARN: No action will be performed as the --execute option is missing. In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.');
  }
  if (f.execute === true && plan.length > 0) await commitOffsets(client, groupId, plan);
  const line = (c: string[]): string => `${pad(c[0]!, 30)} ${pad(c[1]!, 30)} ${pad(c[2]!, 10)} ${pad(c[3]!, 15)}`;
  println(`\n${line(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'])}`);
  for (const p of plan) println(line([groupId, p.topic, String(p.partition), String(p.offset)]));
}
