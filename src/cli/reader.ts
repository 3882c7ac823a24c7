import { iterateBatches, iterateRecords, LOG_OVERHEAD, readBatchHeader, RECORD_BATCH_OVERHEAD, type RecordHeader } from '../../protocol/records/index.js';
import { ErrorCode } from '../kafka/errors.js';
import { BrokerError, errorName, isRetriable, type KafkaClient } from './client/client.js';

export interface ConsumedRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
  /** 0 CreateTime, 1 LogAppendTime. */
  readonly timestampType: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  /** Bytes of key and value (what the perf tools count). */
  readonly size: number;
}

/** Where a partition starts: the log start, the end, or an offset. */
export type StartPosition = 'earliest' | 'latest' | bigint;

/**
 * Reads one topic's partitions without a consumer group (an assigned consumer): one Fetch per
 * leader broker per poll, control batches skipped, positions advanced past what was returned.
 */
export class PartitionReader {
  private readonly positions = new Map<number, bigint>();

  private constructor(private readonly client: KafkaClient, readonly topic: string) {}

  static async open(client: KafkaClient, topic: string, partitions: readonly number[], start: StartPosition): Promise<PartitionReader> {
    return PartitionReader.openAt(client, topic, new Map(partitions.map((p) => [p, start])));
  }

  /** Each partition from its own start (a group member: its committed offset, else the reset policy). */
  static async openAt(client: KafkaClient, topic: string, starts: ReadonlyMap<number, StartPosition>): Promise<PartitionReader> {
    const reader = new PartitionReader(client, topic);
    for (const [p, start] of starts) reader.positions.set(p, await reader.resolve(p, start));
    return reader;
  }

  position(partition: number): bigint | undefined { return this.positions.get(partition); }

  /** The next offset to read of every partition. */
  allPositions(): Map<number, bigint> { return new Map(this.positions); }

  private async resolve(partition: number, start: StartPosition): Promise<bigint> {
    if (typeof start === 'bigint') return start;
    return this.client.listOffset(this.topic, partition, start === 'earliest' ? -2n : -1n);
  }

  /** The partitions of this reader grouped by their leader (from cached metadata; leaderless ones left out). */
  async leaders(): Promise<Map<number, number[]>> {
    const byLeader = new Map<number, number[]>();
    for (const partition of this.positions.keys()) {
      const leader = (await this.client.leaderOf(this.topic, partition)).leader;
      if (leader < 0) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
    }
    return byLeader;
  }

  /** One round of fetches; returns the records in partition order, offset order within each. */
  async poll(maxWaitMs: number, maxBytes = 1 << 20): Promise<ConsumedRecord[]> {
    const byLeader = await this.leaders();
    if (byLeader.size === 0) {
      await new Promise((r) => setTimeout(r, Math.min(maxWaitMs, 200)));
      await this.client.metadata([this.topic]);
      return [];
    }
    const results = await Promise.all([...byLeader].map(([leader, ps]) => this.pollLeader(leader, ps, maxWaitMs, maxBytes)));
    return results.flat();
  }

  /**
   * One Fetch to broker `leader` for `partitions` (those it leads), positions advanced past what
   * it returned. Readers of several leaders may run one such loop per leader, so that a leader
   * whose partitions are idle (a long poll waiting out maxWaitMs) holds up no other.
   */
  async pollLeader(leader: number, partitions: readonly number[], maxWaitMs: number, maxBytes = 1 << 20): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    await this.fetchLeader(leader, partitions, maxWaitMs, maxBytes, (batch, pos, h, position, partition) => {
      for (const rec of iterateRecords(batch, pos)) {
        const offset = h.baseOffset + BigInt(rec.offsetDelta);
        if (offset < position) continue;
        out.push({
          partition, offset,
          timestamp: h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + rec.timestampDelta,
          timestampType: h.timestampType, key: rec.key, value: rec.value, headers: rec.headers,
          size: (rec.key?.length ?? 0) + (rec.value?.length ?? 0),
        });
      }
    });
    return out;
  }

  /**
   * pollLeader for the perf tool: only the number of records and their key and value bytes,
   * read from the record headers of uncompressed batches without materialising any record
   * (compressed ones, or a batch the position starts inside, are decoded as usual).
   */
  async pollLeaderCounts(leader: number, partitions: readonly number[], maxWaitMs: number, maxBytes = 1 << 20): Promise<{ records: number; bytes: number }> {
    let records = 0;
    let bytes = 0;
    await this.fetchLeader(leader, partitions, maxWaitMs, maxBytes, (batch, pos, h, position) => {
      if (h.compression === 0 && h.baseOffset >= position) {
        const sized = recordSizes(batch, pos + RECORD_BATCH_OVERHEAD, pos + LOG_OVERHEAD + h.batchLength, h.recordsCount);
        if (sized >= 0) { records += h.recordsCount; bytes += sized; return; }
      }
      for (const rec of iterateRecords(batch, pos)) {
        if (h.baseOffset + BigInt(rec.offsetDelta) < position) continue;
        records++;
        bytes += (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
      }
    });
    return { records, bytes };
  }

  private async fetchLeader(leader: number, partitions: readonly number[], maxWaitMs: number, maxBytes: number,
    visit: (batch: Buffer, pos: number, h: ReturnType<typeof readBatchHeader>, position: bigint, partition: number) => void): Promise<void> {
    const ps = partitions.flatMap((partition) => {
      const offset = this.positions.get(partition);
      return offset === undefined ? [] : [{ topic: this.topic, partition, offset }];
    });
    const results = await this.client.fetchFrom(leader, ps, { maxWaitMs, maxBytes });
    let refresh = false;
    for (const r of results.sort((a, b) => a.partition - b.partition)) {
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        this.positions.set(r.partition, await this.resolve(r.partition, 'earliest'));
        continue;
      }
      if (r.errorCode !== ErrorCode.NONE) {
        if (!isRetriable(r.errorCode)) throw new BrokerError(r.errorCode, `Fetch of ${this.topic}-${r.partition} failed: ${errorName(r.errorCode)}`);
        refresh = true;
        continue;
      }
      if (r.records === null) continue;
      const position = this.positions.get(r.partition)!;
      let next = position;
      for (const span of iterateBatches(r.records)) {
        const h = readBatchHeader(r.records, span.offset);
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (last < position) continue;
        if (!h.isControl) visit(r.records, span.offset, h, position, r.partition);
        next = last + 1n;
      }
      this.positions.set(r.partition, next);
    }
    if (refresh) await this.client.metadata([this.topic]);
  }
}

/**
 * Sum of key and value lengths of the `count` records between `pos` and `end` (an uncompressed
 * batch's records section), from their length fields alone; -1 when they do not parse.
 */
export function recordSizes(buf: Buffer, pos: number, end: number, count: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = readVarint(buf, pos);
    pos = varintEnd;
    const next = pos + length;
    if (length < 0 || next > end) return -1;
    pos += 1; // attributes
    readVarint(buf, pos); pos = varintEnd; // timestampDelta (a varlong: same encoding)
    readVarint(buf, pos); pos = varintEnd; // offsetDelta
    const keyLength = readVarint(buf, pos); pos = varintEnd;
    if (keyLength > 0) { total += keyLength; pos += keyLength; }
    const valueLength = readVarint(buf, pos);
    if (valueLength > 0) total += valueLength;
    pos = next;
  }
  return pos === end ? total : -1;
}

let varintEnd = 0;
/** A zigzag varint at `pos` (its end in varintEnd); NaN-free for up to 10 bytes, exact up to 2^53. */
function readVarint(buf: Buffer, pos: number): number {
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++] ?? 0;
    raw += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) break;
  }
  varintEnd = pos;
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}
