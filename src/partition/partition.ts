import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import { systemClock, type Clock } from '../util/clock.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import { DEFAULT_PRODUCE_CONFIG, stampLogAppendTime, validateProducedRecords, type ProduceConfig } from './validate.js';
import { lastSequence, ProducerStateManager, type BatchMetadata } from './producer-state.js';
import { raftIsr, type IsrSource } from './isr.js';
import { OffsetOutOfRangeError, type PartitionLog } from '../storage/log.js';
import { NotLeaderError } from '../raft/group.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, readBatchHeader, RECORD_BATCH_OVERHEAD } from '../../protocol/records/index.js';
import type { PartitionRaft } from './raft-groups.js';

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
    raft.group.on('highWatermark', (hw) => this.emit('highWatermark', hw));
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
   */
  async append(records: Buffer, acks: number, produceVersion: number, config?: ProduceConfig): Promise<AppendResult> {
    const cfg = config ?? { ...DEFAULT_PRODUCE_CONFIG, maxMessageBytes: this.config.maxMessageBytes };
    if (!this.isLeader) throw this.notLeader();
    const now = this.clock.now();
    const h = validateProducedRecords(records, produceVersion, cfg, now);
    if (h.isTransactional) throw new KafkaError(ErrorCode.INVALID_TXN_STATE, 'transactions are not supported by this broker');
    const idempotent = h.producerId >= 0n;
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
      const dup = this.producers.check(h.producerId, h.producerEpoch, firstSeq, lastSeq);
      if (dup !== undefined) return this.answerDuplicate(dup, acks, cfg);
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
      }, now);
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
            }, now);
          }
        }
        batches++;
        from = lastOffset + 1n;
        pos += size;
      }
    }
    if (generation !== this.leadershipGeneration) return;
    this.producers = producers;
    this.producersReady = true;
    this.logger.debug({ topic: this.topic, partition: this.index, producers: producers.size, batches, ms: this.clock.monotonic() - started }, 'producer state rebuilt from the log');
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

  /** Whether this broker has heard from broker `nodeId` within the last second or so (Raft host liveness). */
  peerAlive(nodeId: number): boolean { return this.raft.peerAlive(nodeId); }

  /** Fetch for a consumer: whole batches from `fetchOffset`, never past the high watermark. */
  async read(fetchOffset: bigint, maxBytes: number): Promise<ReadResult> {
    const highWatermark = this.highWatermark;
    if (fetchOffset < this.log.logStartOffset || fetchOffset > this.log.logEndOffset) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} is outside [${this.log.logStartOffset}, ${this.log.logEndOffset}]`);
    }
    if (fetchOffset >= highWatermark) return { records: null, highWatermark, logStartOffset: this.log.logStartOffset };
    try {
      const { records } = await this.log.read(fetchOffset, maxBytes, highWatermark);
      return { records: records.length > 0 ? records : null, highWatermark, logStartOffset: this.log.logStartOffset };
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

  async close(): Promise<void> {
    this.leadershipGeneration++;
    await this.raft.close();
    await this.log.close();
  }
}
