// Shared helpers of the cluster benchmarks (not a benchmark itself: run.mjs runs *.bench.js only).
// Progress goes to stderr, result tables (Markdown) to stdout.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { KafkaClient, type ClusterMetadata } from '../../src/cli/client/client.js';

export function envInt(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
}

export function median(xs: readonly number[]): number { return percentile(xs, 50); }

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

/** Spread of `xs` as (max - min) / median, in percent: the noise note of a figure. */
export function spreadPct(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = median(xs);
  return m === 0 ? 0 : ((Math.max(...xs) - Math.min(...xs)) / m) * 100;
}

const started = performance.now();
export function progress(msg: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

export function table(title: string, headers: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[] = []): void {
  const out = [`## ${title}`, '', `| ${headers.join(' | ')} |`, `| ${headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  if (notes.length > 0) out.push('', ...notes);
  process.stdout.write(`${out.join('\n')}\n\n`);
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const ratio = (n: number, base: number): string => (base > 0 && Number.isFinite(n) ? (n / base).toFixed(3) : 'n/a');

/** One line about the machine: CPUs, node, load average at start (the noise context of every figure). */
export function machineNote(): string {
  const c = cpus();
  const [l1] = loadavg();
  return `Machine: ${c.length} x ${c[0]?.model.trim() ?? 'cpu'}, node ${process.version}, load average ${fmt(l1 ?? 0, 2)} at start; shared cores, so expect run-to-run noise.`;
}

const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** TCP counters of every established socket owned by `pids` (via `ss -tinp`), keyed by 4-tuple. */
export function tcpCounters(pids: readonly number[]): Map<string, { pid: number; bytesSent: number; segsOut: number }> {
  const text = execFileSync('ss', ['-tinpH', 'state', 'established'], { maxBuffer: 64 * 1024 * 1024 }).toString();
  const lines = text.split('\n');
  const out = new Map<string, { pid: number; bytesSent: number; segsOut: number }>();
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    const pidMatch = /pid=(\d+)/.exec(head);
    if (pidMatch === null) continue;
    const pid = Number(pidMatch[1]);
    if (!pids.includes(pid)) continue;
    const parts = head.trim().split(/\s+/);
    const key = `${parts[2]}>${parts[3]}`;
    // The info line follows the socket line (indented).
    const info = lines[i + 1] ?? '';
    const bytes = /bytes_sent:(\d+)/.exec(info);
    const segs = /segs_out:(\d+)/.exec(info);
    out.set(key, { pid, bytesSent: bytes === null ? 0 : Number(bytes[1]), segsOut: segs === null ? 0 : Number(segs[1]) });
  }
  return out;
}

/** Bytes and segments sent per pid between two tcpCounters samples (sockets present in both). */
export function tcpDelta(a: ReturnType<typeof tcpCounters>, b: ReturnType<typeof tcpCounters>): Map<number, { bytes: number; segs: number }> {
  const out = new Map<number, { bytes: number; segs: number }>();
  for (const [key, after] of b) {
    const before = a.get(key) ?? { bytesSent: 0, segsOut: 0 };
    const cur = out.get(after.pid) ?? { bytes: 0, segs: 0 };
    cur.bytes += after.bytesSent - before.bytesSent;
    cur.segs += after.segsOut - before.segsOut;
    out.set(after.pid, cur);
  }
  return out;
}

/** Median wall time (ms) of `n` Metadata round trips for no topics on one connection. */
export async function metadataRoundTripMs(client: KafkaClient, n = 50): Promise<number[]> {
  await client.metadata([]);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.metadata([]);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Partitions of `topic` in `md` whose leader is their preferred (first) replica, and how many have any leader. */
export function leaderShare(md: ClusterMetadata, topic: string): { partitions: number; withLeader: number; preferred: number } {
  const t = md.topics.find((x) => x.name === topic);
  if (t === undefined) return { partitions: 0, withLeader: 0, preferred: 0 };
  let withLeader = 0;
  let preferred = 0;
  for (const p of t.partitions) {
    if (p.errorCode === 0 && p.leader >= 0) withLeader++;
    if (p.errorCode === 0 && p.leader >= 0 && p.leader === p.replicas[0]) preferred++;
  }
  return { partitions: t.partitions.length, withLeader, preferred };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
