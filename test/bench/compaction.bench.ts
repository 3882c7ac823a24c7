// Log compaction benchmark. Never run as a test; run directly after a build:
//   node dist/test/bench/compaction.bench.js          (RAFTKA_BENCH_MB=64 by default)
// For each workload it builds a compacted-topic log, then compares one compaction pass (map pass
// + rewrite + swap, fsync'd) with a raw baseline on the same bytes: read every segment in 1 MiB
// chunks through libuv (as the cleaner does) and write them to one new file + fdatasync.
// Ratio = compaction time / raw time (lower is better). Prints a Markdown table.
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, CompressionType } from '../../protocol/records/index.js';
import { PartitionLog } from '../../src/storage/log.js';
import { Random } from '../../src/util/random.js';

const TOTAL_MB = Number(process.env.RAFTKA_BENCH_MB ?? 64);
// lz4 of these repetitive values is ~40x smaller: cap its input so the run stays short.
const LZ4_MB = Math.max(1, Math.floor(TOTAL_MB / 8));
const MIB = 1024 * 1024;
const root = mkdtempSync(join(process.env.RAFTKA_BENCH_DIR ?? tmpdir(), 'raftka-compaction-bench-'));

interface Workload { name: string; keys: number; compression: CompressionType }
const workloads: Workload[] = [
  { name: '10k keys, uncompressed', keys: 10_000, compression: CompressionType.NONE },
  { name: 'all keys unique (nothing removed)', keys: 1e12, compression: CompressionType.NONE },
  { name: '10k keys, lz4', keys: 10_000, compression: CompressionType.LZ4 },
];

async function buildLog(dir: string, w: Workload): Promise<PartitionLog> {
  const mb = w.compression === CompressionType.NONE ? TOTAL_MB : LZ4_MB;
  const log = await PartitionLog.open(dir, { cleanupPolicy: 'compact', segmentBytes: Math.min(16, Math.max(1, mb / 4)) * MIB, fileDeleteDelayMs: 0 });
  const rnd = new Random(1);
  const value = Buffer.alloc(200, 1);
  const target = mb * MIB;
  while (log.size < target) {
    const records = Array.from({ length: 100 }, () => ({ key: Buffer.from(`key-${Math.floor(rnd.next() * w.keys)}`), value, timestamp: 1_000n }));
    log.appendAsLeader(buildRecordBatch({ records, compression: w.compression }), 1);
  }
  log.appendAsLeader(buildRecordBatch({ records: [{ key: Buffer.from('roll'), value, timestamp: 1_000n }] }), 1);
  await log.flush();
  return log;
}

async function rawCopy(dir: string): Promise<{ ms: number; bytes: number }> {
  const files = readdirSync(dir).filter((n) => n.endsWith('.log')).sort().slice(0, -1); // not the active segment
  const out = await open(join(root, 'raw-copy'), 'w');
  const t0 = performance.now();
  let bytes = 0;
  for (const f of files) {
    const fh = await open(join(dir, f), 'r');
    const size = statSync(join(dir, f)).size;
    for (let pos = 0; pos < size;) {
      const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(MIB), 0, MIB, pos);
      if (bytesRead === 0) break;
      await out.write(buffer, 0, bytesRead, bytes);
      pos += bytesRead;
      bytes += bytesRead;
    }
    await fh.close();
  }
  await out.datasync();
  const ms = performance.now() - t0;
  await out.close();
  return { ms, bytes };
}

const rows: string[] = [];
for (const w of workloads) {
  const dir = join(root, w.name.replace(/\W+/g, '-'));
  const log = await buildLog(dir, w);
  const raw = await rawCopy(dir);
  const t0 = performance.now();
  const s = await log.compact({ highWatermark: log.logEndOffset });
  const ms = performance.now() - t0;
  const inMB = raw.bytes / MIB;
  rows.push(`| ${w.name} | ${inMB.toFixed(0)} | ${(s.recordsRead / 1e6).toFixed(2)} | ${(s.recordsRead / (ms / 1000) / 1e6).toFixed(2)} | ${(s.bytesWritten / MIB).toFixed(1)} | ${(inMB / (raw.ms / 1000)).toFixed(0)} | ${(inMB / (ms / 1000)).toFixed(0)} | ${(ms / raw.ms).toFixed(2)} |`);
  process.stderr.write(`${rows.at(-1)}\n`);
  await log.close();
  closeSync(openSync(join(root, 'raw-copy'), 'w'));
}
process.stdout.write('| workload | cleanable MiB | records (M) | M records/s | written MiB | raw read+write MiB/s | compaction MiB/s | compaction/raw time |\n|---|---|---|---|---|---|---|---|\n');
process.stdout.write(`${rows.join('\n')}\n`);
rmSync(root, { recursive: true, force: true });
