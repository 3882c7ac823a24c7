// Storage benchmark (issue 4). Run via `npm run bench:storage` (never as a test), or directly:
//   node dist/test/bench/storage.bench.js
// Env: RAFTKA_BENCH_MB (MiB written per row, default 256), RAFTKA_BENCH_RUNS (default 3),
// RAFTKA_BENCH_DIR (default the OS temp dir), RAFTKA_BENCH_PARTITIONS (default 10,000).
// Measures, on the same disk, in each run: raw sequential 1 MiB writes, raw write+fdatasync, log
// appends of 1 MiB batches without fsync (1, 10, 100 partitions round-robin), sequential reads
// (log vs raw), group commit at 1, 10 and 100 partitions with each partition's own flush (one
// fdatasync per partition, independently) and with the broker-wide FlushScheduler (sync rounds
// across partitions), the same for small (1 KiB) appends (RAFTKA_BENCH_SMALL_APPENDS in all), a model of a shared write-ahead log (every byte written twice, one
// fdatasync per round), and the RSS of a fresh process holding 10,000 open partitions.
// Prints the median of the runs; ratios are computed within each run, then their median taken.
// RAFTKA_BENCH_ROWS (comma list, default all): write (raw write rows), append (no-fsync appends),
// read, commit (group commit and shared-WAL rows), small (1 KiB appends), rss.
// RAFTKA_BENCH_PAIRS (default 5): the append and read rows alternate the log and its raw baseline
// this many times within each run (order flipped every pair) and take each one's median, so a
// load spike on the shared machine hits both; they also report CPU time (user+system of every
// thread of the process) per MB against the baseline, which the load distorts much less.
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PartitionLog } from '../../src/storage/log.js';
import { defaultIo, type StorageIo } from '../../src/storage/io.js';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { makeBatch } from '../storage/batches.js';
import { MIB, mbps, oneMiBBatch, payload, rawReadSync } from './disk.js';

const TOTAL_MB = Number(process.env.RAFTKA_BENCH_MB ?? 256);
const RUNS = Number(process.env.RAFTKA_BENCH_RUNS ?? 3);
const PARTITIONS_FOR_RSS = Number(process.env.RAFTKA_BENCH_PARTITIONS ?? 10_000);
const root = mkdtempSync(join(process.env.RAFTKA_BENCH_DIR ?? tmpdir(), 'raftka-bench-'));


/** One batch of about 1 MiB: 1,000 records of 1,000 bytes. */
const smallBatch = makeBatch([{ key: 'k', value: Buffer.alloc(1000, 1) }]);
const SMALL_APPENDS = Number(process.env.RAFTKA_BENCH_SMALL_APPENDS ?? 1000);
const count = TOTAL_MB;
const ROWS = new Set((process.env.RAFTKA_BENCH_ROWS ?? 'write,append,read,commit,small,rss').split(',').map((r) => r.trim()));
const PAIRS = Math.max(1, Number(process.env.RAFTKA_BENCH_PAIRS ?? 5));

/** CPU milliseconds (user + system, all threads of the process) since `from`. */
function cpuMsSince(from: NodeJS.CpuUsage): number { const u = process.cpuUsage(from); return (u.user + u.system) / 1000; }
interface Measured { mbps: number; cpuMs: number }

function rawWrite(sync: boolean): number {
  const path = join(root, `raw-${sync}`);
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    writeSync(fd, payload, 0, payload.length, i * payload.length);
    if (sync) fdatasyncSync(fd);
  }
  const ms = performance.now() - t0;
  closeSync(fd);
  rmSync(path);
  return mbps(count * payload.length, ms);
}

/**
 * The log's no-fsync append row without the log: 1 MiB writes round-robin into `files` new
 * files, each file from its own source buffer (as each partition appends its own batch), so the
 * filesystem's per-file work and the cache footprint of the sources are the same as the log's.
 */
function rawWriteFiles(files: number): Measured {
  const dir = join(root, `raw-files-${files}`);
  mkdirSync(dir, { recursive: true });
  const fds = Array.from({ length: files }, (_, f) => openSync(join(dir, `f-${f}`), 'w'));
  const sources = fds.map(() => Buffer.from(oneMiBBatch));
  const pos = fds.map(() => 0);
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const f = i % files;
    writeSync(fds[f]!, sources[f]!, 0, oneMiBBatch.length, pos[f]!);
    pos[f]! += oneMiBBatch.length;
  }
  const ms = performance.now() - t0, cpuMs = cpuMsSince(c0);
  for (const fd of fds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return { mbps: mbps(count * oneMiBBatch.length, ms), cpuMs };
}

/**
 * A model of one shared write-ahead log for all partitions, with no event-loop or Raft overhead
 * (an upper bound): each round, one 1 MiB append per partition is written to the WAL and to the
 * partition's own file (unsynced, as a WAL design later checkpoints it), then one fdatasync of
 * the WAL covers the round.
 */
function rawSharedWal(partitions: number): number {
  const dir = join(root, `wal-${partitions}`);
  mkdirSync(dir, { recursive: true });
  const wal = openSync(join(dir, 'wal'), 'w');
  const files = Array.from({ length: partitions }, (_, p) => openSync(join(dir, `p-${p}`), 'w'));
  const filePos = files.map(() => 0);
  let walPos = 0;
  const t0 = performance.now();
  for (let i = 0; i < count;) {
    for (let p = 0; p < partitions && i < count; p++, i++) {
      writeSync(wal, payload, 0, payload.length, walPos); walPos += payload.length;
      writeSync(files[p]!, payload, 0, payload.length, filePos[p]!); filePos[p]! += payload.length;
    }
    fdatasyncSync(wal);
  }
  const ms = performance.now() - t0;
  closeSync(wal); for (const fd of files) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return mbps(count * payload.length, ms);
}

/**
 * The same reads through libuv's thread pool (fs.read), which the log must use to not block the
 * loop, each into a fresh buffer: the log hands its buffers to Fetch responses and cannot reuse
 * them, and a reused 1 MiB buffer stays in the CPU cache (about twice as fast to fill here),
 * so this, not readSync into one buffer, is the baseline the log's reads can be held to.
 */
async function rawReadAsync(path: string, bytes: number): Promise<Measured> {
  const readP = promisify(read);
  const fd = openSync(path, 'r');
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let pos = 0; pos < bytes;) {
    const { bytesRead } = await readP(fd, Buffer.allocUnsafe(MIB), 0, MIB, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  const ms = performance.now() - t0, cpuMs = cpuMsSince(c0);
  closeSync(fd);
  return { mbps: mbps(bytes, ms), cpuMs };
}

type FlushMode = 'none' | 'per-partition' | 'scheduler';

async function logAppend(partitions: number, mode: FlushMode, keep = false): Promise<{ mbps: number; fsyncs: number; rounds: number; cpuMs: number }> {
  let fsyncs = 0;
  const counting: StorageIo = { fdatasync: (fd) => { fsyncs++; return defaultIo.fdatasync(fd); }, fsyncDir: (d) => defaultIo.fsyncDir(d) };
  const scheduler = new FlushScheduler(counting);
  const io = mode === 'scheduler' ? scheduler : counting;
  const dir = join(root, `log-${partitions}-${mode}`);
  const logs = await Promise.all(Array.from({ length: partitions }, (_, p) => PartitionLog.open(join(dir, `t-${p}`), { segmentBytes: 256 * MIB }, undefined, { io })));
  const batches = logs.map(() => Buffer.from(oneMiBBatch));
  // New partitions' first flush (directory entries) outside the timed region, as for a running broker.
  await Promise.all(logs.map((l) => l.flush()));
  fsyncs = 0;
  const roundsBefore = scheduler.stats.rounds;
  const c0 = process.cpuUsage(), t0 = performance.now();
  if (mode === 'none') {
    // page-cache writes only, like the raw baseline; the flush happens outside the timed region
    for (let i = 0; i < count; i++) logs[i % partitions]!.appendAsLeader(batches[i % partitions]!, 1);
  } else {
    // one producer per partition, each waiting for its append to be durable (acks after fsync)
    let next = 0;
    await Promise.all(logs.map(async (log, p) => {
      while (next < count) {
        next++;
        log.appendAsLeader(batches[p]!, 1);
        await log.flush();
      }
    }));
  }
  const ms = performance.now() - t0, cpuMs = cpuMsSince(c0);
  const result = { mbps: mbps(count * oneMiBBatch.length, ms), fsyncs, rounds: scheduler.stats.rounds - roundsBefore, cpuMs };
  await Promise.all(logs.map((l) => l.close()));
  if (!keep) rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Small appends (one 1 KiB record each), every producer waiting for its flush: appends per second. */
async function smallAppends(partitions: number, mode: FlushMode): Promise<number> {
  const dir = join(root, `small-${partitions}-${mode}`);
  const io = mode === 'scheduler' ? new FlushScheduler() : defaultIo;
  const logs = await Promise.all(Array.from({ length: partitions }, (_, p) => PartitionLog.open(join(dir, `t-${p}`), {}, undefined, { io })));
  await Promise.all(logs.map((l) => l.flush()));
  const perPartition = Math.max(10, Math.ceil(SMALL_APPENDS / partitions));
  const t0 = performance.now();
  await Promise.all(logs.map(async (log) => {
    for (let i = 0; i < perPartition; i++) {
      log.appendAsLeader(Buffer.from(smallBatch), 1);
      await log.flush();
    }
  }));
  const ms = performance.now() - t0;
  await Promise.all(logs.map((l) => l.close()));
  rmSync(dir, { recursive: true, force: true });
  return (perPartition * partitions) / (ms / 1000);
}

/** One sequential pass over the log in 1 MiB reads (Fetch's default partition max bytes). */
async function logReadPass(log: PartitionLog): Promise<Measured & { bytes: number }> {
  let bytes = 0;
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (let off = log.logStartOffset; off < log.logEndOffset;) {
    const r = await log.read(off, MIB);
    bytes += r.records.length;
    off = r.nextOffset;
  }
  const ms = performance.now() - t0;
  return { mbps: mbps(bytes, ms), cpuMs: cpuMsSince(c0), bytes };
}

/**
 * PAIRS passes of the log and of raw fs.read with fresh buffers, alternated (the order flips each
 * pair), then raw readSync into one reused buffer (a reference the log cannot reach, see above).
 * Returns medians; CPU as MB per CPU-second.
 */
async function logRead(): Promise<{ log: number; rawAsync: number; raw: number; logCpu: number; rawAsyncCpu: number }> {
  const dir = join(root, 'log-1-none', 't-0');
  const log = await PartitionLog.open(dir, { segmentBytes: 256 * MIB });
  const file = join(dir, '00000000000000000000.log'), n = Math.min(log.size, 256 * MIB);
  const logs: Measured[] = [], raws: Measured[] = [];
  for (let k = 0; k < PAIRS; k++) {
    if (k % 2 === 0) { logs.push(await logReadPass(log)); raws.push(await rawReadAsync(file, n)); }
    else { raws.push(await rawReadAsync(file, n)); logs.push(await logReadPass(log)); }
  }
  const bytes = log.size;
  await log.close();
  const perCpuS = (ms: Measured[], b: number): number => median(ms.map((m) => b / MIB / (m.cpuMs / 1000)));
  return {
    log: median(logs.map((m) => m.mbps)), rawAsync: median(raws.map((m) => m.mbps)), raw: rawReadSync(file, n),
    logCpu: perCpuS(logs, bytes), rawAsyncCpu: perCpuS(raws, n),
  };
}

/** PAIRS alternated no-fsync append passes of the log and of raw writes into as many files: medians. */
async function appendPairs(partitions: number): Promise<{ log: number; raw: number; logCpu: number; rawCpu: number }> {
  const logs: Measured[] = [], raws: Measured[] = [];
  for (let k = 0; k < PAIRS; k++) {
    const keep = partitions === 1 && k === PAIRS - 1 && ROWS.has('read'); // the read row reads the last one
    if (k % 2 === 0) { logs.push(await logAppend(partitions, 'none', keep)); raws.push(rawWriteFiles(partitions)); }
    else { raws.push(rawWriteFiles(partitions)); logs.push(await logAppend(partitions, 'none', keep)); }
  }
  const bytes = count * oneMiBBatch.length;
  const perCpuS = (ms: Measured[]): number => median(ms.map((m) => bytes / MIB / (m.cpuMs / 1000)));
  return { log: median(logs.map((m) => m.mbps)), raw: median(raws.map((m) => m.mbps)), logCpu: perCpuS(logs), rawCpu: perCpuS(raws) };
}

/** Run in a fresh process (argv[2] === 'rss'): open n partitions, append one batch to each, print the RSS in MiB. */
async function manyPartitionsRss(n: number): Promise<number> {
  const logs: PartitionLog[] = [];
  const small = makeBatch([{ value: 'hello' }]);
  const io = new FlushScheduler();
  for (let p = 0; p < n; p++) {
    const log = await PartitionLog.open(join(root, 'many', `t-${p}`), {}, undefined, { io });
    log.appendAsLeader(Buffer.from(small), 1);
    logs.push(log);
  }
  await Promise.all(logs.map((l) => l.flush()));
  global.gc?.();
  const rss = process.memoryUsage().rss / MIB;
  for (const l of logs) await l.close();
  return rss;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** name -> values of each run; notes: name -> (run -> text parts computed from that run). */
const values = new Map<string, number[]>();
const ratios = new Map<string, Map<string, number[]>>();
function record(name: string, value: number, rel: Record<string, number> = {}): void {
  (values.get(name) ?? values.set(name, []).get(name)!).push(value);
  const r = ratios.get(name) ?? ratios.set(name, new Map()).get(name)!;
  for (const [k, v] of Object.entries(rel)) (r.get(k) ?? r.set(k, []).get(k)!).push(v);
  process.stderr.write(`${name}: ${value.toFixed(0)} ${Object.entries(rel).map(([k, v]) => `${(100 * v).toFixed(0)}% ${k}`).join(', ')}\n`);
}

async function oneRun(run: number): Promise<void> {
  process.stderr.write(`--- run ${run + 1}/${RUNS}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const rawNoSync = rawWrite(false);
  record('raw sequential write, 1 MiB buffers (MB/s)', rawNoSync);
  const rawSync = ROWS.has('write') || ROWS.has('commit') ? rawWrite(true) : NaN;
  if (!Number.isNaN(rawSync)) record('raw write + fdatasync each 1 MiB (MB/s)', rawSync, { 'of raw write': rawSync / rawNoSync });
  if (ROWS.has('append')) {
    for (const p of [1, 10, 100]) {
      const a = await appendPairs(p);
      record(`log append, no fsync, ${p} partition(s) (MB/s)`, a.log, {
        'of raw write': a.log / rawNoSync, [`of raw writes to ${p} file(s), paired`]: a.log / a.raw, 'of their MB per CPU-second': a.logCpu / a.rawCpu,
      });
      record(`raw writes round-robin to ${p} file(s), paired with the row above (MB/s)`, a.raw);
    }
  }
  if (ROWS.has('read')) {
    if (!ROWS.has('append')) await logAppend(1, 'none', true);
    const reads = await logRead();
    rmSync(join(root, 'log-1-none'), { recursive: true, force: true });
    record('log sequential read, page cache (MB/s)', reads.log, {
      'of raw fs.read into fresh buffers, paired': reads.log / reads.rawAsync, 'of raw readSync into one reused buffer': reads.log / reads.raw,
      'of raw fs.read\'s MB per CPU-second': reads.logCpu / reads.rawAsyncCpu,
    });
    record('raw fs.read, a fresh 1 MiB buffer per read, paired with the row above (MB/s)', reads.rawAsync);
    record('raw readSync, one reused 1 MiB buffer (MB/s)', reads.raw);
  }
  if (ROWS.has('commit')) for (const p of [1, 10, 100]) {
    // Alternate the order of the two schemes between runs, so neither always runs on a warmer disk.
    const modes: FlushMode[] = run % 2 === 0 ? ['per-partition', 'scheduler'] : ['scheduler', 'per-partition'];
    const got = new Map<FlushMode, { mbps: number; fsyncs: number; rounds: number }>();
    for (const m of modes) got.set(m, await logAppend(p, m));
    const own = got.get('per-partition')!, sched = got.get('scheduler')!;
    record(`group commit, each partition's own fdatasync, ${p} partition(s) (MB/s)`, own.mbps,
      { 'of raw write': own.mbps / rawNoSync, 'of raw write+fdatasync': own.mbps / rawSync, 'fdatasyncs per MiB': own.fsyncs / count });
    record(`group commit, broker-wide sync rounds, ${p} partition(s) (MB/s)`, sched.mbps,
      { 'of raw write': sched.mbps / rawNoSync, 'of raw write+fdatasync': sched.mbps / rawSync, 'vs own fdatasync': sched.mbps / own.mbps, 'fdatasyncs per MiB': sched.fsyncs / count, 'rounds per MiB': sched.rounds / count });
    const wal = rawSharedWal(p);
    record(`model: shared WAL, raw, ${p} partition(s) (MB/s)`, wal, { 'of raw write': wal / rawNoSync });
  }
  if (ROWS.has('small')) for (const p of [1, 100]) {
    const modes: FlushMode[] = run % 2 === 0 ? ['per-partition', 'scheduler'] : ['scheduler', 'per-partition'];
    const got = new Map<FlushMode, number>();
    for (const m of modes) got.set(m, await smallAppends(p, m));
    const own = got.get('per-partition')!, sched = got.get('scheduler')!;
    record(`1 KiB appends, each flushed: own fdatasync, ${p} partition(s) (appends/s)`, own);
    record(`1 KiB appends, each flushed: sync rounds, ${p} partition(s) (appends/s)`, sched, { 'vs own fdatasync': sched / own });
  }
  if (!ROWS.has('rss')) return;
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'rss'], { env: { ...process.env, RAFTKA_BENCH_DIR: root }, encoding: 'utf8' });
  record(`RSS with ${PARTITIONS_FOR_RSS.toLocaleString('en')} open partitions, fresh process (MB)`, Number(out.trim()));
}

try {
  if (process.argv[2] === 'rss') {
    process.stdout.write(`${(await manyPartitionsRss(PARTITIONS_FOR_RSS)).toFixed(0)}\n`);
  } else {
    const loadBefore = loadavg();
    for (let run = 0; run < RUNS; run++) await oneRun(run);
    const loadAfter = loadavg();
    const fmt = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
    const lines = [...values.entries()].map(([name, vs]) => {
      const notes = [...(ratios.get(name) ?? new Map<string, number[]>()).entries()].map(([k, rs]) =>
        (k.endsWith('per MiB') ? `${median(rs).toFixed(2)} ${k}` : `${(100 * median(rs)).toFixed(0)}% ${k}`));
      return `| ${name} | ${median(vs).toFixed(0)} | ${vs.map((v) => v.toFixed(0)).join(' / ')} | ${notes.join('; ')} |`;
    });
    process.stdout.write(`\nload average (1/5/15 min) before ${fmt(loadBefore)}, after ${fmt(loadAfter)}; ${RUNS} runs of ${TOTAL_MB} MiB per row, ${PAIRS} pairs per append/read row; rows: ${[...ROWS].join(',')}\n\n`
      + `| storage | median | runs | median of per-run ratios |\n|---|---:|---|---|\n${lines.join('\n')}\n`);
  }
} finally {
  if (process.argv[2] !== 'rss') rmSync(root, { recursive: true, force: true });
}
