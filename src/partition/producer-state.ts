import { ErrorCode, KafkaError } from '../kafka/errors.js';

/** Kafka keeps the metadata of each producer's last 5 batches per partition (max.in.flight = 5). */
export const NUM_BATCHES_TO_RETAIN = 5;

/** One appended batch of an idempotent producer. */
export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /** The batch's max timestamp (the append time on LogAppendTime topics). */
  readonly timestamp: bigint;
}

/** What the partition knows of one producer id. */
export interface ProducerEntry {
  readonly producerId: bigint;
  readonly epoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  readonly batches: readonly BatchMetadata[];
  /** Wall-clock ms of the last append (for producer.id.expiration.ms). */
  readonly lastUpdateMs: number;
}

/** The sequence of the last record of a batch (sequences wrap at Int32 max to 0). */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  const MAX = 0x7fffffff;
  return baseSequence > MAX - lastOffsetDelta ? lastOffsetDelta - (MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === 0x7fffffff);
}

/**
 * Per-partition idempotent producer state (Kafka's ProducerStateManager, non-transactional part).
 * The leader checks every batch of a producer against it before appending and records the batch
 * with its offsets right after; a new leader rebuilds it from its log.
 */
export class ProducerStateManager {
  private readonly entries = new Map<bigint, ProducerEntry>();

  get size(): number { return this.entries.size; }
  entry(producerId: bigint): ProducerEntry | undefined { return this.entries.get(producerId); }
  producers(): IterableIterator<ProducerEntry> { return this.entries.values(); }

  /**
   * Kafka's rules for a batch from a client: a duplicate of one of the producer's last 5 batches
   * (same epoch, same sequence range) is returned so the caller answers with its original
   * offsets; an older epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0; the
   * same epoch must continue the sequence; an unknown producer (never seen, or expired) may start
   * anywhere, as modern Kafka accepts (KIP-360).
   */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number): BatchMetadata | undefined {
    const e = this.entries.get(producerId);
    if (e === undefined) return undefined;
    if (epoch < e.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Epoch of producer ${producerId} is ${epoch}, which is smaller than the last seen epoch ${e.epoch}`);
    }
    if (epoch === e.epoch) {
      const dup = e.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
      if (dup !== undefined) return dup;
      const last = e.batches[e.batches.length - 1];
      if (last !== undefined && !inSequence(last.lastSeq, firstSeq)) {
        throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Out of order sequence number for producer ${producerId}: ${firstSeq} (incoming seq. number), ${last.lastSeq} (current end sequence number)`);
      }
      return undefined;
    }
    if (firstSeq !== 0) {
      throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Invalid sequence number for new epoch ${epoch} of producer ${producerId}: ${firstSeq} (request epoch), expected 0`);
    }
    return undefined;
  }

  /** Records an appended batch (after check() on the leader; unchecked when rebuilding from the log). */
  record(producerId: bigint, epoch: number, batch: BatchMetadata, nowMs: number): void {
    const e = this.entries.get(producerId);
    const kept = e !== undefined && e.epoch === epoch ? e.batches.slice(-(NUM_BATCHES_TO_RETAIN - 1)) : [];
    kept.push(batch);
    this.entries.set(producerId, { producerId, epoch: e !== undefined && e.epoch > epoch ? e.epoch : epoch, batches: kept, lastUpdateMs: nowMs });
  }

  /** Drops producers idle for longer than producer.id.expiration.ms. Returns how many went. */
  expire(nowMs: number, expirationMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (nowMs - e.lastUpdateMs > expirationMs) { this.entries.delete(id); n++; }
    }
    return n;
  }
}
