// The raw RF-3 replication baseline of `npm run bench:produce` (issue 7): what a minimal Node.js
// pipeline doing the same physical work as the brokers reaches on this machine, in the same run.
// Three replica processes on 127.0.0.1 (raw-replica.ts), each leading one stream and following
// the other two; the leader forwards every frame to both followers; every replica appends to its
// own file with group commit (one writev + fdatasync covers what queued meanwhile); the leader
// acknowledges at acks=all after its own fsync plus one follower's (a majority of 3), at acks=1
// after its own write; `fsync: false` drops every fdatasync (page cache only, what Kafka's
// flush.messages trade-off could reach). No Kafka protocol, no Raft, no indexes, no CRC checks.
//
// The producer is this process, shaped like `raftka perf produce`: one connection per leader, each
// request carrying one record batch (the same bytes the perf tool sends: up to batch.size of
// `recordSize` records, built by the same encoder) for each of the 2 partitions that leader
// leads, up to maxInFlight requests outstanding per connection, the same throttle.
//
// Run alone: `node dist/test/bench/raw-replication.js` prints the variants the benchmark uses
// (env RAW_MB, default 32).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRecordBatch, type RecordInput } from '../../protocol/records/index.js';
import { cpuSeconds, fmt, percentile } from './lib.js';
import { cumulativeAcks, hello, PRODUCER, u32 } from './raw-replica.js';

const MIB = 1024 * 1024;
const REPLICA = fileURLToPath(new URL('./raw-replica.js', import.meta.url));

export interface RawReplicationOptions {
  /** Records to produce in all (spread over the 3 leaders as the perf tool spreads them). */
  readonly records: number;
  /** Bytes of each record's value (1024 in the benchmark). */
  readonly recordSize: number;
  /** batch.size: bytes of records per partition batch (16384, or 1000000). */
  readonly batchSize: number;
  /** Requests outstanding per leader connection (the perf tool's max.in.flight, 5). */
  readonly maxInFlight: number;
  /** Partitions (batches per request) each leader leads: 2 for 6 partitions on 3 brokers. */
  readonly partitionsPerLeader?: number;
  readonly acks: 'all' | '1';
  readonly fsync: boolean;
  /** Records per second, <= 0 for unthrottled (the perf tool's --throughput). */
  readonly throughput?: number;
  /** Records produced (unthrottled, same batches) in the same processes before the measured run: their JIT warm-up. */
  readonly warmupRecords?: number;
  /** A run not acknowledged in full after this long fails (default 60000). */
  readonly timeoutMs?: number;
  /** Directory for the replicas' files (default: a fresh one under the OS temp dir, removed after). */
  readonly dir?: string;
}

export interface RawReplicationResult {
  readonly mibs: number;
  readonly recs: number;
  /** Latency from send to acknowledgement per request, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** User + system CPU seconds of the three replica processes per 100 MiB of records. */
  readonly cpu: number;
  /** Produce requests sent. */
  readonly requests: number;
}

interface Replica { readonly child: ChildProcess; readonly port: number }

function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m) { child.off('message', onMessage); child.off('exit', onExit); resolve(m[key] as T); }
    };
    const onExit = (code: number | null): void => { child.off('message', onMessage); reject(new Error(`raw replica exited (${code}) before sending ${key}`)); };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** One run of the raw pipeline: fresh replica processes and files, `o.records` records produced. */
export async function rawReplication(o: RawReplicationOptions): Promise<RawReplicationResult> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'raftka-raw-rf3-'));
  const partitions = o.partitionsPerLeader ?? 2;
  let throughput = o.throughput ?? -1;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const replicas: Replica[] = [];
  const socks: Socket[] = [];
  try {
    for (let id = 0; id < 3; id++) {
      const child = fork(REPLICA, ['replica', String(id), dir, o.acks, o.fsync ? '1' : '0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      replicas.push({ child, port: await message<number>(child, 'port') });
    }
    const ports = replicas.map((r) => r.port);
    const ready = replicas.map((r) => message<boolean>(r.child, 'ready'));
    for (const r of replicas) r.child.send({ ports });
    await Promise.all(ready);

    // The perf tool's batches: perBatch records per partition batch, built by the same encoder.
    const perBatch = Math.max(1, Math.floor(o.batchSize / o.recordSize));
    const value = Buffer.alloc(o.recordSize);
    for (let i = 0; i < value.length; i++) value[i] = 65 + ((i * 7) % 26);
    const batches = new Map<number, Buffer>();
    const batchOf = (count: number): Buffer => {
      let b = batches.get(count);
      if (b === undefined) {
        const records: RecordInput[] = [];
        for (let i = 0; i < count; i++) records.push({ key: null, value, timestamp: BigInt(Date.now()) });
        b = buildRecordBatch({ records });
        batches.set(count, b);
      }
      return b;
    };

    interface Sender { readonly sock: Socket; seq: number; acked: number; readonly sentAt: number[]; readonly counts: number[]; bytes: number }
    const senders: Sender[] = [];
    for (const r of replicas) {
      const sock = connect({ host: '127.0.0.1', port: r.port });
      sock.setNoDelay(true);
      await once(sock, 'connect');
      sock.write(hello(PRODUCER));
      socks.push(sock);
      senders.push({ sock, seq: 0, acked: -1, sentAt: [], counts: [], bytes: 0 });
    }

    /** Produces `records` records as the perf tool does; returns seconds, per-request latencies (ms), requests and replica CPU seconds. */
    const produce = async (records: number): Promise<{ secs: number; lat: number[]; requests: number; cpu: number }> => {
      const lat: number[] = [];
      let sent = 0;
      let acked = 0;
      let requests = 0;
      let timer: NodeJS.Timeout | null = null;
      let finish!: () => void;
      let watchdog: NodeJS.Timeout | undefined;
      const done = new Promise<void>((resolve, reject) => {
        finish = resolve;
        watchdog = setTimeout(() => reject(new Error(`raw replication: ${acked} of ${records} records acknowledged after ${timeoutMs / 1000} s (requests sent and acknowledged per leader: ${senders.map((x) => `${x.seq}/${x.acked + 1}`).join(', ')})`)), timeoutMs);
      });
      const start = Date.now();
      const due = (): number => {
        const remaining = records - sent;
        if (throughput <= 0) return remaining;
        return Math.min(remaining, Math.floor(((Date.now() - start) / 1000) * throughput) + 1 - sent);
      };
      const pump = (): void => {
        for (let progress = true; progress;) {
          progress = false;
          for (const s of senders) {
            if (s.seq - 1 - s.acked >= o.maxInFlight) continue;
            let allowance = due();
            if (allowance <= 0) break;
            const bufs: Buffer[] = [];
            let count = 0;
            for (let i = 0; i < partitions && allowance > 0; i++) {
              const n = Math.min(perBatch, allowance);
              bufs.push(batchOf(n));
              allowance -= n;
              count += n;
            }
            sent += count;
            const body = bufs.reduce((n, b) => n + b.length, 4);
            s.sock.cork();
            s.sock.write(u32(body));
            s.sock.write(u32(s.seq));
            for (const b of bufs) s.sock.write(b);
            s.sock.uncork();
            s.bytes += body + 4;
            s.sentAt[s.seq] = performance.now();
            s.counts[s.seq] = count;
            s.seq++;
            requests++;
            progress = true;
          }
        }
        // Throttled: come back when the next record is due. (Not only when due() <= 0 now: the loop
        // may have stopped on an empty allowance a moment before the next record fell due, and
        // with nothing in flight no acknowledgement would call pump again.)
        if (sent < records && throughput > 0 && timer === null) {
          const wait = Math.max(1, Math.ceil(((sent + 1) / throughput) * 1000 - (Date.now() - start)));
          timer = setTimeout(() => { timer = null; pump(); }, wait);
        }
      };
      onAck = (s, seq): void => {
        const now = performance.now();
        while (s.acked < seq) {
          s.acked++;
          lat.push(now - s.sentAt[s.acked]!);
          acked += s.counts[s.acked]!;
        }
        if (acked >= records) finish(); else pump();
      };
      const cpu0 = replicas.reduce((n, r) => n + cpuSeconds(r.child.pid!), 0);
      const t0 = performance.now();
      pump();
      try { await done; } finally { clearTimeout(watchdog); }
      const secs = (performance.now() - t0) / 1000;
      const cpu = replicas.reduce((n, r) => n + cpuSeconds(r.child.pid!), 0) - cpu0;
      if (timer !== null) clearTimeout(timer);
      return { secs, lat, requests, cpu };
    };
    let onAck: (s: Sender, seq: number) => void = () => {};
    for (const s of senders) cumulativeAcks(s.sock, (seq) => onAck(s, seq));

    // Warm-up in the same processes (their JIT), unthrottled, then the measured run.
    if ((o.warmupRecords ?? 0) > 0) {
      const keep = throughput;
      throughput = -1;
      await produce(o.warmupRecords!);
      throughput = keep;
    }
    const { secs, lat, requests, cpu } = await produce(o.records);

    // Every replica of every stream ends up holding every byte its leader was sent (at acks=all
    // the slower follower may still be receiving when the last acknowledgement arrives: asked
    // again until it caught up, 10 s at most).
    for (let attempt = 0; ; attempt++) {
      const sizes = replicas.map((r) => message<{ lead: number; follow: Record<string, number> }>(r.child, 'sizes'));
      for (const r of replicas) r.child.send({ sizes: true });
      const got = await Promise.all(sizes);
      const short: string[] = [];
      for (let g = 0; g < 3; g++) {
        const want = senders[g]!.bytes;
        const held = [got[g]!.lead, ...got.filter((_, j) => j !== g).map((x) => x.follow[String(g)] ?? 0)];
        if (held.some((b) => b !== want)) short.push(`stream ${g} sent ${want} bytes, replicas hold ${held.join(', ')}`);
      }
      if (short.length === 0) break;
      if (attempt >= 100) throw new Error(`raw replication: ${short.join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const mib = (o.records * o.recordSize) / MIB;
    return {
      mibs: mib / secs, recs: o.records / secs, requests,
      p50: percentile(lat, 50), p99: percentile(lat, 99), p999: percentile(lat, 99.9), cpu: (cpu * 100) / mib,
    };
  } finally {
    for (const s of socks) s.destroy();
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => (r.child.exitCode === null && r.child.signalCode === null ? once(r.child, 'exit') : undefined)));
    if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** The variants the benchmark measures, by the name of the broker row each is compared with. */
export function rawVariants(records: number, recordSize: number): { name: string; opts: RawReplicationOptions }[] {
  const base = { records, recordSize, maxInFlight: 5, batchSize: 16384, warmupRecords: Math.min(records, (8 * MIB) / recordSize) } as const;
  return [
    { name: 'raw RF-3 acks=all', opts: { ...base, acks: 'all', fsync: true } },
    { name: 'raw RF-3 acks=1', opts: { ...base, acks: '1', fsync: true } },
    { name: 'raw RF-3 acks=all, no fsync', opts: { ...base, acks: 'all', fsync: false } },
    { name: 'raw RF-3 acks=all, batch.size=1000000', opts: { ...base, batchSize: 1_000_000, acks: 'all', fsync: true } },
    { name: 'raw RF-3 acks=1, batch.size=1000000', opts: { ...base, batchSize: 1_000_000, acks: '1', fsync: true } },
    { name: 'raw RF-3 acks=all, batch.size=1000000, no fsync', opts: { ...base, batchSize: 1_000_000, acks: 'all', fsync: false } },
    { name: 'raw RF-3 acks=all at 10 MiB/s', opts: { ...base, records: Math.min(records, 10 * 1024 * 5), acks: 'all', fsync: true, throughput: 10 * 1024 } },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mb = Number(process.env.RAW_MB ?? 32);
  for (const v of rawVariants(Math.round((mb * MIB) / 1024), 1024)) {
    const r = await rawReplication(v.opts);
    process.stdout.write(`${v.name}: ${fmt(r.mibs, 1)} MiB/s, p50 ${fmt(r.p50, 1)} p99 ${fmt(r.p99, 1)} p99.9 ${fmt(r.p999, 1)} ms, replica CPU ${fmt(r.cpu, 2)} s / 100 MiB, ${r.requests} requests\n`);
  }
}
