import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel, type Consumer as KafkajsConsumer } from 'kafkajs';
import { Consumer as PlatformaticConsumer, stringDeserializers, type GroupAssignment, type Message } from '@platformatic/kafka';
import type { ConsumedRecord } from '../records.js';
import { KCAT } from './kcat.js';
import { PYTHON, pythonScript } from './python.js';
import { tail } from './process.js';

/**
 * One member of a consumer group as scenario 4 drives it: subscribes to one topic, reports every
 * assignment it gets and every record it reads, commits what it read (synchronously, before the
 * next poll) and leaves the group on stop().
 */
export interface GroupMember {
  readonly label: string;
  /** The partitions of the latest assignment (null before the first). */
  readonly assignment: number[] | null;
  /** Every record read, with the assignment it was read under. */
  readonly records: ConsumedRecord[];
  /** Calls `listener` on every assignment, record and failure; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** The member's failure (client error, early exit), if any. */
  readonly failure: Error | null;
  /** Commits, leaves the group and ends the member. */
  stop(): Promise<void>;
  /** Client output for failure messages. */
  output(): string;
}

export type StartMember = (bootstrap: string[], topic: string, group: string, label: string) => Promise<GroupMember>;

/** Shared bookkeeping: assignment, records and waiters. */
class MemberState {
  assignment: number[] | null = null;
  readonly records: ConsumedRecord[] = [];
  failure: Error | null = null;
  log = '';
  private waiters = new Set<() => void>();

  constructor(readonly label: string) {}

  assigned(partitions: number[]): void { this.assignment = [...partitions].sort((a, b) => a - b); this.log += `assigned [${this.assignment.join(',')}]\n`; this.changed(); }
  record(r: ConsumedRecord): void { this.records.push(r); this.changed(); }
  fail(err: Error): void { this.failure ??= err; this.changed(); }
  changed(): void { for (const w of [...this.waiters]) w(); }

  subscribe(listener: () => void): () => void {
    this.waiters.add(listener);
    return () => { this.waiters.delete(listener); };
  }
}

/**
 * Resolves once `condition` holds, checked whenever any of `members` changes; rejects when a
 * member fails or after `timeoutMs`, describing every member.
 */
export function waitForMembers(members: GroupMember[], condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const describe = (): string => members.map((m) => `${m.label}: assignment [${m.assignment?.join(',') ?? 'none'}], ${m.records.length} records\n${tail(m.output(), 8)}`).join('\n');
  return new Promise((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    const done = (): void => { clearTimeout(timer); unsubscribe.forEach((u) => u()); };
    const check = (): void => {
      const failed = members.find((m) => m.failure !== null);
      if (failed !== undefined) { done(); reject(new Error(`${failed.label} failed while waiting for ${what}: ${failed.failure!.message}\n${describe()}`)); return; }
      if (condition()) { done(); resolve(); }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no ${what} after ${timeoutMs} ms\n${describe()}`)); }, timeoutMs);
    for (const m of members) unsubscribe.push(m.subscribe(check));
    check();
  });
}

const text = (v: Buffer | string | (Buffer | string)[] | null | undefined): string => {
  if (Array.isArray(v)) throw new Error('repeated header');
  return v === null || v === undefined ? '' : v.toString();
};

const startKafkajs: StartMember = async (bootstrap, topic, group, label) => {
  const state = new MemberState(label);
  const kafka = new Kafka({ clientId: 'raftka-compat-kafkajs', brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  const consumer: KafkajsConsumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 500, heartbeatInterval: 300, sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
  consumer.on(consumer.events.GROUP_JOIN, (e) => state.assigned(e.payload.memberAssignment[topic] ?? []));
  consumer.on(consumer.events.CRASH, (e) => state.fail(e.payload.error));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      for (const m of batch.messages) {
        state.record({ partition: batch.partition, offset: Number(m.offset), key: text(m.key), value: text(m.value),
          headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, text(v)])) });
        resolveOffset(m.offset);
      }
      const last = batch.messages.at(-1);
      if (last !== undefined) await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
    },
  });
  return {
    label, get assignment() { return state.assignment; }, records: state.records,
    subscribe: (l) => state.subscribe(l), get failure() { return state.failure; }, output: () => state.log,
    async stop() { await consumer.disconnect(); },
  };
};

const startPlatformatic: StartMember = async (bootstrap, topic, group, label) => {
  const state = new MemberState(label);
  const consumer = new PlatformaticConsumer({ clientId: 'raftka-compat-platformatic', bootstrapBrokers: bootstrap, groupId: group,
    deserializers: stringDeserializers, heartbeatInterval: 300, sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
  consumer.on('consumer:group:join', (e: { assignments: GroupAssignment[] | null }) =>
    state.assigned((e.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions)));
  const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500 });
  const loop = (async () => {
    for await (const m of stream as AsyncIterable<Message<string, string, string, string>>) {
      await m.commit();
      state.record({ partition: m.partition, offset: Number(m.offset), key: m.key, value: m.value, headers: Object.fromEntries(m.headers) });
    }
  })().catch((err: unknown) => state.fail(err as Error));
  return {
    label, get assignment() { return state.assignment; }, records: state.records,
    subscribe: (l) => state.subscribe(l), get failure() { return state.failure; }, output: () => state.log,
    async stop() { await consumer.close(true); await loop; },
  };
};

interface MemberLine { assigned?: number[]; record?: ConsumedRecord; error?: string }

/**
 * A member in a child process that prints JSON lines ({"assigned": [...]} / {"record": {...}}) on
 * stdout; `parseStderr` turns other output (kcat's rebalance lines) into lines too.
 */
function childMember(label: string, command: string, args: string[], stopWith: 'stdin' | 'SIGTERM',
  parseStdout: (line: string) => MemberLine, parseStderr: ((line: string) => MemberLine | null) | null): GroupMember {
  const state = new MemberState(label);
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid;
  const killOnExit = (): void => { if (pid !== undefined) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.once('exit', killOnExit);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    process.off('exit', killOnExit);
    if (!stopping) state.fail(new Error(`exited (code ${code}) before stop():\n${tail(state.log)}`));
    resolve(code);
  }));
  const apply = (l: MemberLine): void => {
    if (l.assigned !== undefined) state.assigned(l.assigned);
    if (l.record !== undefined) state.record(l.record);
    if (l.error !== undefined) state.fail(new Error(l.error));
  };
  const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void): void => {
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); if (line.trim() !== '') each(line); }
    });
  };
  lines(child.stdout!, (line) => { try { apply(parseStdout(line)); } catch (err) { state.fail(new Error(`bad output line ${line}: ${(err as Error).message}`)); } });
  lines(child.stderr!, (line) => {
    state.log += line + '\n';
    const l = parseStderr?.(line);
    if (l) apply(l);
  });
  child.stdin!.on('error', () => undefined);
  return {
    label, get assignment() { return state.assignment; }, records: state.records,
    subscribe: (l) => state.subscribe(l), get failure() { return state.failure; }, output: () => state.log,
    async stop() {
      stopping = true;
      if (stopWith === 'stdin') child.stdin!.end(); else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0 && stopWith === 'stdin') throw new Error(`${label} exited with ${code} on stop:\n${tail(state.log)}`);
    },
  };
}

const pythonMember = (scriptName: string): StartMember => async (bootstrap, topic, group, label) =>
  childMember(label, PYTHON, [pythonScript(scriptName), 'group-member', bootstrap.join(','), topic, JSON.stringify({ group })], 'stdin',
    (line) => JSON.parse(line) as MemberLine, null);

interface KcatJson { partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] }

const startKcat: StartMember = async (bootstrap, topic, group, label) => {
  // kcat -G: the balanced consumer; librdkafka auto-commits (and commits on close, at SIGTERM).
  const args = ['-b', bootstrap.join(','), '-G', group, '-J', '-u', '-X', 'auto.offset.reset=earliest', '-X', 'heartbeat.interval.ms=300',
    '-X', 'auto.commit.interval.ms=200', '-X', 'session.timeout.ms=10000', topic];
  const member = childMember(label, KCAT, args, 'SIGTERM', (line) => ({ record: kcatRecord(line) }), (line) => {
    // "% Group G rebalanced (memberid ...): assigned: topic [0], topic [2]" / "revoked: ..."
    const m = /rebalanced .*: (assigned|revoked): ?(.*)$/.exec(line);
    if (m === null) return null;
    if (m[1] === 'revoked') return { assigned: [] };
    return { assigned: [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])) };
  });
  return member;
};

/** kcat prints records as JSON lines (-J) on stdout: wrap them as {"record": ...}. */
export function kcatRecord(json: string): ConsumedRecord {
  const m = JSON.parse(json) as KcatJson;
  const headers: Record<string, string> = {};
  const h = m.headers ?? [];
  for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]!] = h[i + 1]!;
  return { partition: m.partition, offset: m.offset, key: m.key ?? '', value: m.payload ?? '', headers };
}

/** Group members by client name (every client in the suite has a group consumer). */
export const GROUP_MEMBERS: Record<string, StartMember> = {
  kafkajs: startKafkajs,
  '@platformatic/kafka': startPlatformatic,
  kcat: startKcat,
  'kafka-python': pythonMember('kafka_python_client.py'),
  'confluent-kafka': pythonMember('confluent_client.py'),
};
