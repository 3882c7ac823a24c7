/**
 * The transaction coordinator of this broker: it coordinates every transactional id whose
 * `__transaction_state` partition (Utils.abs(transactionalId.hashCode) % partitions, as Kafka)
 * it leads. On gaining leadership of such a partition it loads the transactions from the log
 * (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and resumes the ones left in PrepareCommit or
 * PrepareAbort; on losing it, it drops them (NOT_COORDINATOR). The coordinator epoch is the
 * partition's leader epoch.
 */
import type { Logger } from '../util/log.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import type { MetadataImage } from '../cluster/image.js';
import type { CreateTopicRequest, CreateTopicResult } from '../cluster/controller.js';
import { TOPIC_CONFIG_DEFAULTS } from '../cluster/topic-config.js';
import type { Partition } from '../partition/partition.js';
import { produceConfigFrom } from '../partition/validate.js';
import type { Scheduler } from '../groups/scheduler.js';
import { offsetsPartitionFor } from '../groups/hash.js';
import { replayCommitted } from '../partition/replay.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { decodeTxnLogRecord } from './records.js';
import { TxnMarkerSender, type MarkerTransport } from './markers.js';
import {
  TxnShard, notFound, type DescribedTransaction, type InitProducerIdResult, type ListedTransaction, type ListFilters, type TxnShardConfig,
} from './shard.js';
import type { TopicPartition } from './metadata.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export interface TransactionCoordinatorConfig extends TxnShardConfig {
  readonly transactionStateLogNumPartitions: number;        // transaction.state.log.num.partitions
  readonly transactionStateLogReplicationFactor: number;    // transaction.state.log.replication.factor (capped to live brokers)
  readonly transactionStateLogMinIsr: number;               // transaction.state.log.min.isr (capped to the replication factor)
  readonly transactionStateLogSegmentBytes: number;         // transaction.state.log.segment.bytes
  readonly abortTimedOutTransactionCleanupIntervalMs: number;      // transaction.abort.timed.out.transaction.cleanup.interval.ms
  readonly removeExpiredTransactionalIdCleanupIntervalMs: number;  // transaction.remove.expired.transaction.cleanup.interval.ms
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: TransactionCoordinatorConfig = {
  transactionStateLogNumPartitions: 50,
  transactionStateLogReplicationFactor: 3,
  transactionStateLogMinIsr: 2,
  transactionStateLogSegmentBytes: 104_857_600,
  abortTimedOutTransactionCleanupIntervalMs: 10_000,
  removeExpiredTransactionalIdCleanupIntervalMs: 3_600_000,
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
};

export interface TransactionCoordinatorDeps {
  readonly nodeId: number;
  metadata(): MetadataImage;
  partition(topic: string, partition: number): Partition | undefined;
  createTopics(topics: readonly CreateTopicRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreateTopicResult[]>;
  /** A producer id never handed out before (the broker's ProducerIdManager). */
  allocateProducerId(): Promise<bigint>;
  /** The `__consumer_offsets` partition of a group (AddOffsetsToTxn adds it to the transaction). */
  offsetsPartitionFor(groupId: string): number;
  /** WriteTxnMarkers to a broker: this one's own partitions locally, the others' over the wire. */
  readonly markerTransport: MarkerTransport;
  readonly scheduler: Scheduler;
  readonly log: Logger;
}

export type TxnShardLookup = { shard: TxnShard; errorCode: 0 } | { shard: null; errorCode: number };

interface ShardEntry {
  readonly shard: TxnShard;
  readonly leaderEpoch: number;
  loading: boolean;
  readonly loaded: Promise<void>;
}

const SWEEP_INTERVAL_MS = 500;
/** How long the next transaction's AddPartitionsToTxn waits for the previous one's markers (see TxnShardConfig). */
const CONCURRENT_TRANSACTIONS_WAIT_MS = 500;

export class TransactionCoordinator {
  private readonly shards = new Map<number, ShardEntry>();
  private readonly watched = new Set<Partition>();
  private creating: Promise<number> | null = null;
  private stopped = false;
  /** The next run of each periodic task, to cancel on close. */
  private readonly timers = new Map<string, () => void>();
  private readonly markers: TxnMarkerSender;

  constructor(private readonly config: TransactionCoordinatorConfig, private readonly deps: TransactionCoordinatorDeps) {
    this.markers = new TxnMarkerSender(deps.markerTransport, (topic, p) => {
      const image = deps.metadata();
      if (!image.topics.has(topic)) return undefined;
      return image.partition(topic, p)?.leader ?? -1;
    }, deps.scheduler, deps.log.child({ component: 'txn-markers' }));
  }

  /** Starts watching leadership of the partitions, the timed-out transaction abort and the id expiration. */
  start(): void {
    const every = (name: string, ms: number, task: () => void): void => {
      const run = (): void => {
        if (this.stopped) return;
        task();
        this.timers.set(name, this.deps.scheduler.schedule(ms, run));
      };
      this.timers.set(name, this.deps.scheduler.schedule(ms, run));
    };
    this.reconcileAll();
    every('leadership', SWEEP_INTERVAL_MS, () => this.reconcileAll());
    every('abort', this.config.abortTimedOutTransactionCleanupIntervalMs, () => { this.abortTimedOutTransactions(); });
    every('expire', this.config.removeExpiredTransactionalIdCleanupIntervalMs, () => { void this.expireTransactionalIds(); });
  }

  close(): void {
    this.stopped = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    for (const [p, e] of this.shards) { e.shard.unload(); this.shards.delete(p); }
  }

  /** The partition count of `__transaction_state` (the topic's own once it exists). */
  private numPartitions(): number {
    return this.deps.metadata().topics.get(TRANSACTION_STATE_TOPIC)?.partitions.length ?? this.config.transactionStateLogNumPartitions;
  }

  /** The `__transaction_state` partition of a transactional id (same as Kafka's). */
  partitionFor(transactionalId: string): number { return offsetsPartitionFor(transactionalId, this.numPartitions()); }

  /** Creates `__transaction_state` if it does not exist yet, waiting for its leaders. Resolves to NONE once it exists. */
  ensureTopic(timeoutMs: number): Promise<number> {
    if (this.deps.metadata().topics.has(TRANSACTION_STATE_TOPIC)) return Promise.resolve(ErrorCode.NONE);
    if (this.creating === null) {
      const image = this.deps.metadata();
      const live = [...image.brokers.values()].filter((b) => !b.fenced).length;
      const replicationFactor = Math.max(1, Math.min(this.config.transactionStateLogReplicationFactor, live));
      const minIsr = Math.max(1, Math.min(this.config.transactionStateLogMinIsr, replicationFactor));
      this.creating = this.deps.createTopics([{
        name: TRANSACTION_STATE_TOPIC,
        numPartitions: this.config.transactionStateLogNumPartitions,
        replicationFactor,
        assignments: [],
        configs: new Map([
          ['cleanup.policy', 'compact'],
          ['compression.type', 'uncompressed'],
          ['min.insync.replicas', String(minIsr)],
          ['unclean.leader.election.enable', 'false'],
          ['segment.bytes', String(this.config.transactionStateLogSegmentBytes)],
        ]),
      }], timeoutMs, false).then(([r]) => {
        this.deps.log.info({ errorCode: r?.errorCode, replicationFactor, minIsr }, 'created the transaction state topic');
        this.reconcileAll();
        // Created but its leaders not yet reported in time: it exists, FindCoordinator answers from the image.
        if (r === undefined || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS || this.deps.metadata().topics.has(TRANSACTION_STATE_TOPIC)) return ErrorCode.NONE;
        return r.errorCode;
      }, (err: unknown) => {
        this.deps.log.warn({ err }, 'cannot create the transaction state topic');
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      }).finally(() => { this.creating = null; });
    }
    return this.creating;
  }

  // ---- leadership -----------------------------------------------------------------------------

  private reconcileAll(): void {
    const topic = this.deps.metadata().topics.get(TRANSACTION_STATE_TOPIC);
    if (topic === undefined) return;
    for (const p of topic.partitions) {
      const partition = this.deps.partition(TRANSACTION_STATE_TOPIC, p.partition);
      if (partition !== undefined) this.reconcile(partition);
    }
  }

  private reconcile(partition: Partition): ShardEntry | undefined {
    if (!this.watched.has(partition)) {
      this.watched.add(partition);
      partition.on('leadership', () => this.reconcile(partition));
    }
    if (this.stopped) return undefined;
    const index = partition.index;
    let entry = this.shards.get(index);
    if (entry !== undefined && (!partition.isLeader || partition.leaderEpoch !== entry.leaderEpoch)) {
      this.deps.log.info({ partition: index, coordinatorEpoch: entry.leaderEpoch }, 'unloading transactions of a partition this broker no longer leads');
      entry.shard.unload();
      this.shards.delete(index);
      entry = undefined;
    }
    if (entry === undefined && partition.isLeader) entry = this.load(partition);
    return entry;
  }

  private load(partition: Partition): ShardEntry {
    const leaderEpoch = partition.leaderEpoch;
    const index = partition.index;
    const shard = new TxnShard(index, leaderEpoch, (key, value) => this.append(partition, leaderEpoch, key, value), this.markers,
      this.deps.scheduler, { concurrentTransactionsWaitMs: CONCURRENT_TRANSACTIONS_WAIT_MS, ...this.config }, () => this.deps.allocateProducerId(),
      this.deps.log.child({ txnPartition: index }));
    let settle!: () => void;
    const entry: ShardEntry = { shard, leaderEpoch, loading: true, loaded: new Promise<void>((resolve) => { settle = resolve; }) };
    this.shards.set(index, entry);
    const started = this.deps.scheduler.now();
    this.replayLog(partition, shard, leaderEpoch).then(() => {
      if (this.shards.get(index) !== entry) return;
      entry.loading = false;
      shard.finishLoad();
      this.deps.log.info({ partition: index, coordinatorEpoch: leaderEpoch, transactionalIds: shard.txns.size, ms: Math.round(this.deps.scheduler.now() - started) }, 'loaded transactions of a transaction state partition');
    }, (err: unknown) => {
      if (this.shards.get(index) !== entry) return; // unloaded meanwhile (leadership moved)
      this.deps.log.warn({ err, partition: index }, 'cannot load the transactions of a partition; will retry');
      shard.unload();
      this.shards.delete(index);
    }).finally(settle);
    return entry;
  }

  /** Rebuilds the shard's transactions from the partition's committed records. */
  private replayLog(partition: Partition, shard: TxnShard, leaderEpoch: number): Promise<void> {
    return replayCommitted(partition, () => partition.isLeader && partition.leaderEpoch === leaderEpoch && !shard.isClosed, {
      record(_header, r) {
        const decoded = decodeTxnLogRecord(r.key!, r.value);
        if (decoded !== null) shard.replay(decoded);
      },
    });
  }

  private async append(partition: Partition, leaderEpoch: number, key: Buffer, value: Buffer | null): Promise<void> {
    if (!partition.isLeader || partition.leaderEpoch !== leaderEpoch) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, 'no longer the leader of the transaction state partition');
    }
    const topic = this.deps.metadata().topics.get(TRANSACTION_STATE_TOPIC);
    const config = produceConfigFrom((name) => topic?.configs.get(name) ?? TOPIC_CONFIG_DEFAULTS.get(name));
    const timestamp = BigInt(this.deps.scheduler.wallClock());
    await partition.append(buildRecordBatch({ records: [{ key, value, timestamp }] }), -1, 9, config);
  }

  // ---- routing --------------------------------------------------------------------------------

  /** The loaded shard coordinating `transactionalId` here, or NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS. */
  shardFor(transactionalId: string): TxnShardLookup {
    if (this.stopped) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    if (!this.deps.metadata().topics.has(TRANSACTION_STATE_TOPIC)) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    const partition = this.deps.partition(TRANSACTION_STATE_TOPIC, this.partitionFor(transactionalId));
    if (partition === undefined) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    const entry = this.reconcile(partition);
    if (entry === undefined) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    if (entry.loading) return { shard: null, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    return { shard: entry.shard, errorCode: ErrorCode.NONE };
  }

  get isLoading(): boolean {
    for (const e of this.shards.values()) if (e.loading) return true;
    return false;
  }

  initProducerId(transactionalId: string, txnTimeoutMs: number, expected: { producerId: bigint; epoch: number } | undefined): Promise<InitProducerIdResult> {
    if (transactionalId === '') return Promise.resolve({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.config.transactionMaxTimeoutMs) {
      return Promise.resolve({ errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, producerId: -1n, producerEpoch: -1 });
    }
    const s = this.shardFor(transactionalId);
    if (s.shard === null) return Promise.resolve({ errorCode: s.errorCode, producerId: -1n, producerEpoch: -1 });
    return s.shard.initProducerId(transactionalId, txnTimeoutMs, expected);
  }

  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartition[]): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    const s = this.shardFor(transactionalId);
    return s.shard === null ? Promise.resolve(s.errorCode) : s.shard.addPartitions(transactionalId, producerId, producerEpoch, partitions);
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  addOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic: '__consumer_offsets', partition: this.deps.offsetsPartitionFor(groupId) }]);
  }

  endTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    const s = this.shardFor(transactionalId);
    return s.shard === null ? Promise.resolve(s.errorCode) : s.shard.endTransaction(transactionalId, producerId, producerEpoch, commit, true);
  }

  describe(transactionalId: string): DescribedTransaction {
    if (transactionalId === '') return notFound(transactionalId, ErrorCode.INVALID_REQUEST);
    const s = this.shardFor(transactionalId);
    return s.shard === null ? notFound(transactionalId, s.errorCode) : s.shard.describe(transactionalId);
  }

  /** Every transaction this broker coordinates that passes the filters (COORDINATOR_LOAD_IN_PROGRESS while a partition loads). */
  list(filters: ListFilters): { errorCode: number; transactions: ListedTransaction[] } {
    this.reconcileAll();
    const transactions: ListedTransaction[] = [];
    for (const e of this.shards.values()) if (!e.loading) transactions.push(...e.shard.list(filters));
    return { errorCode: this.isLoading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, transactions };
  }

  /** Starts the abort of every timed-out transaction of every loaded partition; returns how many. */
  abortTimedOutTransactions(): number {
    let n = 0;
    for (const e of this.shards.values()) if (!e.loading) n += e.shard.abortTimedOutTransactions();
    return n;
  }

  async expireTransactionalIds(): Promise<number> {
    let n = 0;
    for (const e of [...this.shards.values()]) if (!e.loading) n += await e.shard.expireTransactionalIds();
    return n;
  }
}

/** The coordinator settings from the broker's configuration (the same field names). */
export function transactionCoordinatorConfig(c: TransactionCoordinatorConfig): TransactionCoordinatorConfig {
  return {
    transactionStateLogNumPartitions: c.transactionStateLogNumPartitions,
    transactionStateLogReplicationFactor: c.transactionStateLogReplicationFactor,
    transactionStateLogMinIsr: c.transactionStateLogMinIsr,
    transactionStateLogSegmentBytes: c.transactionStateLogSegmentBytes,
    abortTimedOutTransactionCleanupIntervalMs: c.abortTimedOutTransactionCleanupIntervalMs,
    removeExpiredTransactionalIdCleanupIntervalMs: c.removeExpiredTransactionalIdCleanupIntervalMs,
    transactionMaxTimeoutMs: c.transactionMaxTimeoutMs,
    transactionalIdExpirationMs: c.transactionalIdExpirationMs,
  };
}
