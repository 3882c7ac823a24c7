import { readFileSync } from 'node:fs';
import { intFlag, parseFlags, required, UsageError } from './args.js';
import { errorName, KafkaClient } from './client/client.js';
import { electLeaders } from './client/admin.js';
import { println } from './output.js';

export const LEADER_ELECTION_USAGE = `Usage: raftka leader-election --bootstrap-server HOST:PORT --election-type preferred|unclean
         (--all-topic-partitions | --topic T --partition N | --path-to-json-file FILE)   (like kafka-leader-election.sh)
`;

const ELECTION_NOT_NEEDED = 84;

/** Thrown when some partitions could not be elected (printed, then exit 1). */
export class ElectionFailed extends Error {}

/** raftka leader-election: kafka-leader-election.sh's flags and output. */
export async function leaderElectionCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, 'election-type': { type: 'string' }, 'all-topic-partitions': { type: 'boolean' },
    topic: { type: 'string' }, partition: { type: 'string' }, 'path-to-json-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(LEADER_ELECTION_USAGE); return; }
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const typeName = required('election-type', f['election-type']).toUpperCase();
  if (typeName !== 'PREFERRED' && typeName !== 'UNCLEAN') throw new UsageError(`Unknown election type '${f['election-type']}' (preferred or unclean)`);
  const sources = [f['all-topic-partitions'] === true, f.topic !== undefined, f['path-to-json-file'] !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new UsageError('One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file');
  if (f.topic !== undefined && f.partition === undefined) throw new UsageError('Missing required option(s) [partition]');
  if (f.partition !== undefined && f.topic === undefined) throw new UsageError('Option partition is only allowed if topic is used');
  let partitions: { topic: string; partition: number }[] | null = null;
  if (f.topic !== undefined) partitions = [{ topic: f.topic, partition: intFlag('partition', f.partition, { min: 0 })! }];
  if (f['path-to-json-file'] !== undefined) partitions = readPartitionsFile(f['path-to-json-file']);

  const client = await KafkaClient.connect(bootstrap);
  try {
    const results = await electLeaders(client, typeName === 'PREFERRED' ? 0 : 1, partitions);
    const name = (r: { topic: string; partition: number }): string => `${r.topic}-${r.partition}`;
    const succeeded = results.filter((r) => r.errorCode === 0).map(name);
    const noop = results.filter((r) => r.errorCode === ELECTION_NOT_NEEDED).map(name);
    const failed = results.filter((r) => r.errorCode !== 0 && r.errorCode !== ELECTION_NOT_NEEDED);
    if (succeeded.length > 0) println(`Successfully completed leader election (${typeName}) for partitions ${succeeded.join(', ')}`);
    if (noop.length > 0) println(`Valid replica already elected for partitions ${noop.join(', ')}`);
    for (const r of failed) {
      println(`Error completing leader election (${typeName}) for partition: ${name(r)}: ${errorName(r.errorCode)}${r.errorMessage !== null ? `: ${r.errorMessage}` : ''}`);
    }
    if (failed.length > 0) throw new ElectionFailed(`${failed.length} replica(s) could not be elected`);
  } finally {
    client.close();
  }
}

/** {"partitions": [{"topic": "t", "partition": 0}, ...]} */
function readPartitionsFile(path: string): { topic: string; partition: number }[] {
  let parsed: unknown;
  try { parsed = JSON.parse(readFileSync(path, 'utf8')); } catch (err) { throw new UsageError(`cannot read ${path}: ${(err as Error).message}`); }
  const list = (parsed as { partitions?: unknown }).partitions;
  if (!Array.isArray(list)) throw new UsageError(`${path}: expected {"partitions": [{"topic": "t", "partition": 0}]}`);
  return list.map((p: unknown, i) => {
    const e = p as { topic?: unknown; partition?: unknown };
    if (typeof e.topic !== 'string' || !Number.isInteger(e.partition)) throw new UsageError(`${path}: entry ${i} needs a string topic and an integer partition`);
    return { topic: e.topic, partition: e.partition as number };
  });
}
