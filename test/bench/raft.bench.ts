// `npm run bench:raft` (issue 5): a benchmark, never a test.
// 3 broker processes. Three sections (RAFTKA_BENCH_RAFT_SECTIONS, default all three, in this order):
// idle: idle cost first with no user partitions (only the metadata group), then with
// RAFTKA_BENCH_PARTITIONS partitions x RF 3 (1,000 by default; 10,000 with the knob; created as
// topics of 1,000 partitions each, one CreateTopics per topic; RAFTKA_BENCH_IDLE_STEPS=1000,10000
// measures at 0, 1,000 and 10,000 in one run, creating the rest between the windows):
//  - idle CPU per broker: /proc/<pid>/stat utime+stime over RAFTKA_BENCH_IDLE_S seconds (30),
//    as % of one core; RSS;
//  - traffic between idle brokers: TCP segments and bytes each broker process sends per second
//    (ss -tinp counters of its sockets; no client is connected during the window). The RaftHost
//    coalesces heartbeats per peer and quiesces idle groups, so this should not grow with the
//    number of groups.
// replication: the same record batches (16 x 1 KiB records, and 1,000 x 1 KiB records, about
// 1 MB, under message.max.bytes) appended (a) to a local PartitionLog in this process, each
// append followed by flush() (the broker's default flush policy: a leader fsyncs what it appended
// before it counts itself in the commit; concurrent flushes coalesce), with as many appends in
// flight as (b) has requests; and (b) produced through one partition x RF 3 at acks=all with raw
// Produce requests on one connection to its leader, RAFTKA_BENCH_REPL_INFLIGHT (8) in flight.
// MB/s of batch bytes and the ratio (b)/(a), alternated RAFTKA_BENCH_REPL_RUNS (3) times.
// failover: leader failover per group: SIGKILL a broker (never the active controller), and for
// each partition it led, the time until one of the two surviving replicas answers ListOffsets as
// leader (the Raft leadership itself), and until Metadata names a new leader (what clients see).
// With RAFTKA_BENCH_FAILOVER_PARTITIONS > 0 the trials use a topic of that many partitions of
// their own (so 20 trials fit in a few minutes); otherwise the idle section's partitions.
// Baseline: the same cluster with no user partitions (CPU, traffic); a Metadata RTT for latency;
// the local append (replication).
// Env knobs: RAFTKA_BENCH_PARTITIONS (1000), RAFTKA_BENCH_IDLE_S (30), RAFTKA_BENCH_SETTLE_S (5),
//   RAFTKA_BENCH_IDLE_STEPS (the one step RAFTKA_BENCH_PARTITIONS), RAFTKA_BENCH_IDLE_LAST_WINDOWS (1:
//   consecutive windows at the last step), RAFTKA_BENCH_IDLE_HOLD_S (0: keep the idle cluster this
//   long after the windows, its pids printed, e.g. to attach a profiler), RAFTKA_BENCH_FAILOVER_TRIALS (2), RAFTKA_BENCH_FAILOVER_PARTITIONS (0: the idle section's),
//   RAFTKA_BENCH_RAFT_SECTIONS (idle,replication,failover), RAFTKA_BENCH_REPL_S (3: seconds per
//   path, shape and run), RAFTKA_BENCH_REPL_INFLIGHT (8), RAFTKA_BENCH_REPL_RUNS (3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterBroker } from '../../compat/harness.js';
import { KafkaClient } from '../../src/cli/client/client.js';
import type { KafkaConnection } from '../../src/cli/client/connection.js';
import { createTopic, electLeaders } from '../../src/cli/client/admin.js';
import { ListOffsetsApi, type ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import { ProduceApi, type ProduceResponse } from '../../protocol/generated/produce.js';
import { buildRecordBatch } from '../../protocol/records/record.js';
import { PartitionLog } from '../../src/storage/log.js';
import {
  cpuSeconds, envInt, fmt, machineNote, median, metadataRoundTripMs, percentile, progress, rssMiB, sleep, spreadPct, table, tcpCounters, tcpDelta,
} from './lib.js';

const PARTITIONS = Math.max(1, envInt('RAFTKA_BENCH_PARTITIONS', 1000));
/** Partition counts the idle section measures at, ascending (e.g. "1000,10000": 0, 1,000 and 10,000 in one run). */
const IDLE_STEPS = ((): number[] => {
  const v = process.env.RAFTKA_BENCH_IDLE_STEPS;
  const steps = v === undefined || v === '' ? [PARTITIONS] : v.split(',').map((x) => Number(x.trim()));
  if (steps.some((x, i) => !Number.isInteger(x) || x < 1 || (i > 0 && x <= steps[i - 1]!))) throw new Error(`RAFTKA_BENCH_IDLE_STEPS must be ascending positive integers, got ${v}`);
  return steps;
})();
const IDLE_S = Math.max(1, envInt('RAFTKA_BENCH_IDLE_S', 30));
const SETTLE_S = envInt('RAFTKA_BENCH_SETTLE_S', 5);
const TRIALS = envInt('RAFTKA_BENCH_FAILOVER_TRIALS', 2);
const LAST_WINDOWS = Math.max(1, envInt('RAFTKA_BENCH_IDLE_LAST_WINDOWS', 1));
const HOLD_S = envInt('RAFTKA_BENCH_IDLE_HOLD_S', 0);
const FAILOVER_PARTITIONS = envInt('RAFTKA_BENCH_FAILOVER_PARTITIONS', 0);
const SECTIONS = new Set((process.env.RAFTKA_BENCH_RAFT_SECTIONS ?? 'idle,replication,failover').split(',').map((x) => x.trim()).filter((x) => x !== ''));
const REPL_S = Math.max(1, envInt('RAFTKA_BENCH_REPL_S', 3));
const REPL_INFLIGHT = Math.max(1, envInt('RAFTKA_BENCH_REPL_INFLIGHT', 8));
const REPL_RUNS = Math.max(1, envInt('RAFTKA_BENCH_REPL_RUNS', 3));
const PER_TOPIC = 1000;

interface Idle { cpuPct: number[]; segsPerS: number[]; bytesPerS: number[]; rss: number[] }

async function measureIdle(cluster: Cluster, label: string): Promise<Idle> {
  const pids = cluster.brokers.map((b) => b.pid);
  progress(`${label}: measuring idle CPU and traffic for ${IDLE_S} s`);
  const cpu0 = pids.map(cpuSeconds);
  const tcp0 = tcpCounters(pids);
  const t0 = performance.now();
  const step = Math.max(1, Math.floor(IDLE_S / 3));
  for (let left = IDLE_S; left > 0; left -= step) {
    await sleep(Math.min(step, left) * 1000);
    progress(`${label}: ${Math.max(0, left - step)} s left`);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = pids.map(cpuSeconds);
  const d = tcpDelta(tcp0, tcpCounters(pids));
  return {
    cpuPct: pids.map((_, i) => ((cpu1[i]! - cpu0[i]!) / secs) * 100),
    segsPerS: pids.map((p) => (d.get(p)?.segs ?? 0) / secs),
    bytesPerS: pids.map((p) => (d.get(p)?.bytes ?? 0) / secs),
    rss: pids.map(rssMiB),
  };
}

async function createPartitions(cluster: Cluster, total: number, prefix: string): Promise<string[]> {
  const topics: string[] = [];
  const c = await KafkaClient.connect(cluster.bootstrap, { requestTimeoutMs: 300_000 });
  try {
    await c.metadata([]);
    for (let made = 0; made < total; made += PER_TOPIC) {
      const name = `${prefix}-${topics.length}`;
      const n = Math.min(PER_TOPIC, total - made);
      const t0 = performance.now();
      const r = await createTopic(c, { name, numPartitions: n, replicationFactor: 3, assignments: null, configs: new Map() }, 300_000);
      if (r.error !== null) throw r.error;
      topics.push(name);
      progress(`created ${name} (${n} partitions x RF 3) in ${fmt(performance.now() - t0, 0)} ms`);
    }
  } finally {
    c.close();
  }
  return topics;
}

interface Led { topic: string; partition: number; survivors: number[] }

async function listOffsetsLeaders(conn: KafkaConnection, parts: Led[]): Promise<Set<string>> {
  const byTopic = new Map<string, number[]>();
  for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  const { body } = await conn.request<ListOffsetsResponse>(ListOffsetsApi, {
    replicaId: -1, isolationLevel: 0, timeoutMs: 5000,
    topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) })),
  }, { preferred: 7, min: 1, timeoutMs: 5000 });
  const out = new Set<string>();
  for (const t of body.topics) for (const p of t.partitions) if (p.errorCode === 0) out.add(`${t.name}/${p.partitionIndex}`);
  return out;
}

interface Trial { victim: number; raftMs: number[]; metadataMs: number[]; missing: number }

async function failoverTrial(cluster: Cluster, topics: string[], victim: ClusterBroker): Promise<Trial> {
  const survivors = cluster.brokers.filter((b) => b !== victim);
  const client = await KafkaClient.connect(`127.0.0.1:${survivors[0]!.port}`, { requestTimeoutMs: 10_000 });
  try {
    const md = await client.metadata(topics);
    const led: Led[] = md.topics.flatMap((t) => t.partitions.filter((p) => p.leader === victim.nodeId)
      .map((p) => ({ topic: t.name, partition: p.partition, survivors: p.replicas.filter((r) => r !== victim.nodeId) })));
    const conns = new Map<number, KafkaConnection>();
    for (const s of survivors) conns.set(s.nodeId, await client.broker(s.nodeId));
    const raftAt = new Map<string, number>();
    const mdAt = new Map<string, number>();
    const key = (p: { topic: string; partition: number }): string => `${p.topic}/${p.partition}`;
    const ledKeys = new Set(led.map(key));
    const t0 = performance.now();
    await victim.kill();
    while ((raftAt.size < led.length || mdAt.size < led.length) && performance.now() - t0 < 60_000) {
      const pending = led.filter((p) => !raftAt.has(key(p)));
      const answers = await Promise.all([...conns].map(([id, conn]) =>
        listOffsetsLeaders(conn, pending.filter((p) => p.survivors.includes(id))).catch(() => new Set<string>())));
      const now = performance.now() - t0;
      for (const set of answers) for (const k of set) if (!raftAt.has(k)) raftAt.set(k, now);
      if (mdAt.size < led.length) {
        const m = await client.metadata(topics);
        const at = performance.now() - t0;
        for (const t of m.topics) for (const p of t.partitions) {
          const k = `${t.name}/${p.partition}`;
          if (ledKeys.has(k) && !mdAt.has(k) && p.errorCode === 0 && p.leader >= 0 && p.leader !== victim.nodeId) mdAt.set(k, at);
        }
      }
      await sleep(20);
    }
    const metadataMs = [...mdAt.values()];
    return { victim: victim.nodeId, raftMs: [...raftAt.values()], metadataMs, missing: led.length - Math.min(raftAt.size, metadataMs.length) };
  } finally {
    client.close();
  }
}

async function restore(cluster: Cluster, victim: ClusterBroker, topics: string[]): Promise<void> {
  await victim.restart();
  await cluster.waitReady(120_000);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const c = await KafkaClient.connect(cluster.bootstrap, { requestTimeoutMs: 60_000 });
    try {
      const md = await c.metadata(topics);
      const off = md.topics.flatMap((t) => t.partitions).filter((p) => p.leader !== p.replicas[0]).length;
      if (off === 0) return;
      await electLeaders(c, 0, null, 30_000).catch(() => undefined);
    } finally {
      c.close();
    }
    if (Date.now() > deadline) throw new Error('preferred leaders not restored within 120 s');
    await sleep(1000);
  }
}

// ---- replication: one group x RF 3 at acks=all vs a local append of the same batches ----------

interface Shape { name: string; records: number; batch: Buffer }

function shapes(): Shape[] {
  const make = (records: number): Buffer => buildRecordBatch({
    records: Array.from({ length: records }, (_, i) => ({ key: null, value: Buffer.alloc(1024, 0x41 + (i % 26)), timestamp: BigInt(Date.now()) })),
  });
  return [
    { name: '16 x 1 KiB records', records: 16, batch: make(16) },
    { name: '1,000 x 1 KiB records', records: 1000, batch: make(1000) },
  ];
}

/**
 * MB/s of appends of `batch` to a fresh local PartitionLog for `seconds`, `inflight` appenders each
 * waiting for flush() (fdatasync) after its append: the broker's default policy, where a leader
 * fsyncs what it appended before acknowledging at acks=all, and flushes asked while one runs
 * share the next one.
 */
async function localAppend(root: string, original: Buffer, seconds: number, inflight: number): Promise<{ mbps: number; batches: number }> {
  const batch = Buffer.from(original); // appendAsLeader writes offsets and epoch into it; the Produce path sends the original
  const dir = mkdtempSync(join(root, 'local-'));
  const log = await PartitionLog.open(dir);
  try {
    await log.flush(); // the new directory's entry, outside the timed region (as for a running broker)
    let done = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    await Promise.all(Array.from({ length: inflight }, async () => {
      while (performance.now() < end) {
        log.appendAsLeader(batch, 1);
        await log.flush();
        done++;
      }
    }));
    const ms = performance.now() - t0;
    return { mbps: (done * batch.length) / 1e6 / (ms / 1000), batches: done };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** MB/s of raw Produce requests (one `batch` each, acks=all) to `topic`-0's leader for `seconds`, `inflight` at a time. */
async function clusterProduce(conn: KafkaConnection, topic: string, batch: Buffer, seconds: number, inflight: number): Promise<{ mbps: number; batches: number }> {
  let done = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (performance.now() < end) {
      const { body } = await conn.request<ProduceResponse>(ProduceApi, {
        transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
      }, { timeoutMs: 60_000 });
      const err = body.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
      if (err !== 0) throw new Error(`Produce to ${topic}-0 failed: error ${err}`);
      done++;
    }
  }));
  const ms = performance.now() - t0;
  return { mbps: (done * batch.length) / 1e6 / (ms / 1000), batches: done };
}

async function replication(cluster: Cluster): Promise<void> {
  const topic = 'bench-raft-replication';
  const root = mkdtempSync(join(tmpdir(), 'raftka-bench-raft-'));
  const c = await KafkaClient.connect(cluster.bootstrap, { requestTimeoutMs: 60_000 });
  try {
    await c.metadata([]);
    const r = await createTopic(c, { name: topic, numPartitions: 1, replicationFactor: 3, assignments: null, configs: new Map() }, 60_000);
    if (r.error !== null) throw r.error;
    let leader = -1;
    for (const deadline = Date.now() + 30_000; leader < 0; await sleep(100)) {
      // the broker answering Metadata may learn the new partition's leader a moment after CreateTopics returns
      leader = (await c.metadata([topic])).topics[0]?.partitions[0]?.leader ?? -1;
      if (leader < 0 && Date.now() > deadline) throw new Error(`${topic}-0 has no leader 30 s after CreateTopics`);
    }
    const conn = await c.broker(leader);
    const rows: string[][] = [];
    for (const shape of shapes()) {
      // Warm-up of both paths (JIT, connection, segment files), not timed.
      await localAppend(root, shape.batch, 0.5, REPL_INFLIGHT);
      await clusterProduce(conn, topic, shape.batch, 0.5, REPL_INFLIGHT);
      const local: number[] = [];
      const remote: number[] = [];
      const ratios: number[] = [];
      const batches: number[] = [];
      for (let run = 0; run < REPL_RUNS; run++) {
        const a = await localAppend(root, shape.batch, REPL_S, REPL_INFLIGHT);
        const b = await clusterProduce(conn, topic, shape.batch, REPL_S, REPL_INFLIGHT);
        local.push(a.mbps);
        remote.push(b.mbps);
        ratios.push(b.mbps / a.mbps);
        batches.push(a.batches, b.batches);
        progress(`replication ${shape.name}, run ${run + 1}/${REPL_RUNS}: local append+flush ${fmt(a.mbps, 1)} MB/s (${a.batches} batches), RF 3 acks=all ${fmt(b.mbps, 1)} MB/s (${b.batches} batches), ratio ${fmt(b.mbps / a.mbps, 3)}`);
      }
      rows.push([`${shape.name} (${fmt(shape.batch.length / 1024, 1)} KiB batch), ${Math.min(...batches)}-${Math.max(...batches)} batches per ${REPL_S} s run`,
        fmt(median(local), 1), fmt(median(remote), 1), fmt(median(ratios), 3),
        `${fmt(Math.min(...ratios), 3)}-${fmt(Math.max(...ratios), 3)}`, `${fmt(spreadPct(local), 0)}% / ${fmt(spreadPct(remote), 0)}%`]);
    }
    table(`Replication: one partition x RF 3 at acks=all vs a local append of the same batches (median of ${REPL_RUNS} alternated runs of ${REPL_S} s each)`,
      ['batches', 'local PartitionLog append+flush MB/s', 'RF 3 acks=all MB/s', 'ratio RF 3 / local (median)', 'ratio min-max', 'spread local / RF 3'],
      rows,
      [`Local: PartitionLog.appendAsLeader + flush() (fdatasync) in this process, ${REPL_INFLIGHT} appenders each waiting for its flush (concurrent flushes coalesce), on the same filesystem as the brokers' data directories.`,
        `RF 3: raw Produce requests (acks=-1, one batch each) on one connection to the partition's leader (broker ${leader}), ${REPL_INFLIGHT} in flight; the broker acknowledges once the batch is committed (fsynced on a majority, 2 of the 3 replicas). MB = 10^6 bytes of record batches.`]);
  } finally {
    c.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function failover(cluster: Cluster, topics: string[], partitions: number): Promise<void> {
  const rtt = await (async () => { const c = await KafkaClient.connect(cluster.bootstrap); try { return await metadataRoundTripMs(c, 100); } finally { c.close(); } })();
  const trials: Trial[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const controllerId = await (async () => { const c = await KafkaClient.connect(cluster.bootstrap); try { return (await c.metadata([])).controllerId; } finally { c.close(); } })();
    const candidates = cluster.brokers.filter((b) => b.nodeId !== controllerId);
    const victim = candidates[i % candidates.length]!;
    const t = await failoverTrial(cluster, topics, victim);
    trials.push(t);
    progress(`failover trial ${i + 1}/${TRIALS}: broker ${victim.nodeId} killed, ${t.raftMs.length} groups: Raft leader p50 ${fmt(median(t.raftMs), 0)} ms p99 ${fmt(percentile(t.raftMs, 99), 0)} ms; Metadata p50 ${fmt(median(t.metadataMs), 0)} ms p99 ${fmt(percentile(t.metadataMs, 99), 0)} ms${t.missing > 0 ? `; ${t.missing} groups without a new leader after 60 s` : ''}`);
    if (i + 1 < TRIALS) { progress('restarting the victim and restoring preferred leaders'); await restore(cluster, victim, topics); }
  }
  const raft = trials.flatMap((t) => t.raftMs);
  const md = trials.flatMap((t) => t.metadataMs);
  const perTrial = (xs: (t: Trial) => number[]): number[] => trials.map((t) => percentile(xs(t), 99));
  const raftP99s = perTrial((t) => t.raftMs);
  const mdP99s = perTrial((t) => t.metadataMs);
  table(`Leader failover per group after SIGKILL of a (non-controller) broker, ${partitions} partitions x RF 3, ${TRIALS} trials`,
    ['leadership seen by', 'groups (all trials)', 'p50 ms', 'p99 ms', 'max ms', 'p50 / Metadata RTT', 'per-trial p99: median (min-max) ms', 'trials with p99 < 1 s'],
    [
      ['a survivor answering ListOffsets as leader (Raft)', String(raft.length), fmt(median(raft), 0), fmt(percentile(raft, 99), 0), fmt(Math.max(...raft), 0), fmt(median(raft) / median(rtt), 0),
        `${fmt(median(raftP99s), 0)} (${fmt(Math.min(...raftP99s), 0)}-${fmt(Math.max(...raftP99s), 0)})`, `${raftP99s.filter((x) => x < 1000).length} of ${TRIALS}`],
      ['Metadata naming a live leader (clients)', String(md.length), fmt(median(md), 0), fmt(percentile(md, 99), 0), fmt(Math.max(...md), 0), fmt(median(md) / median(rtt), 0),
        `${fmt(median(mdP99s), 0)} (${fmt(Math.min(...mdP99s), 0)}-${fmt(Math.max(...mdP99s), 0)})`, `${mdP99s.filter((x) => x < 1000).length} of ${TRIALS}`],
    ],
    [`Default timeouts: Raft tick 100 ms, heartbeat 1 tick, election timeout 10 ticks (randomised 1-2 s), host peer timeout 10 ticks (1 s); broker.session.timeout.ms 9000. Polling every 20 ms; Metadata RTT p50 ${fmt(median(rtt), 2)} ms.`,
      `p50/p99/max over every group of every trial; per-trial p99 over that trial's groups (about ${Math.round(partitions / 3)} each).`,
      ...trials.filter((t) => t.missing > 0).map((t) => `- broker ${t.victim}: ${t.missing} groups had no new leader after 60 s`)]);
}

async function main(): Promise<void> {
  process.stdout.write(`${machineNote()}\n\n`);
  progress(`sections: ${[...SECTIONS].join(', ')}`);
  progress('starting 3 brokers');
  const cluster = await startCluster({ size: 3, readyTimeoutMs: 60_000 });
  try {
    await sleep(SETTLE_S * 1000);
    const topics: string[] = [];
    if (SECTIONS.has('idle')) {
      const base = await measureIdle(cluster, 'no user partitions');
      const measured: { n: number; label: string; idle: Idle }[] = [];
      for (const [k, n] of IDLE_STEPS.entries()) {
        const have = k === 0 ? 0 : IDLE_STEPS[k - 1]!;
        topics.push(...await createPartitions(cluster, n - have, `bench-raft-s${k}`));
        await sleep(SETTLE_S * 1000);
        const windows = k === IDLE_STEPS.length - 1 ? LAST_WINDOWS : 1;
        for (let w = 1; w <= windows; w++) {
          measured.push({ n, label: windows === 1 ? n.toLocaleString('en-US') : `${n.toLocaleString('en-US')} (window ${w} of ${windows})`, idle: await measureIdle(cluster, `${n} partitions`) });
        }
      }
      if (HOLD_S > 0) {
        progress(`holding the idle cluster for ${HOLD_S} s (broker pids ${cluster.brokers.map((b) => `${b.nodeId}:${b.pid}`).join(', ')})`);
        await sleep(HOLD_S * 1000);
      }
      const row = (label: string, x: Idle): string[][] => cluster.brokers.map((b, i) => [
        `${label}, broker ${b.nodeId}`, fmt(x.cpuPct[i]!, 2), fmt(x.segsPerS[i]!, 1), fmt(x.bytesPerS[i]! / 1024, 2), fmt(x.rss[i]!, 0),
      ]);
      const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
      table(`Idle brokers: 3 processes, ${IDLE_S} s windows`,
        ['groups (partitions x RF 3)', 'CPU % of one core', 'TCP segments sent/s', 'KiB sent/s', 'RSS MiB'],
        [...row('0 (metadata group only)', base), ...measured.flatMap((m) => row(m.label, m.idle))],
        [...measured.map((m) => `Ratios ${m.label} partitions / none (sum over brokers): CPU ${fmt(sum(m.idle.cpuPct) / Math.max(1e-9, sum(base.cpuPct)), 2)}x, segments ${fmt(sum(m.idle.segsPerS) / Math.max(1e-9, sum(base.segsPerS)), 2)}x, bytes ${fmt(sum(m.idle.bytesPerS) / Math.max(1e-9, sum(base.bytesPerS)), 2)}x.`),
          'CPU from /proc/<pid>/stat (utime+stime); traffic from `ss -tinp` counters of every socket of the broker process (inter-broker only: no client is connected during the window). Settle time before each window: ' + `${SETTLE_S} s.`]);
    }
    if (SECTIONS.has('replication')) await replication(cluster);
    if (SECTIONS.has('failover') && TRIALS > 0) {
      let failoverTopics = topics;
      let n = topics.length > 0 ? IDLE_STEPS[IDLE_STEPS.length - 1]! : PARTITIONS;
      if (FAILOVER_PARTITIONS > 0) {
        failoverTopics = await createPartitions(cluster, FAILOVER_PARTITIONS, 'bench-raft-failover');
        n = FAILOVER_PARTITIONS;
        await sleep(SETTLE_S * 1000);
      } else if (failoverTopics.length === 0) {
        failoverTopics = await createPartitions(cluster, PARTITIONS, 'bench-raft');
        await sleep(SETTLE_S * 1000);
      }
      await failover(cluster, failoverTopics, n);
    }
  } finally {
    await cluster.destroy();
  }
}

main().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
