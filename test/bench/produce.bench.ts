// `npm run bench:produce` (issue 7): a benchmark, never a test.
// 3 broker processes, one topic of 6 partitions x RF 3, 1 KiB records:
//  - `raftka perf produce` (the project's tool, 16 KiB batches per partition, 5 requests in flight
//    per leader connection) at acks=all and acks=1, unthrottled: MiB/s, records/s, latency
//    p50/p99/p99.9 (ms, as the tool prints them); acks=all with librdkafka's 1 MB batch size; and
//    acks=all throttled to 10 MiB/s for the latency target.
//  - kcat (librdkafka defaults) producing the same number of 1 KiB lines at acks=all and acks=1,
//    timed from start to exit (kcat waits for every delivery report before it exits).
//  - `raftka perf consume` from the start of the log (fetch throughput).
//  - `raftka perf produce` acks=all on a second topic with flush.messages=1000000 (Kafka's
//    trade-off: appends count once written to the page cache of a majority, no fsync per append).
//  - In the same run, the loopback baseline: a raw Node.js socket pair on 127.0.0.1 pushing the
//    same number of bytes with 1 MiB writes (and with 16 KiB writes, the producer's batch size).
//  - In the same run, the raw RF-3 replication baseline (raw-replication.ts): three Node.js
//    processes doing the brokers' physical work (forward every frame to two followers, append,
//    group-commit fdatasync, majority acknowledgement) with the perf tool's batches and window,
//    at acks=all, acks=1 and without fsync, 16 KiB and 1 MB batches, and throttled to 10 MiB/s.
// Each figure is the median of RAFTKA_BENCH_RUNS runs, a ratio to the 1 MiB loopback median and
// (produce rows) a ratio to the raw replication row of the same batch size, window and acks.
// kcat (not idempotent) may deliver a batch twice after a retry: delivered minus sent is reported
// as duplicates; only fewer records than sent aborts the run.
// Env knobs: RAFTKA_BENCH_RUNS (3), RAFTKA_BENCH_PRODUCE_MB (32: MiB per perf produce run),
//   RAFTKA_BENCH_KCAT_MB (128: MiB per kcat run), RAFTKA_BENCH_FETCH_MB (256: MiB kcat reads from
//   the start of the log), RAFTKA_BENCH_PERF_FETCH_MB (32: MiB perf consume reads; it is slower),
//   RAFTKA_BENCH_WARMUP_MB (64: MiB produced at acks=all and again at acks=1 before measuring).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { KafkaClient } from '../../src/cli/client/client.js';
import { createTopic } from '../../src/cli/client/admin.js';
import { cpuSeconds, envInt, fmt, machineNote, median, progress, ratio, spreadPct, table } from './lib.js';
import { rawReplication, rawVariants } from './raw-replication.js';

const RUNS = Math.max(1, envInt('RAFTKA_BENCH_RUNS', 3));
const PRODUCE_MB = Math.max(1, envInt('RAFTKA_BENCH_PRODUCE_MB', 32));
const KCAT_MB = Math.max(1, envInt('RAFTKA_BENCH_KCAT_MB', 128));
const FETCH_MB = Math.max(1, envInt('RAFTKA_BENCH_FETCH_MB', 256));
const PERF_FETCH_MB = Math.max(1, envInt('RAFTKA_BENCH_PERF_FETCH_MB', 32));
/** MiB produced at each of acks=all and acks=1 before anything is measured (the brokers' JIT warm-up). */
const WARMUP_MB = Math.max(1, envInt('RAFTKA_BENCH_WARMUP_MB', 64));
const LOOPBACK_MB = 256;
const RECORD = 1024;
const MIB = 1024 * 1024;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TOPIC = 'bench-produce';
/** The same topic with flush.messages set high: no fsync per append (Kafka's default trade-off). */
const FLUSH_TOPIC = 'bench-produce-flush';
const FLUSH_MESSAGES = '1000000';

/**
 * MiB/s of a raw loopback socket pair pushing `total` bytes in `chunk`-byte writes (one buffer
 * reused): this process writes, a child Node.js process reads and answers one byte at the end,
 * so each side has its own event loop as a client and a broker do.
 */
async function loopback(total: number, chunk: number): Promise<number> {
  const sink = `const s = require('net').createServer((c) => { let got = 0; c.on('data', (b) => { got += b.length; if (got >= ${total}) c.end('x'); }); });
    s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', sink], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const client = connect({ host: '127.0.0.1', port: Number(line.toString().trim()) });
    await once(client, 'connect');
    const done = once(client, 'data');
    const buf = Buffer.alloc(chunk, 0x41);
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += chunk) {
      if (!client.write(buf)) await once(client, 'drain');
    }
    await done;
    const secs = (performance.now() - t0) / 1000;
    client.destroy();
    return total / MIB / secs;
  } finally {
    child.kill('SIGKILL');
  }
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

interface ProduceResult { mibs: number; recs: number; p50: number; p99: number; p999: number; cpu: number; dups?: number }

/** The broker processes (for their CPU time from /proc). */
let brokerPids: number[] = [];
const brokerCpu = (): number => brokerPids.reduce((n, pid) => n + cpuSeconds(pid), 0);
/** Broker CPU seconds (user + system, all three brokers) per 100 MiB produced. */
const cpuPer100MiB = (cpuSecs: number, records: number): number => (cpuSecs * 100) / ((records * RECORD) / MIB);

/**
 * Rows without fsync (the raw no-fsync rows, flush.messages) and the kcat input file leave their
 * bytes dirty in the page cache; the kernel writes them back about 30 s later
 * (vm.dirty_expire_centisecs), in the middle of whichever row runs then, and that row's fsyncs
 * queue behind the writeback (a throttled acks=all run had p99 53 ms instead of 8-12 with 100 MB
 * being written back). So every produce row starts with sync(1): no row pays for another's writes.
 */
function settleDisk(): void {
  spawnSync('sync');
}

async function perfProduce(bootstrap: string, records: number, acks: string, throughput = -1, props: string[] = [], topic = TOPIC): Promise<ProduceResult> {
  settleDisk();
  const cpu0 = brokerCpu();
  const r = await run(process.execPath, [CLI, 'perf', 'produce', '--bootstrap-server', bootstrap, '--topic', topic,
    '--num-records', String(records), '--record-size', String(RECORD), '--throughput', String(throughput), '--acks', acks, '--reporting-interval', '600000',
    ...props.flatMap((p) => ['--producer-props', p])]);
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th, (\d+) ms 99.9th/.exec(r.stdout);
  if (r.code !== 0 || m === null) throw new Error(`perf produce failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return { recs: Number(m[2]), mibs: Number(m[3]), p50: Number(m[4]), p99: Number(m[5]), p999: Number(m[6]), cpu: cpuPer100MiB(brokerCpu() - cpu0, Number(m[1])) };
}

async function kcatProduce(bootstrap: string, file: string, records: number, acks: string): Promise<ProduceResult> {
  const before = await endOffsets(bootstrap, 6);
  settleDisk();
  const cpu0 = brokerCpu();
  const r = await run('kcat', ['-P', '-b', bootstrap, '-t', TOPIC, '-X', `acks=${acks}`, '-l', file]);
  if (r.code !== 0) throw new Error(`kcat failed (exit ${r.code}): ${r.stderr}`);
  // The check reads high watermarks: with acks=1 they may trail kcat's exit by a moment. kcat is
  // not idempotent: a batch retried after a timeout may be appended twice (counted as duplicates).
  let delivered = 0;
  for (let i = 0; i < 100 && delivered < records; i++) {
    delivered = (await endOffsets(bootstrap, 6)) - before;
    if (delivered < records) await new Promise((res) => setTimeout(res, 100));
  }
  if (delivered < records) throw new Error(`kcat delivered ${delivered} of ${records} records: ${r.stderr}`);
  await new Promise((res) => setTimeout(res, 200));
  delivered = (await endOffsets(bootstrap, 6)) - before;
  const cpu = cpuPer100MiB(brokerCpu() - cpu0, records);
  const secs = r.ms / 1000;
  return { recs: records / secs, mibs: (records * RECORD) / MIB / secs, p50: NaN, p99: NaN, p999: NaN, cpu, dups: delivered - records };
}

async function perfConsume(bootstrap: string, messages: number): Promise<{ mibs: number; recs: number; fetchP99: number }> {
  const r = await run(process.execPath, [CLI, 'perf', 'consume', '--bootstrap-server', bootstrap, '--topic', TOPIC, '--messages', String(messages), '--timeout', '30000']);
  const lines = r.stdout.trim().split('\n');
  const data = lines.find((l) => /^\d{4}-/.test(l))?.split(',').map((s) => s.trim());
  const fetch = /([\d.]+) ms 99th/.exec(lines.find((l) => l.startsWith('fetch latency')) ?? '');
  if (r.code !== 0 || data === undefined) throw new Error(`perf consume failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  if (Number(data[4]) < messages) throw new Error(`perf consume read ${data[4]} of ${messages} records`);
  return { mibs: Number(data[3]), recs: Number(data[5]), fetchP99: fetch === null ? NaN : Number(fetch[1]) };
}

/** kcat consuming `messages` records from the beginning of every partition, timed spawn to exit. */
async function kcatConsume(bootstrap: string, messages: number): Promise<{ mibs: number; recs: number; fetchP99: number }> {
  const r = await run('kcat', ['-C', '-b', bootstrap, '-t', TOPIC, '-o', 'beginning', '-c', String(messages), '-e', '-q', '-f', '%o\\n']);
  const got = r.stdout.length === 0 ? 0 : r.stdout.trimEnd().split('\n').length;
  if (r.code !== 0 || got < messages) throw new Error(`kcat -C read ${got} of ${messages} (exit ${r.code}): ${r.stderr}`);
  const secs = r.ms / 1000;
  return { mibs: (messages * RECORD) / MIB / secs, recs: messages / secs, fetchP99: NaN };
}

async function endOffsets(bootstrap: string, partitions: number): Promise<number> {
  const c = await KafkaClient.connect(bootstrap);
  try {
    let total = 0;
    for (let p = 0; p < partitions; p++) total += Number(await c.listOffset(TOPIC, p, -1n));
    return total;
  } finally {
    c.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`${machineNote()}\n\n`);
  const records = Math.round((PRODUCE_MB * MIB) / RECORD);
  const kcatRecords = Math.round((KCAT_MB * MIB) / RECORD);
  const loopBytes = LOOPBACK_MB * MIB;
  const dir = mkdtempSync(join(tmpdir(), 'raftka-bench-produce-'));
  const kcatFile = join(dir, 'records.txt');
  writeFileSync(kcatFile, `${'K'.repeat(RECORD - 1)}\n`.repeat(kcatRecords)); // 1023 bytes + newline delimiter = 1 KiB value

  progress('starting 3 brokers');
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster({ size: 3, readyTimeoutMs: 60_000 });
    const bootstrap = cluster.bootstrap;
    brokerPids = cluster.brokers.map((b) => b.pid);
    const admin = await KafkaClient.connect(bootstrap);
    try {
      await admin.metadata([]);
      const created = await createTopic(admin, { name: TOPIC, numPartitions: 6, replicationFactor: 3, assignments: null, configs: new Map() }, 60_000);
      if (created.error !== null) throw created.error;
      const flush = await createTopic(admin, { name: FLUSH_TOPIC, numPartitions: 6, replicationFactor: 3, assignments: null, configs: new Map([['flush.messages', FLUSH_MESSAGES]]) }, 60_000);
      if (flush.error !== null) throw flush.error;
    } finally {
      admin.close();
    }
    // Warm-up: connections, segment files and the brokers' JIT. The brokers' first ~100 MiB run
    // largely unoptimised code: TurboFan's compiler threads took about 30% of their CPU (Linux
    // perf) and each 32 MiB run cost twice the CPU per MiB of the runs after it.
    for (let left = WARMUP_MB; left > 0; left -= PRODUCE_MB) {
      for (const acks of ['-1', '1']) await perfProduce(bootstrap, Math.round((Math.min(left, PRODUCE_MB) * MIB) / RECORD), acks);
    }
    await perfProduce(bootstrap, records, '-1', -1, [], FLUSH_TOPIC);
    progress(`warm-up: ${WARMUP_MB} MiB at acks=all and at acks=1, ${PRODUCE_MB} MiB on ${FLUSH_TOPIC}`);

    const series = new Map<string, ProduceResult[]>();
    const loop1m: number[] = [];
    const loop16k: number[] = [];
    const raws = new Map<string, ProduceResult[]>();
    /** Appends a run's result to its row in `rows` (the broker rows or the raw rows). */
    const record = (rows: Map<string, ProduceResult[]>, name: string, r: ProduceResult): void => { rows.set(name, [...(rows.get(name) ?? []), r]); };
    const add = (name: string, r: ProduceResult): void => record(series, name, r);
    for (let i = 0; i < RUNS; i++) {
      const tag = `run ${i + 1}/${RUNS}`;
      loop1m.push(await loopback(loopBytes, MIB));
      loop16k.push(await loopback(loopBytes, 16 * 1024));
      progress(`${tag}: loopback ${fmt(loop1m.at(-1)!, 0)} MiB/s (1 MiB writes), ${fmt(loop16k.at(-1)!, 0)} MiB/s (16 KiB writes)`);
      // The raw RF-3 pipeline, while the brokers idle (fresh replica processes per row, warmed up).
      for (const v of rawVariants(records, RECORD)) {
        settleDisk();
        const r = await rawReplication(v.opts);
        record(raws, v.name, r);
        progress(`${tag}: ${v.name}: ${fmt(r.mibs, 1)} MiB/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, replica CPU ${fmt(r.cpu, 2)} s / 100 MiB`);
      }
      for (const acks of ['-1', '1']) {
        const r = await perfProduce(bootstrap, records, acks);
        add(`perf acks=${acks === '-1' ? 'all' : acks}`, r);
        progress(`${tag}: perf produce acks=${acks}: ${fmt(r.mibs, 1)} MiB/s, p99 ${r.p99} ms, broker CPU ${fmt(r.cpu, 2)} s / 100 MiB`);
      }
      // librdkafka's batch size (batch.size 1,000,000): what the per-batch cost of the brokers leaves
      const big = await perfProduce(bootstrap, records, '-1', -1, ['batch.size=1000000']);
      add('perf acks=all, batch.size=1000000', big);
      progress(`${tag}: perf produce acks=all batch.size=1000000: ${fmt(big.mibs, 1)} MiB/s, p99 ${big.p99} ms`);
      const flushed = await perfProduce(bootstrap, records, '-1', -1, [], FLUSH_TOPIC);
      add(`perf acks=all, flush.messages=${FLUSH_MESSAGES}`, flushed);
      progress(`${tag}: perf produce acks=all on ${FLUSH_TOPIC} (flush.messages=${FLUSH_MESSAGES}): ${fmt(flushed.mibs, 1)} MiB/s, p99 ${flushed.p99} ms, broker CPU ${fmt(flushed.cpu, 2)} s / 100 MiB`);
      const limited = await perfProduce(bootstrap, Math.min(records, 10 * 1024 * 5), '-1', 10 * 1024);
      add('perf acks=all at 10 MiB/s', limited);
      progress(`${tag}: perf produce acks=all throttled to 10 MiB/s: p50 ${limited.p50} ms, p99 ${limited.p99} ms, p99.9 ${limited.p999} ms`);
      for (const acks of ['all', '1']) {
        const r = await kcatProduce(bootstrap, kcatFile, kcatRecords, acks);
        add(`kcat acks=${acks}`, r);
        progress(`${tag}: kcat acks=${acks}: ${fmt(r.mibs, 1)} MiB/s, ${r.dups} duplicates`);
      }
    }
    const base = median(loop1m);
    const rows: string[][] = [
      ['loopback socket pair, 1 MiB writes (baseline)', fmt(base, 0), '', '1.000', '', '', '', '', '', '', `${fmt(spreadPct(loop1m), 0)}%`],
      ['loopback socket pair, 16 KiB writes', fmt(median(loop16k), 0), '', ratio(median(loop16k), base), '', '', '', '', '', '', `${fmt(spreadPct(loop16k), 0)}%`],
    ];
    for (const [name, rs] of raws) {
      const mibs = rs.map((r) => r.mibs);
      rows.push([name, fmt(median(mibs), 1), fmt(median(rs.map((r) => r.recs)), 0), ratio(median(mibs), base), '',
        fmt(median(rs.map((r) => r.p50)), 1), fmt(median(rs.map((r) => r.p99)), 1), fmt(median(rs.map((r) => r.p999)), 1), fmt(median(rs.map((r) => r.cpu)), 2), '', `${fmt(spreadPct(mibs), 0)}%`]);
    }
    // Each broker row against the raw row of the same batch size, window and acks (kcat: librdkafka's
    // 1 MB batches; flush.messages: the raw pipeline without fsync; the throttled row has none).
    const rawOf = new Map<string, string>([
      ['perf acks=all', 'raw RF-3 acks=all'], ['perf acks=1', 'raw RF-3 acks=1'],
      ['perf acks=all, batch.size=1000000', 'raw RF-3 acks=all, batch.size=1000000'],
      [`perf acks=all, flush.messages=${FLUSH_MESSAGES}`, 'raw RF-3 acks=all, no fsync'],
      ['kcat acks=all', 'raw RF-3 acks=all, batch.size=1000000'], ['kcat acks=1', 'raw RF-3 acks=1, batch.size=1000000'],
    ]);
    for (const [name, rs] of series) {
      const mibs = rs.map((r) => r.mibs);
      const rawName = rawOf.get(name);
      const rawMibs = rawName === undefined ? NaN : median((raws.get(rawName) ?? []).map((r) => r.mibs));
      const dups = rs.filter((r) => r.dups !== undefined).map((r) => r.dups!);
      rows.push([name, fmt(median(mibs), 1), fmt(median(rs.map((r) => r.recs)), 0), ratio(median(mibs), base), rawName === undefined ? '' : ratio(median(mibs), rawMibs),
        fmt(median(rs.map((r) => r.p50)), 0), fmt(median(rs.map((r) => r.p99)), 0), fmt(median(rs.map((r) => r.p999)), 0), fmt(median(rs.map((r) => r.cpu)), 2),
        dups.length === 0 ? '' : `${dups.reduce((a, b) => a + b, 0)} (${dups.filter((d) => d > 0).length} of ${dups.length} runs)`, `${fmt(spreadPct(mibs), 0)}%`]);
    }

    const available = await endOffsets(bootstrap, 6);
    const fetchRecords = Math.min(available, Math.round((FETCH_MB * MIB) / RECORD));
    const perfFetchRecords = Math.min(available, Math.round((PERF_FETCH_MB * MIB) / RECORD));
    const fetches: { mibs: number; recs: number; fetchP99: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const f = await perfConsume(bootstrap, perfFetchRecords);
      fetches.push(f);
      progress(`perf consume run ${i + 1}/${RUNS}: ${perfFetchRecords} records from the start: ${fmt(f.mibs, 1)} MiB/s`);
    }
    const kfetches: { mibs: number; recs: number; fetchP99: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const f = await kcatConsume(bootstrap, fetchRecords);
      kfetches.push(f);
      progress(`kcat -C run ${i + 1}/${RUNS}: ${fetchRecords} records from the start: ${fmt(f.mibs, 1)} MiB/s`);
    }
    const fetchRow = (name: string, fs: { mibs: number; recs: number; fetchP99: number }[], n: number): string[] => {
      const fm = fs.map((f) => f.mibs);
      const p99 = median(fs.map((f) => f.fetchP99));
      return [`${name} from the start (${fmt((n * RECORD) / MIB, 0)} MiB)`, fmt(median(fm), 1), fmt(median(fs.map((f) => f.recs)), 0), ratio(median(fm), base), '',
        '', Number.isNaN(p99) ? '' : `${fmt(p99, 1)} (Fetch)`, '', '', '', `${fmt(spreadPct(fm), 0)}%`];
    };
    rows.push(fetchRow('perf consume', fetches, perfFetchRecords), fetchRow('kcat -C', kfetches, fetchRecords));
    table(`Produce and fetch, 3 brokers, 6 partitions x RF 3, 1 KiB records (perf ${PRODUCE_MB} MiB, kcat ${KCAT_MB} MiB per run, median of ${RUNS} runs)`,
      ['client', 'MiB/s', 'records/s', 'ratio to loopback', 'ratio to raw replication', 'p50 ms', 'p99 ms', 'p99.9 ms', 'broker CPU s / 100 MiB', 'duplicates', 'spread (max-min)/median'],
      rows, [
        '`perf` is `raftka perf produce --record-size 1024 --throughput -1` (one connection per leader broker, each request carrying one batch of up to batch.size 16384 bytes for every partition that broker leads, 5 requests in flight per connection); its latency is from send to acknowledgement, in whole ms. The 10 MiB/s row uses `--throughput 10240`; the batch.size row `--producer-props batch.size=1000000` (librdkafka\'s default batch size).',
        '`kcat` is `kcat -P -b <bootstrap> -t <topic> -X acks=<acks> -l <file of 1 KiB lines>` with librdkafka defaults, timed from spawn to exit (includes its start-up and final flush); it prints no latencies.',
        'Fetch rows: `raftka perf consume --messages N` from offset 0 of all 6 partitions (1 MiB fetches to the leaders; one fetch loop per leader; its p99 column is the latency of the Fetch requests that returned records), and `kcat -C -o beginning -c N -e` (librdkafka defaults, timed spawn to exit).',
        'Broker CPU: user + system seconds of the three broker processes (/proc/<pid>/stat) over the run, per 100 MiB produced (raw rows: the three replica processes).',
        `Raw RF-3 rows (test/bench/raw-replication.ts): 3 Node.js processes, each leading one stream (one file per replica) and following the other two; the leader forwards each frame to both followers and appends it; every replica group-commits (writev + one fdatasync for what queued meanwhile); acks=all acknowledges after the leader's fsync and one follower's, acks=1 after the leader's write; "no fsync" skips every fdatasync. The producer sends the perf tool's batches (same encoder, same records per batch), one per partition for 2 partitions per leader, 5 requests in flight per leader, the same throttle; latency per request. Fresh processes per row, warmed up with 8 MiB. "ratio to raw replication": the broker row over the raw row of the same batch size, window and acks (kcat over the 1 MB rows; flush.messages=${FLUSH_MESSAGES} over the no-fsync row).`,
        'Duplicates: records kcat delivered beyond those it was given (ListOffsets before and after), summed over the runs.',
        `Loopback: this process writes, a child Node.js process reads (each with its own event loop), ${LOOPBACK_MB} MiB per run.`,
      ]);
  } finally {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
