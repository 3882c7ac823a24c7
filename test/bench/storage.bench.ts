// Storage benchmark (issue 4). Run via `npm run bench` (never as a test), or directly:
//   node dist/test/bench/storage.bench.js            (RAFTKA_BENCH_MB=256 by default)
// Measures, on the same disk: raw sequential 1 MiB writes, raw write+fdatasync, log appends of
// 1 MiB batches without fsync and with group commit (1, 10, 100 partitions round-robin),
// sequential reads (log vs raw), and RSS with 10,000 open partitions. Prints a Markdown table.
import { closeSync, fdatasyncSync, mkdtempSync, openSync, read, readSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { makeBatch } from '../storage/batches.js';

const TOTAL_MB = Number(process.env.RAFTKA_BENCH_MB ?? 256);
const MIB = 1024 * 1024;
const root = mkdtempSync(join(process.env.RAFTKA_BENCH_DIR ?? tmpdir(), 'raftka-bench-'));
const rows: [string, string, string][] = [];

function mbps(bytes: number, ms: number): number { return bytes / MIB / (ms / 1000); }
function row(name: string, value: number, note = ''): void {
  rows.push([name, value.toFixed(0), note]);
  process.stderr.write(`${name}: ${value.toFixed(0)} ${note}\n`);
}

/** One batch of about 1 MiB: 1,000 records of 1,000 bytes. */
const oneMiBBatch = makeBatch(Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(1000, i) })));
const payload = Buffer.alloc(oneMiBBatch.length, 7);
const count = TOTAL_MB;

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
  return mbps(count * payload.length, ms);
}

function rawRead(path: string, bytes: number): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(MIB);
  const t0 = performance.now();
  for (let pos = 0; pos < bytes;) { const n = readSync(fd, buf, 0, MIB, pos); if (n === 0) break; pos += n; }
  const ms = performance.now() - t0;
  closeSync(fd);
  return mbps(bytes, ms);
}

/** The same reads through libuv's thread pool (fs.read), which the log must use to not block the loop. */
async function rawReadAsync(path: string, bytes: number): Promise<number> {
  const readP = promisify(read);
  const fd = openSync(path, 'r');
  const t0 = performance.now();
  for (let pos = 0; pos < bytes;) {
    const { bytesRead } = await readP(fd, Buffer.allocUnsafe(MIB), 0, MIB, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
  }
  const ms = performance.now() - t0;
  closeSync(fd);
  return mbps(bytes, ms);
}

async function logAppend(partitions: number, groupCommit: boolean): Promise<number> {
  const logs = await Promise.all(Array.from({ length: partitions }, (_, p) => PartitionLog.open(join(root, `log-${partitions}-${groupCommit}`, `t-${p}`), { segmentBytes: 256 * MIB })));
  const batches = logs.map(() => Buffer.from(oneMiBBatch));
  const t0 = performance.now();
  if (!groupCommit) {
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
  const ms = performance.now() - t0;
  await Promise.all(logs.map((l) => l.close()));
  return mbps(count * oneMiBBatch.length, ms);
}

async function logRead(): Promise<{ log: number; raw: number; rawAsync: number }> {
  const dir = join(root, 'log-1-false', 't-0');
  const log = await PartitionLog.open(dir, { segmentBytes: 256 * MIB });
  let bytes = 0;
  const t0 = performance.now();
  for (let off = log.logStartOffset; off < log.logEndOffset;) {
    const r = await log.read(off, MIB);
    bytes += r.records.length;
    off = r.nextOffset;
  }
  const ms = performance.now() - t0;
  await log.close();
  const file = join(dir, '00000000000000000000.log'), n = Math.min(bytes, 256 * MIB);
  return { log: mbps(bytes, ms), raw: rawRead(file, n), rawAsync: await rawReadAsync(file, n) };
}

async function manyPartitionsRss(n: number): Promise<number> {
  const logs: PartitionLog[] = [];
  const small = makeBatch([{ value: 'hello' }]);
  for (let p = 0; p < n; p++) {
    const log = await PartitionLog.open(join(root, 'many', `t-${p}`));
    log.appendAsLeader(Buffer.from(small), 1);
    logs.push(log);
  }
  await Promise.all(logs.map((l) => l.flush()));
  global.gc?.();
  const rss = process.memoryUsage().rss / MIB;
  for (const l of logs) await l.close();
  return rss;
}

try {
  const rawNoSync = rawWrite(false);
  row('raw sequential write, 1 MiB buffers (MB/s)', rawNoSync);
  const rawSync = rawWrite(true);
  row('raw write + fdatasync each 1 MiB (MB/s)', rawSync);
  rmSync(join(root, 'raw-true')); rmSync(join(root, 'raw-false'));
  for (const p of [1, 10, 100]) {
    const v = await logAppend(p, false);
    row(`log append, no fsync, ${p} partition(s) (MB/s)`, v, `${(100 * v / rawNoSync).toFixed(0)}% of raw write`);
  }
  const reads = await logRead();
  row('log sequential read (MB/s)', reads.log, `${(100 * reads.log / reads.raw).toFixed(0)}% of raw readSync (${reads.raw.toFixed(0)} MB/s), ${(100 * reads.log / reads.rawAsync).toFixed(0)}% of raw async fs.read (${reads.rawAsync.toFixed(0)} MB/s); page cache`);
  for (const p of [1, 10, 100]) rmSync(join(root, `log-${p}-false`), { recursive: true, force: true });
  for (const p of [1, 10, 100]) {
    const v = await logAppend(p, true);
    row(`log append + group-commit flush, ${p} partition(s) (MB/s)`, v, `${(100 * v / rawNoSync).toFixed(0)}% of raw no-fsync write, ${(100 * v / rawSync).toFixed(0)}% of raw write+fsync`);
    rmSync(join(root, `log-${p}-true`), { recursive: true, force: true });
  }
  const rss = await manyPartitionsRss(Number(process.env.RAFTKA_BENCH_PARTITIONS ?? 10_000));
  row('RSS with 10,000 open partitions (MB)', rss);
  process.stdout.write(`\n| storage (${TOTAL_MB} MiB per run) | value | note |\n|---|---:|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
