// `npm run bench:cluster` (issue 6): a benchmark, never a test.
// On 3 broker processes (default settings):
//  1. CreateTopics of 1, 100 and 1,000 partitions x RF 3: time until the answer, p50 over runs,
//     and the share of partitions led by their preferred replica in the Metadata sent right after
//     the answer (target 100%). Every run creates a fresh topic and deletes it afterwards.
//  2. Failover: SIGKILL one broker (victims rotate over all three, the active controller
//     included), then poll Metadata on a survivor every 10 ms until every partition the victim
//     led has another leader. The victim is restarted and preferred leaders are re-elected
//     between trials.
// Baseline: a Metadata round trip (no topics) on the same cluster, same run.
// Env knobs: RAFTKA_BENCH_CREATE_RUNS (5), RAFTKA_BENCH_CREATE_1000_RUNS (2),
//   RAFTKA_BENCH_FAILOVER_TRIALS (3: one per broker), RAFTKA_BENCH_FAILOVER_PARTITIONS (30),
//   RAFTKA_BENCH_SESSION_TIMEOUT_MS (unset: the broker default broker.session.timeout.ms).
import { startCluster, type Cluster, type ClusterBroker } from '../../compat/harness.js';
import { KafkaClient } from '../../src/cli/client/client.js';
import { createTopic, deleteTopics, electLeaders } from '../../src/cli/client/admin.js';
import {
  envInt, fmt, leaderShare, machineNote, median, metadataRoundTripMs, percentile, progress, sleep, table,
} from './lib.js';

const CREATE_RUNS = envInt('RAFTKA_BENCH_CREATE_RUNS', 5);
const CREATE_1000_RUNS = envInt('RAFTKA_BENCH_CREATE_1000_RUNS', 2);
const FAILOVER_TRIALS = envInt('RAFTKA_BENCH_FAILOVER_TRIALS', 3);
const FAILOVER_PARTITIONS = envInt('RAFTKA_BENCH_FAILOVER_PARTITIONS', 30);
/** Unset: the broker's default broker.session.timeout.ms (9000). */
const SESSION_TIMEOUT_MS = process.env['RAFTKA_BENCH_SESSION_TIMEOUT_MS'];

async function withClient<T>(bootstrap: string, fn: (c: KafkaClient) => Promise<T>): Promise<T> {
  const c = await KafkaClient.connect(bootstrap, { requestTimeoutMs: 60_000 });
  try { return await fn(c); } finally { c.close(); }
}

interface CreateRun { ms: number; preferred: number; withLeader: number; partitions: number; error: string | null }

async function createOnce(cluster: Cluster, name: string, partitions: number): Promise<CreateRun> {
  return withClient(cluster.bootstrap, async (c) => {
    await c.metadata([]); // controller location, so the timed part is the CreateTopics round trip only
    const t0 = performance.now();
    const r = await createTopic(c, { name, numPartitions: partitions, replicationFactor: 3, assignments: null, configs: new Map() }, 60_000);
    const ms = performance.now() - t0;
    const share = leaderShare(await c.metadata([name]), name);
    return { ms, ...share, error: r.error === null ? null : r.error.message };
  });
}

async function deleteTopic(cluster: Cluster, name: string): Promise<void> {
  await withClient(cluster.bootstrap, async (c) => { await c.metadata([]); await deleteTopics(c, [name], 60_000); });
}

async function benchCreate(cluster: Cluster, baselineMs: number): Promise<void> {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const [partitions, runs] of [[1, CREATE_RUNS], [100, CREATE_RUNS], [1000, CREATE_1000_RUNS]] as const) {
    const results: CreateRun[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `bench-create-${partitions}-${i}`;
      const r = await createOnce(cluster, name, partitions);
      progress(`create ${partitions} partitions run ${i + 1}/${runs}: ${fmt(r.ms, 1)} ms, preferred ${r.preferred}/${r.partitions}, with leader ${r.withLeader}${r.error === null ? '' : `, error ${r.error}`}`);
      results.push(r);
      await deleteTopic(cluster, name);
    }
    const ok = results.filter((r) => r.error === null);
    const times = ok.map((r) => r.ms);
    const total = ok.reduce((s, r) => s + r.partitions, 0);
    const preferred = ok.reduce((s, r) => s + r.preferred, 0);
    const withLeader = ok.reduce((s, r) => s + r.withLeader, 0);
    rows.push([
      `${partitions} x RF 3`, `${ok.length}/${runs}`, fmt(median(times), 1), fmt(Math.min(...times), 1), fmt(Math.max(...times), 1),
      fmt(median(times) / baselineMs, 0),
      total > 0 ? `${fmt((preferred / total) * 100, 1)}%` : 'n/a', total > 0 ? `${fmt((withLeader / total) * 100, 1)}%` : 'n/a',
    ]);
    for (const r of results) if (r.error !== null) notes.push(`- ${partitions} partitions: a run answered ${r.error}`);
    if (runs < CREATE_RUNS) notes.push(`- ${partitions} partitions: ${runs} runs instead of ${CREATE_RUNS} (RAFTKA_BENCH_CREATE_1000_RUNS), to keep the benchmark short.`);
  }
  table('CreateTopics until the answer (3 brokers, RF 3)',
    ['partitions', 'runs ok', 'p50 ms', 'min ms', 'max ms', 'p50 / Metadata RTT', 'preferred leader in next Metadata', 'any leader in next Metadata'],
    rows, [`Baseline: Metadata round trip (no topics) p50 ${fmt(baselineMs, 2)} ms on the same cluster.`, ...notes]);
}

/** Partitions (of `topic`) led by `victim` per Metadata now. */
async function ledBy(bootstrap: string, topic: string, victim: number): Promise<number[]> {
  return withClient(bootstrap, async (c) => {
    const t = (await c.metadata([topic])).topics.find((x) => x.name === topic);
    return (t?.partitions ?? []).filter((p) => p.leader === victim).map((p) => p.partition);
  });
}

async function restorePreferred(cluster: Cluster, topic: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const done = await withClient(cluster.bootstrap, async (c) => {
      const share = leaderShare(await c.metadata([topic]), topic);
      if (share.preferred === share.partitions) return true;
      await electLeaders(c, 0, null, 10_000).catch(() => undefined);
      return false;
    });
    if (done) return;
    if (Date.now() > deadline) throw new Error(`preferred leaders of ${topic} not restored within 60 s`);
    await sleep(500);
  }
}

async function benchFailover(cluster: Cluster, baselineMs: number): Promise<void> {
  const topic = 'bench-failover';
  const r = await withClient(cluster.bootstrap, async (c) => {
    await c.metadata([]);
    return createTopic(c, { name: topic, numPartitions: FAILOVER_PARTITIONS, replicationFactor: 3, assignments: null, configs: new Map() }, 60_000);
  });
  if (r.error !== null) throw r.error;
  const times: number[] = [];
  const controllerTimes: number[] = [];
  const trialNotes: string[] = [];
  for (let i = 0; i < FAILOVER_TRIALS; i++) {
    const victim: ClusterBroker = cluster.brokers[i % cluster.brokers.length]!;
    const survivor = cluster.brokers.find((b) => b !== victim)!;
    const survivorBootstrap = `127.0.0.1:${survivor.port}`;
    const led = await ledBy(survivorBootstrap, topic, victim.nodeId);
    const controllerId = await withClient(survivorBootstrap, async (c) => (await c.metadata([])).controllerId);
    const isController = controllerId === victim.nodeId;
    // A connection opened before the kill, so the poll loop measures Metadata, not connects.
    const poller = await KafkaClient.connect(survivorBootstrap, { requestTimeoutMs: 5_000 });
    let ms = NaN;
    try {
      await poller.metadata([topic]);
      const t0 = performance.now();
      await victim.kill();
      for (;;) {
        const t = (await poller.metadata([topic])).topics.find((x) => x.name === topic);
        const stillDown = led.filter((p) => {
          const m = t?.partitions.find((x) => x.partition === p);
          return m === undefined || m.errorCode !== 0 || m.leader < 0 || m.leader === victim.nodeId;
        });
        if (stillDown.length === 0) { ms = performance.now() - t0; break; }
        if (performance.now() - t0 > 60_000) break;
        await sleep(10);
      }
    } finally {
      poller.close();
    }
    progress(`failover trial ${i + 1}/${FAILOVER_TRIALS}: killed broker ${victim.nodeId}${isController ? ' (active controller)' : ''} leading ${led.length} partitions: ${Number.isNaN(ms) ? 'NOT within 60 s' : `${fmt(ms, 0)} ms`}`);
    if (Number.isNaN(ms)) trialNotes.push(`- trial ${i + 1}: broker ${victim.nodeId} killed, its partitions had no new leader in Metadata after 60 s`);
    else (isController ? controllerTimes : times).push(ms);
    await victim.restart();
    await cluster.waitReady(60_000);
    await restorePreferred(cluster, topic);
  }
  const all = [...times, ...controllerTimes];
  const row = (name: string, xs: number[]): string[] => [name, String(xs.length), fmt(median(xs), 0), fmt(percentile(xs, 99), 0), fmt(Math.max(...xs), 0), xs.length > 0 ? fmt(median(xs) / baselineMs, 0) : 'n/a'];
  table(`Failover: SIGKILL of a broker until Metadata shows new leaders for all its partitions (${FAILOVER_PARTITIONS} partitions x RF 3)`,
    ['victim', 'trials', 'p50 ms', 'p99 ms', 'max ms', 'p50 / Metadata RTT'],
    [row('not the active controller', times), row('the active controller', controllerTimes), row('all', all)],
    [`broker.session.timeout.ms: ${SESSION_TIMEOUT_MS ?? 'default (9000)'}. Polling every 10 ms on a surviving broker, so the figures include up to ~10 ms + one Metadata RTT (${fmt(baselineMs, 2)} ms) of measurement slack. With ${all.length} trials the p99 is the maximum.`, ...trialNotes]);
}

async function main(): Promise<void> {
  process.stdout.write(`${machineNote()}\n\n`);
  progress('starting 3 brokers');
  const config: Record<string, string> = SESSION_TIMEOUT_MS === undefined ? {} : { 'broker.session.timeout.ms': SESSION_TIMEOUT_MS };
  const cluster = await startCluster({ size: 3, readyTimeoutMs: 60_000, config });
  try {
    const rtt = await withClient(cluster.bootstrap, (c) => metadataRoundTripMs(c, 200));
    const baselineMs = median(rtt);
    progress(`Metadata round trip p50 ${fmt(baselineMs, 3)} ms, p99 ${fmt(percentile(rtt, 99), 3)} ms over ${rtt.length}`);
    await benchCreate(cluster, baselineMs);
    await benchFailover(cluster, baselineMs);
  } finally {
    await cluster.destroy();
  }
}

main().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
