// `npm run bench:groups` (issue 8): a benchmark, never a test.
// 3 broker processes (group.initial.rebalance.delay.ms=0), a topic of 100 partitions x RF 3:
//  1. Rebalance: 9 kafkajs consumers are stable; a 10th joins. Time from its run() until all 10
//     members have joined the new generation and their assignments cover the 100 partitions
//     exactly once. The 10th then leaves and the 9 settle again before the next run.
//     kafkajs consumers heartbeat every 100 ms here (its default is 3 s, which would dominate).
//  2. OffsetCommit: one client commits 100 partitions per request to the group coordinator
//     (standalone commits: generation -1, no member id), one request at a time, for a few seconds.
// Baseline: a Metadata round trip on the same cluster, same run.
// Env knobs: RAFTKA_BENCH_GROUP_RUNS (5), RAFTKA_BENCH_COMMIT_S (5).
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { KafkaClient } from '../../src/cli/client/client.js';
import { KafkaConnection } from '../../src/cli/client/connection.js';
import { createTopic } from '../../src/cli/client/admin.js';
import { FindCoordinatorApi, type FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import { OffsetCommitApi, type OffsetCommitResponse } from '../../protocol/generated/offset-commit.js';
import { envInt, fmt, machineNote, median, metadataRoundTripMs, percentile, progress, sleep, table } from './lib.js';

const RUNS = Math.max(1, envInt('RAFTKA_BENCH_GROUP_RUNS', 5));
const COMMIT_S = Math.max(1, envInt('RAFTKA_BENCH_COMMIT_S', 5));
const TOPIC = 'bench-groups';
const PARTITIONS = 100;
const MEMBERS = 10;

class Member {
  assignment: number[] = [];
  joins = 0;
  constructor(readonly consumer: Consumer) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.assignment = [...((e.payload.memberAssignment as Record<string, number[]>)[TOPIC] ?? [])];
      this.joins++;
    });
  }
}

/** Every member joined since `marks` and the assignments cover all partitions exactly once. */
function stable(members: Member[], marks: Map<Member, number>): boolean {
  if (members.some((m) => m.joins <= (marks.get(m) ?? -1))) return false;
  const owned = members.flatMap((m) => m.assignment);
  return owned.length === PARTITIONS && new Set(owned).size === PARTITIONS;
}

async function waitStable(members: Member[], marks: Map<Member, number>, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  while (!stable(members, marks)) {
    if (performance.now() - t0 > timeoutMs) throw new Error('group did not stabilise within 60 s');
    await sleep(5);
  }
  return performance.now() - t0;
}

async function startMember(kafka: Kafka, groupId: string): Promise<Member> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 100, maxWaitTimeInMs: 100, rebalanceTimeout: 30_000 });
  const m = new Member(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: false });
  return m;
}

async function benchRebalance(cluster: Cluster): Promise<number[]> {
  const kafka = new Kafka({ clientId: 'bench-groups', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING });
  const groupId = 'bench-rebalance';
  const members: Member[] = [];
  try {
    for (let i = 0; i < MEMBERS - 1; i++) {
      const m = await startMember(kafka, groupId);
      await m.consumer.run({ eachMessage: async () => undefined });
      members.push(m);
    }
    await waitStable(members, new Map());
    progress(`${MEMBERS - 1} members stable`);
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const joiner = await startMember(kafka, groupId);
      const marks = new Map(members.map((m) => [m, m.joins]));
      const t0 = performance.now();
      await joiner.consumer.run({ eachMessage: async () => undefined });
      const all = [...members, joiner];
      await waitStable(all, marks);
      const ms = performance.now() - t0;
      times.push(ms);
      progress(`rebalance run ${r + 1}/${RUNS}: ${MEMBERS} members stable ${fmt(ms, 0)} ms after the 10th joined`);
      const back = new Map(members.map((m) => [m, m.joins]));
      await joiner.consumer.disconnect();
      await waitStable(members, back);
    }
    return times;
  } finally {
    await Promise.allSettled(members.map((m) => m.consumer.disconnect()));
  }
}

async function benchCommit(cluster: Cluster): Promise<{ perRequestMs: number[]; requests: number; secs: number }> {
  const groupId = 'bench-commit';
  const client = await KafkaClient.connect(cluster.bootstrap);
  try {
    let coordinator: FindCoordinatorResponse | null = null;
    for (let i = 0; i < 50; i++) {
      const { body } = await client.anyBroker().request<FindCoordinatorResponse>(FindCoordinatorApi, { key: groupId, keyType: 0, coordinatorKeys: [groupId] }, { preferred: 3, min: 1 });
      if (body.errorCode === 0) { coordinator = body; break; }
      await sleep(200);
    }
    if (coordinator === null) throw new Error('no coordinator for the commit group');
    const conn = await KafkaConnection.open(coordinator.host, coordinator.port, { clientId: 'bench-commit' });
    try {
      const body = (offset: number): unknown => ({
        groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
        topics: [{ name: TOPIC, partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partitionIndex: p, committedOffset: BigInt(offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null })) }],
      });
      const check = (res: OffsetCommitResponse): void => {
        const bad = res.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0);
        if (bad !== undefined) throw new Error(`OffsetCommit error ${bad.errorCode} on partition ${bad.partitionIndex}`);
      };
      for (let i = 0; i < 20; i++) check((await conn.request<OffsetCommitResponse>(OffsetCommitApi, body(i), { preferred: 8, min: 2 })).body);
      const times: number[] = [];
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < COMMIT_S * 1000) {
        const s = performance.now();
        check((await conn.request<OffsetCommitResponse>(OffsetCommitApi, body(1000 + n), { preferred: 8, min: 2 })).body);
        times.push(performance.now() - s);
        n++;
      }
      return { perRequestMs: times, requests: n, secs: (performance.now() - t0) / 1000 };
    } finally {
      conn.close();
    }
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${machineNote()}\n\n`);
  progress('starting 3 brokers');
  const cluster = await startCluster({ size: 3, readyTimeoutMs: 60_000, config: { 'group.initial.rebalance.delay.ms': 0 } });
  try {
    const c = await KafkaClient.connect(cluster.bootstrap, { requestTimeoutMs: 120_000 });
    let rtt: number[];
    try {
      await c.metadata([]);
      const r = await createTopic(c, { name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, assignments: null, configs: new Map() }, 120_000);
      if (r.error !== null) throw r.error;
      rtt = await metadataRoundTripMs(c, 100);
    } finally {
      c.close();
    }
    const base = median(rtt);
    const reb = await benchRebalance(cluster);
    const commit = await benchCommit(cluster);
    progress(`OffsetCommit: ${commit.requests} requests in ${fmt(commit.secs, 1)} s`);
    const rate = commit.requests / commit.secs;
    table(`Consumer groups: 3 brokers, ${PARTITIONS} partitions x RF 3, group.initial.rebalance.delay.ms=0`,
      ['measure', 'runs', 'p50', 'p99 / max', 'p50 / Metadata RTT'],
      [
        [`${MEMBERS} kafkajs consumers stable after the 10th joins (ms)`, String(reb.length), fmt(median(reb), 0), fmt(Math.max(...reb), 0), fmt(median(reb) / base, 0)],
        ['OffsetCommit v8 of 100 partitions, one request at a time (ms per request)', String(commit.requests), fmt(median(commit.perRequestMs), 2), fmt(percentile(commit.perRequestMs, 99), 2), fmt(median(commit.perRequestMs) / base, 1)],
      ],
      [`OffsetCommit rate: ${fmt(rate, 0)} requests/s = ${fmt(rate * PARTITIONS, 0)} partition offsets/s over ${fmt(commit.secs, 1)} s. Metadata RTT p50 ${fmt(base, 2)} ms.`,
        'kafkajs consumers: heartbeatInterval 100 ms, sessionTimeout 10 s, maxWaitTimeInMs 100 (kafkajs learns of a rebalance from a heartbeat, so its default 3 s interval would dominate the figure).']);
  } finally {
    await cluster.destroy();
  }
}

main().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
