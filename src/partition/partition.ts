import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import { systemClock, type Clock } from '../util/clock.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import { DEFAULT_PRODUCE_CONFIG, stampLogAppendTime, validateProducedRecords, type ProduceConfig } from './validate.js';
import { lastSequence, ProducerStateManager, type BatchMetadata } from './producer-state.js';
import type { AbortedTxn } from '../storage/txn-index.js';
import { IsolationLevel, type TxnMarker } from './txn.js';
import { raftIsr, type IsrSource } from './isr.js';
import { OffsetOutOfRangeError, type PartitionLog } from '../storage/log.js';
import { NotLeaderError, type FlushPolicy } from '../raft/group.js';
import {
  BATCH_LENGTH_OFFSET, buildControlBatch, ControlRecordType, iterateRecords, LOG_OVERHEAD, readBatchHeader, readControlRecord, RECORD_BATCH_OVERHEAD,
} from '../../protocol/records/index.js';
import type { PartitionRaft } from './raft-groups.js';
import type { Membership, MembershipChange, MembershipChangeResult } from '../raft/types.js';

export interface PartitionConfig {
  /** max.message.bytes: the largest record batch accepted (Kafka default 1048588). */
  readonly maxMessageBytes: number;
}

export interface AppendResult {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  /** The broker's append time on LogAppendTime topics, else -1. */
  readonly logAppendTimeMs: bigint;
  readonly logStartOffset: bigint;
  /** True when the batch was a retry of one already in the log (answered with its original offsets). */
  readonly duplicate: boolean;
}

export interface ReadResult {
  readonly records: Buffer | null;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  /** The last stable offset when the read was made (read_committed reads stop there). */
  readonly lastStableOffset: bigint;
  /** read_committed only: the aborted transactions overlapping the returned records. */
  readonly abortedTransactions?: readonly AbortedTxn[];
}

export { IsolationLevel, type TxnMarker } from './txn.js';

/** One producer of the partition as DescribeProducers shows it. */
export interface ActiveProducer {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** Sequence of the last record of its last batch, -1 when none (e.g. after an epoch bump by a marker). */
  readonly lastSequence: number;
  readonly lastTimestamp: bigint;
  /** Coordinator epoch of its last marker here, -1 when none. */
  readonly coordinatorEpoch: number;
  /** First offset of its open transaction here, -1 when none. */
  readonly currentTxnStartOffset: bigint;
}

/** producer.id.expiration.ms (Kafka default: one day). */
export const PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const PRODUCER_EXPIRATION_CHECK_MS = 600_000;
const REBUILD_READ_BYTES = 1 << 20;

/**
 * One partition replica on this broker: its Raft group and the log under it. The Raft group's
 * commit index is the partition's high watermark; consumers only see what is below it.
 *
 * The leader keeps the idempotent producers' state: rebuilt from the log whenever this replica
 * becomes leader (which includes startup), then updated synchronously with each append.
 */
export class Partition extends EventEmitter {
  private producers = new ProducerStateManager();
  /** Set while the producer state is being rebuilt; idempotent appends wait for it. */
  private producersLoading: Promise<void> | undefined;
  private producersReady = false;
  private leadershipGeneration = 0;
  private lastExpirationMs = 0;
  private isrSource: IsrSource;
  private readonly raftIsrSource: IsrSource;
  private maxTs: { timestamp: bigint; offset: bigint } = { timestamp: -1n, offset: -1n };

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    private readonly raft: PartitionRaft,
    private readonly config: PartitionConfig,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.setMaxListeners(0);
    this.raftIsrSource = { inSyncReplicas: () => raftIsr(raft.group.leaderId, raft.group.leaderTick, raft.group.followerProgress()) };
    this.isrSource = this.raftIsrSource;
    raft.group.on('highWatermark', (hw: bigint) => { log.txn.noteHighWatermark(hw); this.emit('highWatermark', hw); });
    raft.group.on('role', () => { this.onRoleChange(); this.emit('leadership'); });
    raft.group.on('error', (err) => this.logger.error({ err, topic, partition: index }, 'raft group failed'));
    if (raft.group.isLeader) this.onRoleChange();
  }

  get isLeader(): boolean { return this.raft.group.isLeader; }
  get leaderId(): number { return this.raft.group.leaderId; }
  get leaderEpoch(): number { return this.raft.group.leaderEpoch; }
  get highWatermark(): bigint { return this.raft.group.highWatermark; }
  get logStartOffset(): bigint { return this.log.logStartOffset; }
  get logEndOffset(): bigint { return this.log.logEndOffset; }
  /**
   * Kafka's last stable offset: the first offset of the oldest transaction not yet completed by
   * a marker below the high watermark, else the high watermark. read_committed consumers see up to here.
   */
  get lastStableOffset(): bigint { return this.log.lastStableOffset(this.highWatermark); }

  /** Replaces the ISR source (the default reads the Raft leader's follower progress). */
  setIsrSource(source: IsrSource): void { this.isrSource = source; }
  /**
   * Leader only: the in-sync replicas (this leader included). `maxLagTicks` overrides the lag
   * allowed by the default Raft-progress source (replica.lag.time.max.ms in ticks).
   */
  inSyncReplicas(maxLagTicks?: number): number[] {
    if (maxLagTicks !== undefined && this.isrSource === this.raftIsrSource) {
      return raftIsr(this.raft.group.leaderId, this.raft.group.leaderTick, this.raft.group.followerProgress(), maxLagTicks);
    }
    return [...this.isrSource.inSyncReplicas()];
  }

  /** The idempotent producer state (for tests and DescribeProducers); undefined while it is rebuilt. */
  producerState(): ProducerStateManager | undefined { return this.producersReady ? this.producers : undefined; }

  /**
   * DescribeProducers: the producers this leader knows (Kafka's activeProducers), waiting for the
   * producer state while it is rebuilt. NOT_LEADER_OR_FOLLOWER on a follower.
   */
  async activeProducers(): Promise<ActiveProducer[]> {
    if (!this.isLeader) throw this.notLeader();
    if (!this.producersReady) {
      await this.producersLoading;
      if (!this.isLeader || !this.producersReady) throw this.notLeader();
    }
    const out: ActiveProducer[] = [];
    for (const e of this.producers.producers()) {
      const last = e.batches[e.batches.length - 1];
      out.push({
        producerId: e.producerId, producerEpoch: e.epoch, lastSequence: last?.lastSeq ?? -1, lastTimestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch, currentTxnStartOffset: e.currentTxnFirstOffset ?? -1n,
      });
    }
    return out;
  }

  /** ListOffsets -3: the offset and timestamp of the record with the largest timestamp, (-1, -1) when empty. */
  maxTimestampAndOffset(): { timestamp: bigint; offset: bigint } {
    if (this.maxTs.offset < this.log.logStartOffset) return { timestamp: -1n, offset: -1n };
    return this.maxTs;
  }

  /**
   * Produce: validate the batch (CRC, size, format, records, timestamps), check the idempotent
   * producer's sequence, then propose it to the Raft group. acks=-1 resolves once committed (below
   * the high watermark) and needs min.insync.replicas in sync; acks=1 once the leader appended
   * (once committed when the group has no other member, see below).
   * Everything up to the Raft append is synchronous, so pipelined requests keep their order;
   * only an idempotent batch arriving while the producer state is rebuilt waits (in order).
   * Transactional batches open (or continue) the producer's transaction here; a non-transactional
   * batch of a producer with an open transaction is INVALID_TXN_STATE. `origin` 'coordinator' is
   * the group coordinator's transactional offset commit (epoch checked, no sequence).
   */
  async append(records: Buffer, acks: number, produceVersion: number, config?: ProduceConfig, origin: 'client' | 'coordinator' = 'client'): Promise<AppendResult> {
    const cfg = config ?? { ...DEFAULT_PRODUCE_CONFIG, maxMessageBytes: this.config.maxMessageBytes };
    if (!this.isLeader) throw this.notLeader();
    const now = this.clock.now();
    const h = validateProducedRecords(records, produceVersion, cfg, now);
    const idempotent = h.producerId >= 0n;
    if (h.isTransactional && !idempotent) throw new KafkaError(ErrorCode.INVALID_RECORD, 'a transactional batch needs a producer id');
    if (idempotent && !this.producersReady) {
      await this.producersLoading;
      if (!this.isLeader || !this.producersReady) throw this.notLeader();
    }
    if (acks === -1) {
      const isr = this.isrSource.inSyncReplicas();
      if (isr.length < cfg.minInsyncReplicas) {
        throw new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR [${isr.join(', ')}] is insufficient to satisfy the min.isr requirement of ${cfg.minInsyncReplicas}`);
      }
    }
    const firstSeq = h.baseSequence;
    const lastSeq = lastSequence(h.baseSequence, h.lastOffsetDelta);
    if (idempotent) {
      this.producers.checkTransactional(h.producerId, h.isTransactional);
      if (origin === 'coordinator') {
        // Kafka's AppendOrigin.COORDINATOR (transactional offset commits): no sequence to check.
        this.producers.checkEpoch(h.producerId, h.producerEpoch);
      } else {
        const dup = this.producers.check(h.producerId, h.producerEpoch, firstSeq, lastSeq);
        if (dup !== undefined) return this.answerDuplicate(dup, acks, cfg);
      }
    }
    const logAppendTime = cfg.timestampType === 'LogAppendTime' ? BigInt(now) : -1n;
    if (logAppendTime >= 0n) stampLogAppendTime(records, logAppendTime);
    let appended;
    try {
      appended = this.raft.append(records);
    } catch (err) {
      if (err instanceof NotLeaderError) throw this.notLeader();
      throw err;
    }
    const timestamp = logAppendTime >= 0n ? logAppendTime : h.maxTimestamp;
    this.noteTimestamp(timestamp, appended.baseOffset, appended.lastOffset, logAppendTime >= 0n);
    if (idempotent) {
      this.producers.record(h.producerId, h.producerEpoch, {
        firstSeq, lastSeq, firstOffset: appended.baseOffset, lastOffset: appended.lastOffset, timestamp,
      }, now, h.isTransactional);
      this.maybeExpireProducers(now);
    }
    // acks=1 answers once the leader appended, except on a replica set of one: there Kafka's high
    // watermark (the minimum log end over the ISR, here just the leader) covers the batch by the
    // time it answers, and clients read it back at once (ListOffsets latest, Fetch). The Raft
    // group of one commits on its own flush, so waiting for that commit gives the same guarantee.
    if (acks !== 1 || this.raft.group.followerProgress().size === 0) {
      try {
        await appended.committed;
      } catch (err) {
        if (err instanceof NotLeaderError) throw this.notLeader();
        throw err;
      }
    }
    return { baseOffset: appended.baseOffset, lastOffset: appended.lastOffset, logAppendTimeMs: logAppendTime, logStartOffset: this.log.logStartOffset, duplicate: false };
  }

  private async answerDuplicate(dup: BatchMetadata, acks: number, cfg: ProduceConfig): Promise<AppendResult> {
    if (acks !== 1 || this.raft.group.followerProgress().size === 0) await this.waitForCommit(dup.lastOffset);
    return {
      baseOffset: dup.firstOffset, lastOffset: dup.lastOffset,
      logAppendTimeMs: cfg.timestampType === 'LogAppendTime' ? dup.timestamp : -1n,
      logStartOffset: this.log.logStartOffset, duplicate: true,
    };
  }

  /**
   * WriteTxnMarkers for this partition: checks the marker against the producer state (older
   * producer epoch: INVALID_PRODUCER_EPOCH; older coordinator epoch: TRANSACTION_COORDINATOR_FENCED),
   * appends a COMMIT or ABORT control batch through Raft and resolves once it is committed (below
   * the high watermark), as Kafka appends markers with acks=-1. The producer's transaction ends
   * here at once (so its next transaction may start); the last stable offset moves past it when
   * the marker commits. Every replica adds an abort to its aborted-transaction index as it
   * appends the marker.
   */
  async writeTxnMarker(m: TxnMarker): Promise<void> {
    if (!this.isLeader) throw this.notLeader();
    if (!this.producersReady) {
      await this.producersLoading;
      if (!this.isLeader || !this.producersReady) throw this.notLeader();
    }
    this.producers.checkMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch);
    const now = this.clock.now();
    const batch = buildControlBatch({
      type: m.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
      producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, timestamp: BigInt(now),
    });
    let appended;
    try {
      appended = this.raft.append(batch);
    } catch (err) {
      if (err instanceof NotLeaderError) throw this.notLeader();
      throw err;
    }
    this.producers.recordMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch, appended.baseOffset, m.commit, BigInt(now), now);
    try {
      await appended.committed;
    } catch (err) {
      if (err instanceof NotLeaderError) throw this.notLeader();
      throw err;
    }
  }

  /** Resolves once the high watermark is past `lastOffset`; NOT_LEADER_OR_FOLLOWER if leadership goes first. */
  private waitForCommit(lastOffset: bigint): Promise<void> {
    if (this.highWatermark > lastOffset) return Promise.resolve();
    const generation = this.leadershipGeneration;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.highWatermark > lastOffset) { done(); resolve(); } else if (generation !== this.leadershipGeneration || !this.isLeader) { done(); reject(this.notLeader()); }
      };
      const done = (): void => { this.off('highWatermark', check); this.off('leadership', check); };
      this.on('highWatermark', check);
      this.on('leadership', check);
    });
  }

  private notLeader(): KafkaError {
    return new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This server is not the leader for partition ${this.topic}-${this.index}`);
  }

  private noteTimestamp(timestamp: bigint, baseOffset: bigint, lastOffset: bigint, logAppendTime: boolean): void {
    // Kafka's offsetOfMaxTimestamp: the first record of a LogAppendTime batch, else the batch's last
    // offset (refined to the exact record by ListOffsets when it reads the batch).
    if (timestamp > this.maxTs.timestamp) this.maxTs = { timestamp, offset: logAppendTime ? baseOffset : lastOffset };
  }

  private maybeExpireProducers(now: number): void {
    if (now - this.lastExpirationMs < PRODUCER_EXPIRATION_CHECK_MS) return;
    this.lastExpirationMs = now;
    const n = this.producers.expire(now, PRODUCER_ID_EXPIRATION_MS);
    if (n > 0) this.logger.debug({ expired: n }, 'expired idle producer ids');
  }

  // ---- producer state across leadership changes ---------------------------------------------

  private onRoleChange(): void {
    this.leadershipGeneration++;
    this.logger.debug({ leader: this.isLeader, leaderId: this.leaderId, leaderEpoch: this.leaderEpoch, logEndOffset: String(this.log.logEndOffset), highWatermark: String(this.highWatermark) }, 'partition role changed');
    if (!this.isLeader) {
      // A deposed leader's uncommitted tail may be truncated: its state is rebuilt when it leads again.
      this.producersReady = false;
      this.producersLoading = undefined;
      return;
    }
    const generation = this.leadershipGeneration;
    this.producersReady = false;
    this.producersLoading = this.rebuildProducerState(generation).catch((err: unknown) => {
      this.logger.error({ err, topic: this.topic, partition: this.index }, 'cannot rebuild producer state from the log');
    });
  }

  /** Reads every batch header of the log (Kafka rebuilds from its snapshots plus the log after them). */
  private async rebuildProducerState(generation: number): Promise<void> {
    const started = this.clock.monotonic();
    const producers = new ProducerStateManager();
    this.maxTs = { timestamp: -1n, offset: -1n };
    const now = this.clock.now();
    let from = this.log.logStartOffset;
    let batches = 0;
    while (from < this.log.logEndOffset) {
      let chunk: Buffer;
      try {
        chunk = (await this.log.read(from, REBUILD_READ_BYTES)).records;
      } catch (err) {
        if (err instanceof OffsetOutOfRangeError && from < this.log.logStartOffset) { from = this.log.logStartOffset; continue; }
        throw err;
      }
      if (generation !== this.leadershipGeneration) return;
      if (chunk.length === 0) break;
      for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= chunk.length;) {
        const size = LOG_OVERHEAD + chunk.readInt32BE(pos + BATCH_LENGTH_OFFSET);
        if (pos + size > chunk.length) break;
        const h = readBatchHeader(chunk, pos);
        const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (!h.isControl) {
          this.noteTimestamp(h.maxTimestamp, h.baseOffset, lastOffset, h.timestampType === 1);
          if (h.producerId >= 0n) {
            producers.record(h.producerId, h.producerEpoch, {
              firstSeq: h.baseSequence, lastSeq: lastSequence(h.baseSequence, h.lastOffsetDelta),
              firstOffset: h.baseOffset, lastOffset, timestamp: h.maxTimestamp,
            }, now, h.isTransactional);
          }
        } else if (h.isTransactional && h.producerId >= 0n) {
          const marker = readMarker(chunk.subarray(pos, pos + size));
          if (marker !== undefined) producers.recordMarker(h.producerId, h.producerEpoch, marker.coordinatorEpoch, h.baseOffset, marker.commit, h.maxTimestamp, now);
        }
        batches++;
        from = lastOffset + 1n;
        pos += size;
      }
    }
    if (generation !== this.leadershipGeneration) return;
    this.producers = producers;
    this.producersReady = true;
    this.logger.debug({ logEndOffset: String(this.log.logEndOffset), topic: this.topic, partition: this.index, producers: producers.size, batches, ms: this.clock.monotonic() - started }, 'producer state rebuilt from the log');
  }

  /** Resolves once the group knows a leader (this replica or another). */
  waitForLeader(): Promise<void> {
    if (this.leaderId >= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => { if (this.leaderId >= 0) { this.off('leadership', check); resolve(); } };
      this.on('leadership', check);
    });
  }

  /** Hands leadership to another replica (the preferred one), catching it up first. */
  transferLeadership(to: number): void { this.raft.transferLeadership(to); }
  /** The Raft configuration in force (voters and learners), and whether a change of it is uncommitted. */
  get membership(): Membership { return this.raft.group.membership; }
  get membershipChangePending(): boolean { return this.raft.group.membershipChangePending; }
  /** Leader only: one single-server membership change of the partition's Raft group (reassignment). */
  changeMembership(change: MembershipChange): MembershipChangeResult { return this.raft.changeMembership(change); }

  /** Whether this broker has heard from broker `nodeId` within the last second or so (Raft host liveness). */
  peerAlive(nodeId: number): boolean { return this.raft.peerAlive(nodeId); }

  /**
   * Fetch for a consumer: whole batches from `fetchOffset`, never past the high watermark, or
   * with read_committed (isolation 1) never past the last stable offset, with the aborted
   * transactions overlapping what is returned (from the aborted-transaction index).
   */
  async read(fetchOffset: bigint, maxBytes: number, isolationLevel = 0): Promise<ReadResult> {
    const highWatermark = this.highWatermark;
    const lastStableOffset = this.log.lastStableOffset(highWatermark);
    const committed = isolationLevel === IsolationLevel.READ_COMMITTED;
    const limit = committed ? lastStableOffset : highWatermark;
    if (fetchOffset < this.log.logStartOffset || fetchOffset > this.log.logEndOffset) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} is outside [${this.log.logStartOffset}, ${this.log.logEndOffset}]`);
    }
    const none = committed ? [] : undefined;
    if (fetchOffset >= limit) return { records: null, highWatermark, lastStableOffset, logStartOffset: this.log.logStartOffset, abortedTransactions: none };
    try {
      const { records, nextOffset } = await this.log.read(fetchOffset, maxBytes, limit);
      const abortedTransactions = committed && records.length > 0 ? this.log.collectAbortedTransactions(fetchOffset, nextOffset) : none;
      return { records: records.length > 0 ? records : null, highWatermark, lastStableOffset, logStartOffset: this.log.logStartOffset, abortedTransactions };
    } catch (err) {
      if (err instanceof OffsetOutOfRangeError) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, err.message);
      throw err;
    }
  }

  /** DeleteRecords: moves the log start offset to `offset` (-1: the high watermark). Returns the new log start. */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    if (!this.isLeader) throw this.notLeader();
    const target = offset === -1n ? this.highWatermark : offset;
    if (target < 0n || target > this.highWatermark) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `Cannot increment the log start offset to ${target} of partition ${this.topic}-${this.index} since it is larger than the high watermark ${this.highWatermark}`);
    }
    return this.log.deleteRecordsBefore(target);
  }

  /** The topic's flush.messages / flush.ms (undefined: fsync every append before Raft counts it, the default). */
  setFlushPolicy(policy: FlushPolicy | undefined): void { this.raft.group.setFlushPolicy(policy); }

  async close(): Promise<void> {
    this.leadershipGeneration++;
    await this.raft.close();
    await this.log.close();
  }
}

/** The COMMIT/ABORT marker of a control batch, undefined for other control records. */
function readMarker(batch: Buffer): { commit: boolean; coordinatorEpoch: number } | undefined {
  try {
    for (const r of iterateRecords(batch, 0)) {
      const c = readControlRecord(r);
      if (c.type !== ControlRecordType.ABORT && c.type !== ControlRecordType.COMMIT) return undefined;
      return { commit: c.type === ControlRecordType.COMMIT, coordinatorEpoch: c.coordinatorEpoch ?? -1 };
    }
  } catch { return undefined; }
  return undefined;
}
