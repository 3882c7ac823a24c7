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
  /** First offset of the producer's ongoing transaction in this partition, undefined when none. */
  readonly currentTxnFirstOffset: bigint | undefined;
  /** Epoch of the transaction coordinator that wrote the producer's last marker here (-1: none yet). */
  readonly coordinatorEpoch: number;
  /** Timestamp of the producer's last batch or marker (DescribeProducers), -1 when unknown. */
  readonly lastTimestamp: bigint;
}

/** A transaction ended by a marker: its data starts at firstOffset (the marker's offset when it had none). */
export interface EndedTxn {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
  readonly markerOffset: bigint;
  readonly commit: boolean;
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
 * Per-partition producer state (Kafka's ProducerStateManager and ProducerAppendInfo): sequences
 * and epochs of idempotent producers, and for transactional ones the ongoing transaction's first
 * offset and the coordinator epoch of the last marker. The leader checks every batch and marker
 * against it before appending and records it with its offsets right after; a new leader rebuilds
 * it from its log (data batches and markers alike).
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

  /** The epoch check alone (a coordinator's own transactional writes carry no sequence): INVALID_PRODUCER_EPOCH when older. */
  checkEpoch(producerId: bigint, epoch: number): void {
    const e = this.entries.get(producerId);
    if (e !== undefined && epoch < e.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Epoch of producer ${producerId} is ${epoch}, which is smaller than the last seen epoch ${e.epoch}`);
    }
  }

  /**
   * Kafka's rule for a data batch of a producer with a transaction open here: it must be
   * transactional too (INVALID_TXN_STATE otherwise).
   */
  checkTransactional(producerId: bigint, isTransactional: boolean): void {
    const e = this.entries.get(producerId);
    if (!isTransactional && e?.currentTxnFirstOffset !== undefined) {
      throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `Expected transactional write from producer ${producerId} at offset ${e.currentTxnFirstOffset} in partition`);
    }
  }

  /**
   * Kafka's checks for a COMMIT/ABORT marker: an older producer epoch is INVALID_PRODUCER_EPOCH,
   * an older coordinator epoch TRANSACTION_COORDINATOR_FENCED (a newer producer epoch is fine:
   * the coordinator bumps it when it aborts a timed-out transaction).
   */
  checkMarker(producerId: bigint, epoch: number, coordinatorEpoch: number): void {
    const e = this.entries.get(producerId);
    if (e === undefined) return;
    if (epoch < e.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Epoch of producer ${producerId} at offset is ${epoch}, which is smaller than the last seen epoch ${e.epoch}`);
    }
    if (coordinatorEpoch < e.coordinatorEpoch) {
      throw new KafkaError(ErrorCode.TRANSACTION_COORDINATOR_FENCED, `Invalid coordinator epoch for producer ${producerId}: ${coordinatorEpoch} (zombie), ${e.coordinatorEpoch} (current)`);
    }
  }

  /** Records an appended batch (after check() on the leader; unchecked when rebuilding from the log). */
  record(producerId: bigint, epoch: number, batch: BatchMetadata, nowMs: number, isTransactional = false): void {
    const e = this.entries.get(producerId);
    const sameEpoch = e !== undefined && e.epoch === epoch;
    const kept = sameEpoch ? e.batches.slice(-(NUM_BATCHES_TO_RETAIN - 1)) : [];
    kept.push(batch);
    const ongoing = e?.currentTxnFirstOffset;
    this.entries.set(producerId, {
      producerId, epoch: e !== undefined && e.epoch > epoch ? e.epoch : epoch, batches: kept, lastUpdateMs: nowMs,
      currentTxnFirstOffset: isTransactional ? (ongoing ?? batch.firstOffset) : ongoing,
      coordinatorEpoch: e?.coordinatorEpoch ?? -1,
      lastTimestamp: batch.timestamp,
    });
  }

  /**
   * Records an appended COMMIT/ABORT marker: the transaction ends; a newer producer epoch (a
   * coordinator-side bump) replaces the epoch and forgets the old epoch's batches.
   */
  recordMarker(producerId: bigint, epoch: number, coordinatorEpoch: number, markerOffset: bigint, commit: boolean, timestamp: bigint, nowMs: number): EndedTxn {
    const e = this.entries.get(producerId);
    const newEpoch = e === undefined || epoch > e.epoch;
    this.entries.set(producerId, {
      producerId,
      epoch: e === undefined || epoch > e.epoch ? epoch : e.epoch,
      batches: newEpoch ? [] : e.batches,
      lastUpdateMs: nowMs,
      currentTxnFirstOffset: undefined,
      coordinatorEpoch,
      lastTimestamp: timestamp,
    });
    return { producerId, firstOffset: e?.currentTxnFirstOffset ?? markerOffset, markerOffset, commit };
  }

  /** Producers with a transaction open here, oldest transaction first. */
  ongoingTransactions(): { producerId: bigint; firstOffset: bigint }[] {
    const out: { producerId: bigint; firstOffset: bigint }[] = [];
    for (const e of this.entries.values()) if (e.currentTxnFirstOffset !== undefined) out.push({ producerId: e.producerId, firstOffset: e.currentTxnFirstOffset });
    return out.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** Drops producers idle for longer than producer.id.expiration.ms. Returns how many went. */
  expire(nowMs: number, expirationMs: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      // A producer with an open transaction is kept (Kafka expires it only after the transaction ends).
      if (nowMs - e.lastUpdateMs > expirationMs && e.currentTxnFirstOffset === undefined) { this.entries.delete(id); n++; }
    }
    return n;
  }
}
