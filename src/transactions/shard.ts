/**
 * The transactions of one `__transaction_state` partition while this broker leads it (Kafka's
 * TransactionCoordinator logic over one partition of TransactionStateManager). Every state
 * change is prepared (the pending state makes concurrent requests answer
 * CONCURRENT_TRANSACTIONS), written to the partition with acks=all, and applied only once
 * committed. After PrepareCommit / PrepareAbort is durable the markers go out; once every
 * partition has its marker, CompleteCommit / CompleteAbort is written.
 */
import type { Logger } from '../util/log.js';
import type { Scheduler } from '../groups/scheduler.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import {
  IllegalTxnTransition, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TransactionMetadata, TxnState, isEpochExhausted, tpKey,
  txnStateFromName, txnStateName, type TopicPartition, type TxnTransit,
} from './metadata.js';
import { txnLogKey, txnLogValue, type TxnLogRecord } from './records.js';
import { MarkersAbandoned, type TxnMarkerSender } from './markers.js';

import { TRANSACTIONAL_ID_NOT_FOUND } from './errors.js';

export { TRANSACTIONAL_ID_NOT_FOUND };

export interface TxnShardConfig {
  /** transaction.max.timeout.ms */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  readonly transactionalIdExpirationMs: number;
  /**
   * How long AddPartitionsToTxn / AddOffsetsToTxn wait for the previous transaction's markers
   * before answering CONCURRENT_TRANSACTIONS (0: at once, as Kafka). Markers take milliseconds
   * here, while clients back off for much longer (kafkajs 300 ms) on that error.
   */
  readonly concurrentTransactionsWaitMs?: number;
}

/** Writes one record (value null: a tombstone) to the partition; resolves once it is committed. */
export type TxnLogWriter = (key: Buffer, value: Buffer | null) => Promise<void>;

export interface InitProducerIdResult { readonly errorCode: number; readonly producerId: bigint; readonly producerEpoch: number }

export interface DescribedTransaction {
  readonly errorCode: number;
  readonly transactionalId: string;
  readonly state: string;
  readonly transactionTimeoutMs: number;
  readonly transactionStartTimeMs: bigint;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly partitions: readonly TopicPartition[];
}

export interface ListedTransaction { readonly transactionalId: string; readonly producerId: bigint; readonly state: string }

export interface ListFilters {
  readonly states: readonly string[];
  readonly producerIds: readonly bigint[];
  /** v1: only transactions running longer than this (ms); -1: any. */
  readonly durationMs: number;
}

/** How long the completion of a transaction waits before writing CompleteCommit/Abort again after a failed write. */
const COMPLETE_RETRY_MS = 100;

const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });

export class TxnShard {
  readonly txns = new Map<string, TransactionMetadata>();
  private closed = false;
  /** Marker jobs in flight (for tests and shutdown). */
  private readonly completions = new Set<Promise<void>>();
  /** The marker job of each transaction being completed. */
  private readonly completing = new Map<TransactionMetadata, Promise<void>>();

  constructor(
    readonly partitionIndex: number,
    /** The `__transaction_state` partition's leader epoch when this shard was loaded. */
    readonly coordinatorEpoch: number,
    private readonly writer: TxnLogWriter,
    private readonly markers: TxnMarkerSender,
    private readonly scheduler: Scheduler,
    private readonly config: TxnShardConfig,
    private readonly allocateProducerId: () => Promise<bigint>,
    private readonly log: Logger,
  ) {}

  get isClosed(): boolean { return this.closed; }

  /** Drops everything: this broker no longer coordinates the partition (marker jobs stop). */
  unload(): void { this.closed = true; }

  /** Settles when every marker job running now has ended (tests). */
  async idle(): Promise<void> { while (this.completions.size > 0) await Promise.allSettled([...this.completions]); }

  // ---- loading ------------------------------------------------------------------------------

  /** Applies one record read from the log (the last value of an id wins; a tombstone removes it). */
  replay(r: TxnLogRecord): void {
    if (r.value === null) { this.txns.delete(r.transactionalId); return; }
    const v = r.value;
    this.txns.set(r.transactionalId, new TransactionMetadata(r.transactionalId, v.producerId, v.previousProducerId, v.producerEpoch,
      v.lastProducerEpoch, v.txnTimeoutMs, v.state, v.txnStartTimestamp, v.txnLastUpdateTimestamp, v.partitions));
  }

  /** After loading: transactions left in PrepareCommit / PrepareAbort get their markers (again). */
  finishLoad(): void {
    for (const m of this.txns.values()) {
      if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort) this.completeWithMarkers(m);
    }
  }

  // ---- InitProducerId -------------------------------------------------------------------------

  async initProducerId(transactionalId: string, txnTimeoutMs: number, expected: { producerId: bigint; epoch: number } | undefined): Promise<InitProducerIdResult> {
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.config.transactionMaxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let meta = this.txns.get(transactionalId);
    if (meta === undefined) {
      const producerId = await this.allocateProducerId();
      if (this.closed) return fail(ErrorCode.NOT_COORDINATOR);
      meta = this.txns.get(transactionalId);
      if (meta === undefined) {
        const now = this.scheduler.wallClock();
        meta = new TransactionMetadata(transactionalId, producerId, NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, txnTimeoutMs, TxnState.Empty, -1, now);
        this.txns.set(transactionalId, meta);
      }
    }
    let prepared = this.prepareInitProducerId(meta, txnTimeoutMs, expected);
    if (prepared === 'rotate') {
      // The epochs of this producer id are used up: a new producer id at epoch 0.
      const newProducerId = await this.allocateProducerId();
      if (this.closed) return fail(ErrorCode.NOT_COORDINATOR);
      prepared = this.prepareInitProducerId(meta, txnTimeoutMs, expected, newProducerId);
      if (prepared === 'rotate') return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    if (typeof prepared === 'number') return fail(prepared);
    if (prepared.state === TxnState.PrepareEpochFence) {
      // The previous incarnation's transaction is aborted first (with the bumped epoch, never
      // returned); the client retries and then gets a second bump. endTransaction prepares the
      // abort synchronously, so nothing runs between the fence and it.
      const err = await this.endTransaction(transactionalId, prepared.producerId, prepared.producerEpoch, false, false);
      return fail(err === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : err);
    }
    const err = await this.append(meta, prepared);
    if (err !== ErrorCode.NONE) return fail(err);
    this.log.info({ transactionalId, producerId: prepared.producerId, producerEpoch: prepared.producerEpoch }, 'initialized transactional id');
    return { errorCode: ErrorCode.NONE, producerId: prepared.producerId, producerEpoch: prepared.producerEpoch };
  }

  /** The transition InitProducerId makes (or its error); 'rotate' asks for a new producer id first. */
  private prepareInitProducerId(meta: TransactionMetadata, txnTimeoutMs: number, expected: { producerId: bigint; epoch: number } | undefined,
    newProducerId?: bigint): TxnTransit | number | 'rotate' {
    const validExpected = (e: { producerId: bigint; epoch: number }): boolean =>
      meta.producerEpoch === NO_PRODUCER_EPOCH || e.producerId === meta.producerId ||
      (e.producerId === meta.lastProducerId && isEpochExhausted(e.epoch));
    if (meta.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (expected !== undefined && !validExpected(expected)) return ErrorCode.PRODUCER_FENCED;
    switch (meta.state) {
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.CompleteAbort:
      case TxnState.CompleteCommit:
      case TxnState.Empty: {
        if (meta.isProducerEpochExhausted && (expected === undefined || expected.epoch === meta.producerEpoch)) {
          if (newProducerId === undefined) return 'rotate';
          return meta.prepareProducerIdRotation(newProducerId, txnTimeoutMs, this.scheduler.wallClock(), expected !== undefined);
        }
        const t = meta.prepareIncrementProducerEpoch(txnTimeoutMs, expected?.epoch, this.scheduler.wallClock());
        return t === 'fenced' ? ErrorCode.PRODUCER_FENCED : t;
      }
      case TxnState.Ongoing:
        return meta.prepareFenceProducerEpoch();
      default:
        throw new IllegalTxnTransition(`${meta.transactionalId} is in state ${txnStateName(meta.state)}, which InitProducerId never meets`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----------------------------------------------------

  async addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const waitMs = this.config.concurrentTransactionsWaitMs ?? 0;
    const previous = this.txns.get(transactionalId);
    const completion = previous === undefined ? undefined : this.completing.get(previous);
    if (completion !== undefined && waitMs > 0 && previous!.producerId === producerId && previous!.producerEpoch === producerEpoch) {
      let cancel: (() => void) | undefined;
      await Promise.race([completion, new Promise<void>((resolve) => { cancel = this.scheduler.schedule(waitMs, resolve); })]);
      cancel?.();
    }
    const meta = this.txns.get(transactionalId);
    if (meta === undefined || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (meta.state === TxnState.PrepareCommit || meta.state === TxnState.PrepareAbort) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (meta.state === TxnState.Ongoing && partitions.every((tp) => meta.partitions.has(tpKey(tp)))) return ErrorCode.NONE;
    return this.append(meta, meta.prepareAddPartitions(partitions, this.scheduler.wallClock()));
  }

  // ---- EndTxn ---------------------------------------------------------------------------------

  /** EndTxn from a client, or (isFromClient false) the coordinator's own abort with a bumped epoch. */
  async endTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, isFromClient = true): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const meta = this.txns.get(transactionalId);
    if (meta === undefined) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    const prepared = this.prepareEnd(meta, producerId, producerEpoch, commit, isFromClient);
    if (typeof prepared === 'number') return prepared;
    const { transit, isEpochFence } = prepared;
    const err = await this.append(meta, transit);
    if (err !== ErrorCode.NONE) {
      if (isEpochFence && !this.closed) meta.hasFailedEpochFence = true;
      return err;
    }
    this.log.debug({ transactionalId, producerId, producerEpoch: transit.producerEpoch, commit, partitions: transit.partitions.length }, 'transaction prepared; writing markers');
    this.completeWithMarkers(meta);
    return ErrorCode.NONE;
  }

  private prepareEnd(meta: TransactionMetadata, producerId: bigint, producerEpoch: number, commit: boolean, isFromClient: boolean): { transit: TxnTransit; isEpochFence: boolean } | number {
    if (meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // A client must name the current epoch; the coordinator's own abort carries the bumped one.
    if ((isFromClient && producerEpoch !== meta.producerEpoch) || producerEpoch < meta.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.pendingTransitionInProgress && (isFromClient || meta.pendingState !== TxnState.PrepareEpochFence)) return ErrorCode.CONCURRENT_TRANSACTIONS;
    switch (meta.state) {
      case TxnState.Ongoing: {
        let isEpochFence = false;
        if (!commit && meta.pendingState === TxnState.PrepareEpochFence) {
          isEpochFence = true;
          meta.pendingState = undefined;
          meta.producerEpoch = producerEpoch;
          meta.lastProducerEpoch = NO_PRODUCER_EPOCH;
        }
        return { transit: meta.prepareAbortOrCommit(commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, this.scheduler.wallClock()), isEpochFence };
      }
      case TxnState.CompleteCommit: return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TxnState.CompleteAbort: return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case TxnState.PrepareCommit: return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case TxnState.PrepareAbort: return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.Empty: return ErrorCode.INVALID_TXN_STATE;
      default:
        throw new IllegalTxnTransition(`${meta.transactionalId} is in state ${txnStateName(meta.state)}, which EndTxn never meets`);
    }
  }

  /** Writes the markers of a prepared transaction, then its Complete state (retried until written or unloaded). */
  private completeWithMarkers(meta: TransactionMetadata): void {
    const commit = meta.state === TxnState.PrepareCommit;
    const job = {
      transactionalId: meta.transactionalId, producerId: meta.producerId, producerEpoch: meta.producerEpoch,
      coordinatorEpoch: this.coordinatorEpoch, commit, partitions: meta.partitionList(),
    };
    const run = (async (): Promise<void> => {
      try {
        await this.markers.send(job, () => this.closed || this.txns.get(meta.transactionalId) !== meta);
      } catch (err) {
        if (err instanceof MarkersAbandoned) { this.log.info({ transactionalId: job.transactionalId, reason: err.message }, 'transaction markers abandoned'); return; }
        throw err;
      }
      for (;;) {
        if (this.closed || this.txns.get(meta.transactionalId) !== meta) return;
        if (meta.state !== (commit ? TxnState.PrepareCommit : TxnState.PrepareAbort) || meta.pendingTransitionInProgress) return;
        const err = await this.append(meta, meta.prepareComplete(this.scheduler.wallClock()));
        if (err === ErrorCode.NONE) {
          this.log.debug({ transactionalId: job.transactionalId, commit }, 'transaction completed');
          return;
        }
        if (err === ErrorCode.NOT_COORDINATOR) return;
        await new Promise<void>((resolve) => { this.scheduler.schedule(COMPLETE_RETRY_MS, resolve); });
      }
    })().catch((err: unknown) => this.log.error({ err, transactionalId: job.transactionalId }, 'cannot complete a transaction'));
    this.completions.add(run);
    this.completing.set(meta, run);
    void run.finally(() => { this.completions.delete(run); if (this.completing.get(meta) === run) this.completing.delete(meta); });
  }

  // ---- the log --------------------------------------------------------------------------------

  /**
   * Writes a prepared transition and applies it once committed; on failure the pending state is
   * dropped and the error mapped as Kafka's TransactionStateManager.appendTransactionToLog does.
   */
  private async append(meta: TransactionMetadata, t: TxnTransit): Promise<number> {
    try {
      await this.writer(txnLogKey(meta.transactionalId), txnLogValue(t));
    } catch (err) {
      if (this.txns.get(meta.transactionalId) === meta) meta.pendingState = undefined;
      const code = err instanceof KafkaError ? err.code : ErrorCode.COORDINATOR_NOT_AVAILABLE;
      this.log.info({ transactionalId: meta.transactionalId, state: txnStateName(t.state), errorCode: code, err: (err as Error).message }, 'cannot write a transaction state');
      return mapAppendError(code);
    }
    if (this.closed || this.txns.get(meta.transactionalId) !== meta) return ErrorCode.NOT_COORDINATOR;
    meta.completeTransition(t);
    return ErrorCode.NONE;
  }

  // ---- timeouts and expiration ----------------------------------------------------------------

  /** Aborts, with an epoch bump, every Ongoing transaction older than its timeout. Returns how many were started. */
  abortTimedOutTransactions(): number {
    const now = this.scheduler.wallClock();
    let n = 0;
    for (const meta of [...this.txns.values()]) {
      if (this.closed) break;
      if (meta.state !== TxnState.Ongoing || meta.pendingTransitionInProgress || meta.txnStartTimestamp + meta.txnTimeoutMs >= now) continue;
      const fence = meta.prepareFenceProducerEpoch();
      n++;
      this.log.info({ transactionalId: meta.transactionalId, producerId: meta.producerId, timeoutMs: meta.txnTimeoutMs }, 'aborting a transaction past its timeout');
      void this.endTransaction(meta.transactionalId, fence.producerId, fence.producerEpoch, false, false).then((err) => {
        if (err !== ErrorCode.NONE) this.log.info({ transactionalId: meta.transactionalId, errorCode: err }, 'abort of a timed-out transaction did not start');
      });
    }
    return n;
  }

  /** Removes ids idle for transactional.id.expiration.ms (tombstones). Resolves to how many went. */
  async expireTransactionalIds(): Promise<number> {
    const now = this.scheduler.wallClock();
    const expired: [TransactionMetadata, TxnTransit][] = [];
    for (const meta of this.txns.values()) {
      const idle = meta.state === TxnState.Empty || meta.state === TxnState.CompleteCommit || meta.state === TxnState.CompleteAbort;
      if (!idle || meta.pendingTransitionInProgress || meta.txnLastUpdateTimestamp > now - this.config.transactionalIdExpirationMs) continue;
      expired.push([meta, meta.prepareDead()]);
    }
    let n = 0;
    await Promise.all(expired.map(async ([meta]) => {
      try {
        await this.writer(txnLogKey(meta.transactionalId), null);
        if (!this.closed && this.txns.get(meta.transactionalId) === meta) { this.txns.delete(meta.transactionalId); n++; }
      } catch (err) {
        if (this.txns.get(meta.transactionalId) === meta) meta.pendingState = undefined;
        this.log.info({ transactionalId: meta.transactionalId, err: (err as Error).message }, 'cannot expire a transactional id');
      }
    }));
    if (n > 0) this.log.info({ expired: n, partition: this.partitionIndex }, 'expired idle transactional ids');
    return n;
  }

  // ---- DescribeTransactions / ListTransactions ------------------------------------------------

  describe(transactionalId: string): DescribedTransaction {
    const meta = this.txns.get(transactionalId);
    if (meta === undefined || meta.state === TxnState.Dead) return notFound(transactionalId, TRANSACTIONAL_ID_NOT_FOUND);
    return {
      errorCode: ErrorCode.NONE, transactionalId, state: txnStateName(meta.state), transactionTimeoutMs: meta.txnTimeoutMs,
      transactionStartTimeMs: BigInt(meta.txnStartTimestamp), producerId: meta.producerId, producerEpoch: meta.producerEpoch,
      partitions: meta.partitionList(),
    };
  }

  list(filters: ListFilters): ListedTransaction[] {
    const now = this.scheduler.wallClock();
    const states = new Set(filters.states.map(txnStateFromName).filter((s) => s !== undefined));
    const ids = new Set(filters.producerIds);
    const out: ListedTransaction[] = [];
    for (const meta of this.txns.values()) {
      if (meta.state === TxnState.Dead) continue;
      if (ids.size > 0 && !ids.has(meta.producerId)) continue;
      if (filters.states.length > 0 && !states.has(meta.state)) continue;
      if (filters.durationMs >= 0 && now - meta.txnStartTimestamp <= filters.durationMs) continue;
      out.push({ transactionalId: meta.transactionalId, producerId: meta.producerId, state: txnStateName(meta.state) });
    }
    return out;
  }
}

export function notFound(transactionalId: string, errorCode: number): DescribedTransaction {
  return { errorCode, transactionalId, state: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, partitions: [] };
}

/** Kafka's mapping of a failed transaction log append to the error the client sees. */
export function mapAppendError(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
