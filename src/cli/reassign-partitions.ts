import { readFileSync } from 'node:fs';
import { parseFlags, required, UsageError } from './args.js';
import { errorName, KafkaClient } from './client/client.js';
import { alterPartitionReassignments, listPartitionReassignments } from './client/admin.js';
import { assignReplicas } from '../cluster/assigner.js';
import { Random } from '../util/random.js';
import { println } from './output.js';

export const REASSIGN_PARTITIONS_USAGE = `Usage: raftka reassign-partitions --bootstrap-server HOST:PORT
         --generate --topics-to-move-json-file FILE --broker-list 1,2,3
       | --execute --reassignment-json-file FILE
       | --verify --reassignment-json-file FILE
       | --cancel --reassignment-json-file FILE            (like kafka-reassign-partitions.sh)

  topics-to-move JSON: {"version":1,"topics":[{"topic":"t"}]}
  reassignment JSON:   {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3,4]}]}
`;

/** Thrown when some partitions could not be reassigned, or (--verify) are not done (printed, exit 1). */
export class ReassignmentFailed extends Error {}

export interface PartitionAssignment { topic: string; partition: number; replicas: number[] }

/** Kafka's reassignment JSON ("log_dirs" accepted and ignored: raftka has one log directory per broker). */
export function formatAssignment(partitions: readonly PartitionAssignment[]): string {
  return JSON.stringify({
    version: 1,
    partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas, log_dirs: p.replicas.map(() => 'any') })),
  });
}

export function parseReassignmentJson(text: string, source: string): PartitionAssignment[] {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch (err) { throw new UsageError(`${source}: ${(err as Error).message}`); }
  const list = (parsed as { partitions?: unknown }).partitions;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${source}: expected {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`);
  const seen = new Set<string>();
  return list.map((e: unknown, i) => {
    const p = e as { topic?: unknown; partition?: unknown; replicas?: unknown };
    if (typeof p.topic !== 'string' || !Number.isInteger(p.partition) || !Array.isArray(p.replicas) || !p.replicas.every((r) => Number.isInteger(r))) {
      throw new UsageError(`${source}: partition entry ${i} needs "topic", "partition" and "replicas" (broker ids)`);
    }
    const key = `${p.topic}-${p.partition as number}`;
    if (seen.has(key)) throw new UsageError(`${source}: partition ${key} appears more than once`);
    seen.add(key);
    return { topic: p.topic, partition: p.partition as number, replicas: p.replicas as number[] };
  });
}

/** raftka reassign-partitions: kafka-reassign-partitions.sh's modes, JSON files and output. */
export async function reassignPartitionsCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, generate: { type: 'boolean' }, execute: { type: 'boolean' }, verify: { type: 'boolean' },
    cancel: { type: 'boolean' }, 'topics-to-move-json-file': { type: 'string' }, 'broker-list': { type: 'string' },
    'reassignment-json-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(REASSIGN_PARTITIONS_USAGE); return; }
  const modes = (['generate', 'execute', 'verify', 'cancel'] as const).filter((m) => f[m] === true);
  if (modes.length !== 1) throw new UsageError('Command must include exactly one action: --generate, --execute, --verify or --cancel');
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const client = await KafkaClient.connect(bootstrap);
  try {
    switch (modes[0]) {
      case 'generate': await generate(client, required('topics-to-move-json-file', f['topics-to-move-json-file']), required('broker-list', f['broker-list'])); break;
      case 'execute': await execute(client, readJson(required('reassignment-json-file', f['reassignment-json-file']))); break;
      case 'verify': await verify(client, readJson(required('reassignment-json-file', f['reassignment-json-file']))); break;
      case 'cancel': await cancel(client, readJson(required('reassignment-json-file', f['reassignment-json-file']))); break;
    }
  } finally {
    client.close();
  }
}

function readJson(path: string): PartitionAssignment[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) { throw new UsageError(`cannot read ${path}: ${(err as Error).message}`); }
  return parseReassignmentJson(text, path);
}

async function currentAssignment(client: KafkaClient, topics: readonly string[]): Promise<PartitionAssignment[]> {
  const md = await client.metadata(topics);
  const out: PartitionAssignment[] = [];
  for (const name of topics) {
    const t = md.topics.find((x) => x.name === name);
    if (t === undefined || t.errorCode !== 0) throw new ReassignmentFailed(`Topic ${name} not found`);
    for (const p of [...t.partitions].sort((a, b) => a.partition - b.partition)) out.push({ topic: name, partition: p.partition, replicas: [...p.replicas] });
  }
  return out;
}

/** --generate: a proposal spreading the topics' partitions over --broker-list (Kafka's rack-unaware assignment). */
async function generate(client: KafkaClient, topicsFile: string, brokerList: string): Promise<void> {
  let parsed: unknown;
  try { parsed = JSON.parse(readFileSync(topicsFile, 'utf8')); } catch (err) { throw new UsageError(`cannot read ${topicsFile}: ${(err as Error).message}`); }
  const topics = (parsed as { topics?: unknown }).topics;
  if (!Array.isArray(topics) || !topics.every((t: unknown) => typeof (t as { topic?: unknown }).topic === 'string')) {
    throw new UsageError(`${topicsFile}: expected {"version":1,"topics":[{"topic":"t"}]}`);
  }
  const names = topics.map((t: unknown) => (t as { topic: string }).topic);
  const brokers = brokerList.split(',').map((s) => Number(s.trim()));
  if (brokers.some((b) => !Number.isInteger(b) || b < 0) || new Set(brokers).size !== brokers.length) throw new UsageError(`--broker-list must be distinct broker ids, got ${brokerList}`);
  const current = await currentAssignment(client, names);
  const proposed: PartitionAssignment[] = [];
  const random = new Random(Date.now() >>> 0);
  for (const name of names) {
    const parts = current.filter((p) => p.topic === name);
    const rf = parts[0]?.replicas.length ?? 1;
    if (rf > brokers.length) throw new ReassignmentFailed(`Replication factor: ${rf} larger than available brokers: ${brokers.length}.`);
    const assignment = assignReplicas([...brokers].sort((a, b) => a - b), parts.length, rf, random);
    parts.forEach((p, i) => proposed.push({ topic: name, partition: p.partition, replicas: assignment[i]! }));
  }
  println('Current partition replica assignment');
  println(formatAssignment(current));
  println();
  println('Proposed partition reassignment configuration');
  println(formatAssignment(proposed));
}

async function execute(client: KafkaClient, wanted: readonly PartitionAssignment[]): Promise<void> {
  const topics = [...new Set(wanted.map((p) => p.topic))];
  const current = (await currentAssignment(client, topics)).filter((c) => wanted.some((w) => w.topic === c.topic && w.partition === c.partition));
  println('Current partition replica assignment');
  println();
  println(formatAssignment(current));
  println();
  println('Save this to use as the --reassignment-json-file option during rollback');
  const results = await alterPartitionReassignments(client, wanted);
  const failed = results.filter((r) => r.errorCode !== 0);
  const ok = results.filter((r) => r.errorCode === 0).map((r) => `${r.topic}-${r.partition}`);
  if (ok.length > 0) println(`Successfully started partition reassignment${ok.length > 1 ? 's' : ''} for ${ok.join(',')}`);
  for (const r of failed) println(`Error reassigning partition(s): ${r.topic}-${r.partition}: ${errorName(r.errorCode)}${r.errorMessage !== null ? `: ${r.errorMessage}` : ''}`);
  if (failed.length > 0) throw new ReassignmentFailed(`${failed.length} partition reassignment(s) failed`);
}

async function verify(client: KafkaClient, wanted: readonly PartitionAssignment[]): Promise<void> {
  const ongoing = await listPartitionReassignments(client);
  const topics = [...new Set(wanted.map((p) => p.topic))];
  const current = await currentAssignment(client, topics);
  println('Status of partition reassignment:');
  let notDone = 0;
  for (const w of wanted) {
    const name = `${w.topic}-${w.partition}`;
    if (ongoing.some((o) => o.topic === w.topic && o.partition === w.partition)) {
      println(`Reassignment of partition ${name} is still in progress.`);
      notDone++;
      continue;
    }
    const c = current.find((x) => x.topic === w.topic && x.partition === w.partition);
    if (c !== undefined && JSON.stringify(c.replicas) === JSON.stringify(w.replicas)) {
      println(`Reassignment of partition ${name} is completed.`);
    } else {
      println(`There is no active reassignment of partition ${name}, but replica set is ${JSON.stringify(c?.replicas ?? [])} rather than ${JSON.stringify(w.replicas)}.`);
      notDone++;
    }
  }
  if (notDone > 0) throw new ReassignmentFailed(`${notDone} partition reassignment(s) not completed`);
}

async function cancel(client: KafkaClient, wanted: readonly PartitionAssignment[]): Promise<void> {
  const results = await alterPartitionReassignments(client, wanted.map((w) => ({ topic: w.topic, partition: w.partition, replicas: null })));
  const done = results.filter((r) => r.errorCode === 0).map((r) => `${r.topic}-${r.partition}`);
  const none = results.filter((r) => r.errorCode === 85).map((r) => `${r.topic}-${r.partition}`);
  const failed = results.filter((r) => r.errorCode !== 0 && r.errorCode !== 85);
  if (done.length > 0) println(`Successfully cancelled partition reassignment${done.length > 1 ? 's' : ''} for: ${done.join(',')}`);
  if (none.length > 0) println(`None of the specified partition reassignments are active: ${none.join(',')}`);
  for (const r of failed) println(`Error cancelling reassignment of ${r.topic}-${r.partition}: ${errorName(r.errorCode)}`);
  if (failed.length > 0) throw new ReassignmentFailed(`${failed.length} cancellation(s) failed`);
}
