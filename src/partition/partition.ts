import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import { validateProducedRecords } from './validate.js';
import type { PartitionLog } from '../storage/log.js';
import { NotLeaderError } from '../raft/group.js';
import type { PartitionRaft } from './raft-groups.js';

export interface PartitionConfig {
  /** max.message.bytes: the largest record batch accepted (Kafka default 1048588). */
  readonly maxMessageBytes: number;
}

export interface AppendResult {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly logAppendTimeMs: bigint;
  readonly logStartOffset: bigint;
}

export interface ReadResult {
  readonly records: Buffer | null;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
}

/**
 * One partition replica on this broker: its Raft group and the log under it. The Raft group's
 * commit index is the partition's high watermark; consumers only see what is below it.
 */
export class Partition extends EventEmitter {
  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    private readonly raft: PartitionRaft,
    private readonly config: PartitionConfig,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    raft.group.on('highWatermark', (hw) => this.emit('highWatermark', hw));
    raft.group.on('role', () => this.emit('leadership'));
    raft.group.on('error', (err) => this.logger.error({ err, topic, partition: index }, 'raft group failed'));
  }

  get isLeader(): boolean { return this.raft.group.isLeader; }
  get leaderId(): number { return this.raft.group.leaderId; }
  get leaderEpoch(): number { return this.raft.group.leaderEpoch; }
  get highWatermark(): bigint { return this.raft.group.highWatermark; }
  get logStartOffset(): bigint { return this.log.logStartOffset; }
  get logEndOffset(): bigint { return this.log.logEndOffset; }

  /**
   * Produce: validate the batches (CRC, size, format) without decoding records, then propose them
   * to the Raft group. acks=-1 resolves once committed (below the high watermark); acks=1 once
   * the leader has appended. The append itself happens synchronously in call order, so pipelined
   * requests keep their order.
   */
  async append(records: Buffer, acks: number, produceVersion: number): Promise<AppendResult> {
    if (!this.isLeader) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `not the leader of ${this.topic}-${this.index}`);
    validateProducedRecords(records, produceVersion, this.config.maxMessageBytes);
    try {
      const appended = this.raft.append(records);
      if (acks !== 1) await appended.committed;
      return { baseOffset: appended.baseOffset, lastOffset: appended.lastOffset, logAppendTimeMs: -1n, logStartOffset: this.log.logStartOffset };
    } catch (err) {
      if (err instanceof NotLeaderError) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, err.message);
      throw err;
    }
  }

  /** Resolves once this replica leads its group. */
  waitForLeadership(): Promise<void> {
    if (this.isLeader) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => { if (this.isLeader) { this.off('leadership', check); resolve(); } };
      this.on('leadership', check);
    });
  }

  /** Hands leadership to another replica (the preferred one), catching it up first. */
  transferLeadership(to: number): void { this.raft.transferLeadership(to); }

  /** Fetch for a consumer: whole batches from `fetchOffset`, never past the high watermark. */
  async read(fetchOffset: bigint, maxBytes: number): Promise<ReadResult> {
    const highWatermark = this.highWatermark;
    if (fetchOffset < this.log.logStartOffset || fetchOffset > this.log.logEndOffset) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} is outside [${this.log.logStartOffset}, ${this.log.logEndOffset}]`);
    }
    if (fetchOffset >= highWatermark) return { records: null, highWatermark, logStartOffset: this.log.logStartOffset };
    const { records } = await this.log.read(fetchOffset, maxBytes, highWatermark);
    return { records: records.length > 0 ? records : null, highWatermark, logStartOffset: this.log.logStartOffset };
  }

  async close(): Promise<void> {
    await this.raft.close();
    await this.log.close();
  }
}
