import { iterateBatches, iterateRecords, readBatchHeader, type RecordHeader } from '../../protocol/records/index.js';
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
    const ps = partitions.flatMap((partition) => {
      const offset = this.positions.get(partition);
      return offset === undefined ? [] : [{ topic: this.topic, partition, offset }];
    });
    const results = await this.client.fetchFrom(leader, ps, { maxWaitMs, maxBytes });
    const out: ConsumedRecord[] = [];
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
        if (!h.isControl) {
          for (const rec of iterateRecords(r.records, span.offset)) {
            const offset = h.baseOffset + BigInt(rec.offsetDelta);
            if (offset < position) continue;
            out.push({
              partition: r.partition, offset,
              timestamp: h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + rec.timestampDelta,
              timestampType: h.timestampType, key: rec.key, value: rec.value, headers: rec.headers,
              size: (rec.key?.length ?? 0) + (rec.value?.length ?? 0),
            });
          }
        }
        next = last + 1n;
      }
      this.positions.set(r.partition, next);
    }
    if (refresh) await this.client.metadata([this.topic]);
    return out;
  }
}
