// Profiling aid (not a test, not the benchmark): runs one storage-bench row several times in
// isolation, for `node --cpu-prof` or `perf record`/`perf stat`:
//   node dist/test/bench/storage-rows.prof.js <mode> [repeats] [partitions]
// Modes: read (log, raw fs.read fresh/reused buffer, readSync, each pass), readcpu (the same,
// alternated, median CPU time per pass), logread / rawfresh (only that reader, for perf),
// append (raw write to 1 and to N files, then the log's no-fsync appends to N partitions).
// RAFTKA_BENCH_MB (default 256) MiB per pass.
import { closeSync, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { MIB, mbps, oneMiBBatch, payload, rawReadSync } from './disk.js';

const MB = Number(process.env.RAFTKA_BENCH_MB ?? 256);
const root = mkdtempSync(join(process.env.RAFTKA_BENCH_DIR ?? tmpdir(), 'raftka-prof-'));
const readP = promisify(read);
/** maxBytes of each log read (RAFTKA_PROF_READ_BYTES, default 1 MiB). */
const READ_BYTES = Number(process.env.RAFTKA_PROF_READ_BYTES ?? MIB);
/** CPU ms (user+system, all threads) since `from`. */
const cpuMs = (from: NodeJS.CpuUsage): number => { const u = process.cpuUsage(from); return (u.user + u.system) / 1000; };
let lastCpu = 0;
function cpuTimed<T>(f: () => T): T { const c = process.cpuUsage(); const r = f(); lastCpu = cpuMs(c); return r; }
async function cpuTimedA<T>(f: () => Promise<T>): Promise<T> { const c = process.cpuUsage(); const r = await f(); lastCpu = cpuMs(c); return r; }

async function fill(dir: string, partitions: number): Promise<{ logs: PartitionLog[]; ms: number }> {
  const logs = await Promise.all(Array.from({ length: partitions }, (_, p) => PartitionLog.open(join(dir, `t-${p}`), { segmentBytes: 256 * MIB })));
  await Promise.all(logs.map((l) => l.flush()));
  const batches = logs.map(() => Buffer.from(oneMiBBatch));
  const t0 = performance.now();
  for (let i = 0; i < MB; i++) logs[i % partitions]!.appendAsLeader(batches[i % partitions]!, 1);
  return { logs, ms: performance.now() - t0 };
}

function rawWrite(files = 1): number {
  const paths = Array.from({ length: files }, (_, f) => join(root, `raw-${f}`));
  const fds = paths.map((p) => openSync(p, 'w'));
  const bufs = fds.map(() => Buffer.from(payload));
  const pos = fds.map(() => 0);
  const t0 = performance.now();
  for (let i = 0; i < MB; i++) { const f = i % files; writeSync(fds[f]!, bufs[f]!, 0, payload.length, pos[f]!); pos[f]! += payload.length; }
  const ms = performance.now() - t0;
  for (const fd of fds) closeSync(fd);
  for (const p of paths) rmSync(p);
  return mbps(MB * payload.length, ms);
}

async function logRead(log: PartitionLog): Promise<number> {
  let bytes = 0;
  const t0 = performance.now();
  for (let off = log.logStartOffset; off < log.logEndOffset;) {
    const r = await log.read(off, READ_BYTES);
    bytes += r.records.length;
    off = r.nextOffset;
  }
  return mbps(bytes, performance.now() - t0);
}

async function rawReadAsync(path: string, bytes: number, reuse: boolean): Promise<number> {
  const fd = openSync(path, 'r');
  const one = Buffer.allocUnsafe(MIB);
  const t0 = performance.now();
  for (let pos = 0; pos < bytes;) {
    const { bytesRead } = await readP(fd, reuse ? one : Buffer.allocUnsafe(MIB), 0, MIB, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  const ms = performance.now() - t0;
  closeSync(fd);
  return mbps(bytes, ms);
}

const mode = process.argv[2] ?? 'read';
const repeats = Number(process.argv[3] ?? 5);
const partitions = Number(process.argv[4] ?? 10);
process.stderr.write(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
try {
  if (mode === 'read') {
    const { logs: [log] } = await fill(join(root, 'r'), 1);
    const file = join(root, 'r', 't-0', '00000000000000000000.log');
    const bytes = log!.size;
    for (let i = 0; i < repeats; i++) {
      const l = await cpuTimedA(() => logRead(log!)); const lc = lastCpu;
      const ra = await cpuTimedA(() => rawReadAsync(file, bytes, false)); const rac = lastCpu;
      const rr = await cpuTimedA(() => rawReadAsync(file, bytes, true)); const rrc = lastCpu;
      const rs = cpuTimed(() => rawReadSync(file, bytes)); const rsc = lastCpu;
      process.stderr.write(`cpu ms: log ${lc.toFixed(0)} fresh ${rac.toFixed(0)} reuse ${rrc.toFixed(0)} sync ${rsc.toFixed(0)}\n`);
      process.stderr.write(`log ${l.toFixed(0)}  rawAsync(fresh) ${ra.toFixed(0)}  rawAsync(reuse) ${rr.toFixed(0)}  readSync ${rs.toFixed(0)}  log/fresh ${(100 * l / ra).toFixed(0)}%  log/readSync ${(100 * l / rs).toFixed(0)}%\n`);
    }
    await log!.close();
  } else if (mode === 'readcpu') {
    // CPU time (user+system, every thread) per pass, alternating the order; medians.
    const { logs: [log] } = await fill(join(root, 'r'), 1);
    const file = join(root, 'r', 't-0', '00000000000000000000.log');
    const bytes = log!.size;
    const cpu: Record<string, number[]> = { log: [], fresh: [], reuse: [], sync: [] };
    const wall: Record<string, number[]> = { log: [], fresh: [], reuse: [], sync: [] };
    const runs: Record<string, () => Promise<number>> = {
      log: () => logRead(log!), fresh: () => rawReadAsync(file, bytes, false), reuse: () => rawReadAsync(file, bytes, true), sync: () => Promise.resolve(rawReadSync(file, bytes)),
    };
    for (let i = 0; i < repeats; i++) {
      const order = i % 2 === 0 ? ['log', 'fresh', 'reuse', 'sync'] : ['sync', 'reuse', 'fresh', 'log'];
      for (const k of order) { wall[k]!.push(await cpuTimedA(runs[k]!)); cpu[k]!.push(lastCpu); }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    for (const k of Object.keys(cpu)) process.stderr.write(`${k}: median cpu ${med(cpu[k]!).toFixed(0)} ms (${(bytes / MIB / med(cpu[k]!) * 1000).toFixed(0)} MB per cpu-s), median wall ${med(wall[k]!).toFixed(0)} MB/s\n`);
    await log!.close();
  } else if (mode === 'rawfresh') {
    const { logs: [log] } = await fill(join(root, 'r'), 1);
    const file = join(root, 'r', 't-0', '00000000000000000000.log');
    for (let i = 0; i < repeats; i++) process.stderr.write(`raw fresh ${(await rawReadAsync(file, log!.size, false)).toFixed(0)}\n`);
    await log!.close();
  } else if (mode === 'logread') {
    const { logs: [log] } = await fill(join(root, 'r'), 1);
    for (let i = 0; i < repeats; i++) process.stderr.write(`log ${(await logRead(log!)).toFixed(0)}\n`);
    await log!.close();
  } else {
    for (let i = 0; i < repeats; i++) {
      const raw = cpuTimed(() => rawWrite()); const rawC = lastCpu;
      const rawN = cpuTimed(() => rawWrite(partitions)); const rawNC = lastCpu;
      const dir = join(root, `a-${i}`);
      const { logs, ms } = await cpuTimedA(() => fill(dir, partitions)); const logC = lastCpu;
      process.stderr.write(`cpu ms: raw ${rawC.toFixed(0)} rawN ${rawNC.toFixed(0)} log(incl. open) ${logC.toFixed(0)}\n`);
      const v = mbps(MB * oneMiBBatch.length, ms);
      process.stderr.write(`raw ${raw.toFixed(0)}  raw ${partitions} files ${rawN.toFixed(0)}  log(${partitions}) ${v.toFixed(0)}  ${(100 * v / raw).toFixed(0)}% of raw, ${(100 * v / rawN).toFixed(0)}% of raw ${partitions} files\n`);
      await Promise.all(logs.map((l) => l.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
