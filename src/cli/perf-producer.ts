import { buildRecordBatch, type RecordInput } from '../../protocol/records/index.js';
import { ProduceApi, type ProduceResponse } from '../../protocol/generated/produce.js';
import { ErrorCode } from '../kafka/errors.js';
import { errorName, isRetriable, type KafkaClient, type KafkaConnection } from './client/client.js';

/** What `raftka perf produce` sends: Kafka's ProducerPerformance options that matter on the wire. */
export interface ProducerPerfOptions {
  readonly topic: string;
  readonly numRecords: number;
  /** Records per second, <= 0 for unlimited (Kafka's ThroughputThrottler). */
  readonly throughput: number;
  readonly acks: -1 | 0 | 1;
  /** batch.size: bytes of records per partition batch (one batch per partition per request). */
  readonly batchSize: number;
  /** max.in.flight.requests.per.connection: Produce requests outstanding per leader broker. */
  readonly maxInFlight: number;
  /** The value of every record (Kafka's tool reuses one random payload). */
  readonly payload: Buffer;
  /** Produce timeoutMs (default 30000). */
  readonly timeoutMs?: number;
  /** Called once per acknowledged batch: its record count and its latency (send to acknowledgement), in microseconds. */
  readonly onAck?: (records: number, latencyUs: number) => void;
  /** Called when a batch fails for good. */
  readonly onError?: (partition: number, message: string) => void;
  /** Called before a batch is sent again after a retriable error (its error code, attempts left). */
  readonly onRetry?: (partition: number, code: number, attemptsLeft: number) => void;
}

export interface ProducerPerfResult {
  readonly acked: number;
  readonly failed: number;
  /** Produce requests sent (retries of single batches included). */
  readonly requests: number;
}

/** Record batches are rebuilt (new timestamps) at most this often and otherwise reused as they are. */
const RESTAMP_MS = 100;
const MAX_RETRIES = 10;
/** How often a run checks that it is still progressing (see the watchdog in runProducerPerf). */
const STALL_CHECK_MS = 10_000;

interface Part { readonly partition: number; readonly count: number }
interface BrokerSender { readonly leader: number; readonly conn: KafkaConnection; readonly version: number; partitions: number[]; inFlight: number; rotation: number }

/**
 * Prebuilt record batches of `count` copies of one payload, shared by every request until they
 * are RESTAMP_MS old (the broker stamps offsets into its own copy, so one buffer serves any
 * number of requests; the records' timestamps are at most RESTAMP_MS stale).
 */
export class BatchTemplates {
  private readonly cache = new Map<number, Buffer>();
  private builtAt = -Infinity;
  constructor(private readonly payload: Buffer, private readonly now: () => number = Date.now) {}

  get(count: number): Buffer {
    const now = this.now();
    if (now - this.builtAt >= RESTAMP_MS) { this.cache.clear(); this.builtAt = now; }
    let b = this.cache.get(count);
    if (b === undefined) {
      const ts = BigInt(this.builtAt);
      const records: RecordInput[] = [];
      for (let i = 0; i < count; i++) records.push({ key: null, value: this.payload, timestamp: ts });
      b = buildRecordBatch({ records });
      this.cache.set(count, b);
    }
    return b;
  }
}

/**
 * The producer side of `raftka perf produce`, shaped like Kafka's producer: one connection per
 * leader broker, each Produce request carries one batch (up to batch.size) for every partition
 * that broker leads, and up to max.in.flight requests are outstanding per connection. Requests
 * written in one event-loop turn leave in one socket write (KafkaConnection corks), batches are
 * prebuilt and reused (BatchTemplates), and a retriable partition error (a leader change)
 * refreshes the metadata and resends that batch alone, up to 10 times.
 */
export async function runProducerPerf(client: KafkaClient, o: ProducerPerfOptions): Promise<ProducerPerfResult> {
  const perBatch = Math.max(1, Math.floor(o.batchSize / Math.max(1, o.payload.length)));
  const templates = new BatchTemplates(o.payload);
  const timeoutMs = o.timeoutMs ?? 30000;
  const start = Date.now();
  let senders: BrokerSender[] = [];
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let requests = 0;
  /** Batched requests sent and not settled yet (the senders' inFlight counts, summed). */
  let outstanding = 0;
  let retrying = 0;
  let regrouping: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let finish!: () => void;
  let abort!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => { finish = resolve; abort = reject; });

  const group = async (): Promise<void> => {
    const md = await client.metadata([o.topic]);
    const t = md.topics.find((x) => x.name === o.topic);
    if (t === undefined || t.errorCode !== ErrorCode.NONE || t.partitions.length === 0) throw new Error(`Topic ${o.topic} not present in metadata`);
    const byLeader = new Map<number, number[]>();
    for (const p of t.partitions) {
      if (p.leader < 0) continue;
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), p.partition]);
    }
    const next: BrokerSender[] = [];
    for (const [leader, partitions] of byLeader) {
      const conn = await client.broker(leader);
      // The same sender object, not a copy: requests in flight settle (inFlight--) on the object
      // that sent them, so a copy would keep their count forever and never send again.
      const old = senders.find((s) => s.leader === leader && s.conn === conn);
      if (old !== undefined) { old.partitions = partitions; next.push(old); continue; }
      next.push({ leader, conn, version: conn.version(ProduceApi, 9, 3), partitions, inFlight: 0, rotation: 0 });
    }
    senders = next;
  };

  const regroup = (): void => {
    if (regrouping !== null) return;
    regrouping = (async (): Promise<void> => {
      for (let i = 0; ; i++) {
        try { await group(); if (senders.length > 0) return; } catch (err) { if (i >= MAX_RETRIES) throw err; }
        await sleep(100 * (i + 1));
      }
    })().then(() => { regrouping = null; pump(); }, (err: unknown) => abort(err as Error));
  };

  const checkDone = (): void => {
    if (acked + failed >= o.numRecords) { if (timer !== null) clearTimeout(timer); finish(); }
  };

  const fail = (partition: number, count: number, message: string): void => {
    failed += count;
    o.onError?.(partition, message);
    checkDone();
  };

  /** One batch alone, after a retriable error: through the client's leader lookup, with a metadata refresh between attempts. */
  const retry = async (part: Part, code: number): Promise<void> => {
    retrying++;
    try {
      for (let attempt = 1; ; attempt++) {
        if (!retriable(code) || attempt > MAX_RETRIES) { fail(part.partition, part.count, errorName(code)); return; }
        o.onRetry?.(part.partition, code, MAX_RETRIES - attempt + 1);
        await client.leaderOf(o.topic, part.partition, true).catch(() => undefined);
        const sentAt = performance.now();
        requests++;
        const r = await client.produce(o.topic, part.partition, templates.get(part.count), o.acks, timeoutMs).catch(() => ({ errorCode: ErrorCode.NETWORK_EXCEPTION }));
        if (r.errorCode === ErrorCode.NONE) { ack(part.count, sentAt); return; }
        code = r.errorCode;
        if (attempt < MAX_RETRIES) await sleep(50 * attempt);
      }
    } finally {
      retrying--;
    }
  };

  const ack = (count: number, sentAt: number): void => {
    acked += count;
    o.onAck?.(count, (performance.now() - sentAt) * 1000);
    checkDone();
  };

  const due = (): number => {
    const remaining = o.numRecords - sent;
    if (o.throughput <= 0) return remaining;
    return Math.min(remaining, Math.floor(((Date.now() - start) / 1000) * o.throughput) + 1 - sent);
  };

  const sendRequest = (s: BrokerSender, parts: Part[]): void => {
    s.inFlight++;
    outstanding++;
    requests++;
    const sentAt = performance.now();
    const body = {
      transactionalId: null, acks: o.acks, timeoutMs,
      topicData: [{ name: o.topic, partitionData: parts.map((p) => ({ index: p.partition, records: templates.get(p.count) })) }],
    };
    const settle = (): void => { s.inFlight--; outstanding--; pump(); };
    if (o.acks === 0) {
      s.conn.send(ProduceApi, s.version, body, timeoutMs, false).then(() => {
        for (const p of parts) ack(p.count, sentAt);
        settle();
      }, () => { for (const p of parts) fail(p.partition, p.count, 'connection failed'); settle(); });
      return;
    }
    s.conn.send(ProduceApi, s.version, body, timeoutMs + client.requestTimeoutMs).then((res) => {
      const answers = new Map<number, number>();
      for (const t of (res as ProduceResponse).responses) for (const p of t.partitionResponses) answers.set(p.index, p.errorCode);
      let regroupNeeded = false;
      for (const p of parts) {
        const code = answers.get(p.partition) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === ErrorCode.NONE) { ack(p.count, sentAt); continue; }
        if (retriable(code)) regroupNeeded = true;
        void retry(p, code);
      }
      if (regroupNeeded) regroup();
      settle();
    }, () => {
      for (const p of parts) void retry(p, ErrorCode.NETWORK_EXCEPTION);
      regroup();
      settle();
    });
  };

  /** Fills every broker's free request slots with the records that are due. */
  const pump = (): void => {
    if (regrouping !== null) return;
    for (let progress = true; progress;) {
      progress = false;
      for (const s of senders) {
        if (s.inFlight >= o.maxInFlight) continue;
        let allowance = due();
        if (allowance <= 0) break;
        const parts: Part[] = [];
        for (let i = 0; i < s.partitions.length && allowance > 0; i++) {
          const count = Math.min(perBatch, allowance);
          parts.push({ partition: s.partitions[(s.rotation + i) % s.partitions.length]!, count });
          allowance -= count;
          sent += count;
        }
        s.rotation = (s.rotation + 1) % s.partitions.length;
        sendRequest(s, parts);
        progress = true;
      }
    }
    // Throttled: come back when the next record is due. Always re-armed: the next record may have
    // fallen due since the loop above stopped, and with nothing in flight no answer would pump again.
    if (sent < o.numRecords && o.throughput > 0 && timer === null) {
      const wait = Math.max(1, Math.ceil(((sent + 1) / o.throughput) * 1000 - (Date.now() - start)));
      timer = setTimeout(() => { timer = null; pump(); }, wait);
    }
  };

  // A run that stops making progress with nothing left that could make it (no request in flight,
  // no retry, no regroup, no timer) fails with its state instead of waiting forever.
  let lastSettled = -1;
  const watchdog = setInterval(() => {
    const settled = acked + failed;
    if (settled === lastSettled && outstanding === 0 && retrying === 0 && regrouping === null && timer === null) {
      abort(new Error(`perf produce stalled: ${sent} records sent, ${acked} acknowledged, ${failed} failed, ${requests} requests; ` +
        `senders ${senders.map((s) => `${s.leader}:[${s.partitions.join(',')}] ${s.inFlight} in flight`).join(', ') || 'none'}`));
    }
    lastSettled = settled;
  }, STALL_CHECK_MS);
  watchdog.unref();
  try {
    await group();
    if (senders.length === 0) regroup(); else pump();
    await done;
  } finally {
    clearInterval(watchdog);
  }
  while (retrying > 0) await sleep(10);
  return { acked, failed, requests };
}

/** A broker's retriable answer, or a lost connection. */
function retriable(code: number): boolean { return code === ErrorCode.NETWORK_EXCEPTION || isRetriable(code); }

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
