/**
 * The group coordinator of this broker: it is the coordinator of every group whose
 * `__consumer_offsets` partition it leads. On gaining leadership of such a partition it loads the
 * groups from the log (COORDINATOR_LOAD_IN_PROGRESS meanwhile); on losing it, it drops them
 * (NOT_COORDINATOR). Requests are routed to the shard of the group's partition.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../util/log.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import type { MetadataImage } from '../cluster/image.js';
import type { CreateTopicRequest, CreateTopicResult } from '../cluster/controller.js';
import type { Partition } from '../partition/partition.js';
import { replayCommitted } from '../partition/replay.js';
import { buildRecordBatch, ControlRecordType, readControlRecord } from '../../protocol/records/index.js';
import { offsetsPartitionFor } from './hash.js';
import { decodeOffsetsRecord } from './records.js';
import type { Scheduler } from './scheduler.js';
import {
  GroupShard, type CommitInput, type GroupConfig, type GroupDescription, type JoinGroupInput, type ListedGroup,
  type MemberIdentity, type OffsetsWrite, type PartitionOffset, type SyncGroupInput, type TxnCommitInput, type TxnProducer,
} from './shard.js';
import type { JoinResult, SyncResult } from './group.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface GroupCoordinatorConfig extends GroupConfig {
  readonly offsetsTopicNumPartitions: number;        // offsets.topic.num.partitions
  readonly offsetsTopicReplicationFactor: number;    // offsets.topic.replication.factor (capped to live brokers)
  readonly offsetsRetentionCheckIntervalMs: number;  // offsets.retention.check.interval.ms
  readonly offsetsTopicSegmentBytes: number;         // offsets.topic.segment.bytes
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 50,
  offsetsTopicReplicationFactor: 3,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetsTopicSegmentBytes: 104_857_600,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3000,
  offsetsRetentionMs: 10080 * 60_000,
  offsetMetadataMaxBytes: 4096,
};

export interface GroupCoordinatorDeps {
  readonly nodeId: number;
  metadata(): MetadataImage;
  partition(topic: string, partition: number): Partition | undefined;
  createTopics(topics: readonly CreateTopicRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreateTopicResult[]>;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  /** Member ids are `${clientId}-${uuid}` as in Kafka; tests pass a deterministic one. */
  newMemberId?: (clientId: string) => string;
}

/** A shard lookup: the shard, or the error to answer for the group. */
export type ShardLookup = { shard: GroupShard; errorCode: 0 } | { shard: null; errorCode: number };

interface ShardEntry {
  readonly shard: GroupShard;
  readonly leaderEpoch: number;
  loading: boolean;
  /** Settles when loading ends (loaded, or given up). */
  readonly loaded: Promise<void>;
}

/**
 * How long JoinGroup, SyncGroup and OffsetCommit wait for a shard that is loading before they
 * answer COORDINATOR_LOAD_IN_PROGRESS: a new offsets partition loads in milliseconds, and not
 * every client retries that error.
 */
const LOAD_WAIT_MS = 5000;

/** How often leadership of the offsets partitions is re-checked (besides the 'leadership' events). */
const SWEEP_INTERVAL_MS = 500;

export class GroupCoordinator {
  private readonly shards = new Map<number, ShardEntry>();
  private readonly watched = new Set<Partition>();
  private creating: Promise<number> | null = null;
  private stopped = false;
  private cancelSweep: (() => void) | null = null;
  private cancelExpiry: (() => void) | null = null;
  private readonly newMemberId: (clientId: string) => string;

  constructor(private readonly config: GroupCoordinatorConfig, private readonly deps: GroupCoordinatorDeps) {
    this.newMemberId = deps.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`);
  }

  /** Starts watching leadership of the offsets partitions and the offsets retention sweep. */
  start(): void {
    const sweep = (): void => {
      if (this.stopped) return;
      this.reconcileAll();
      this.cancelSweep = this.deps.scheduler.schedule(SWEEP_INTERVAL_MS, sweep);
    };
    sweep();
    const expire = (): void => {
      if (this.stopped) return;
      void this.expireOffsets();
      this.cancelExpiry = this.deps.scheduler.schedule(this.config.offsetsRetentionCheckIntervalMs, expire);
    };
    this.cancelExpiry = this.deps.scheduler.schedule(this.config.offsetsRetentionCheckIntervalMs, expire);
  }

  close(): void {
    this.stopped = true;
    this.cancelSweep?.();
    this.cancelExpiry?.();
    for (const [p, e] of this.shards) { e.shard.unload(); this.shards.delete(p); }
  }

  /** The offsets partition of a group (the topic's actual partition count once it exists). */
  partitionFor(groupId: string): number {
    const topic = this.deps.metadata().topics.get(OFFSETS_TOPIC);
    return offsetsPartitionFor(groupId, topic?.partitions.length ?? this.config.offsetsTopicNumPartitions);
  }

  /**
   * Creates `__consumer_offsets` if it does not exist (compacted, replication factor capped to
   * the live brokers), waiting for its partition leaders as CreateTopics does. Resolves to NONE
   * once it exists.
   */
  ensureOffsetsTopic(timeoutMs: number): Promise<number> {
    if (this.deps.metadata().topics.has(OFFSETS_TOPIC)) return Promise.resolve(ErrorCode.NONE);
    if (this.creating === null) {
      const image = this.deps.metadata();
      const live = [...image.brokers.values()].filter((b) => !b.fenced).length;
      const replicationFactor = Math.max(1, Math.min(this.config.offsetsTopicReplicationFactor, live));
      this.creating = this.deps.createTopics([{
        name: OFFSETS_TOPIC,
        numPartitions: this.config.offsetsTopicNumPartitions,
        replicationFactor,
        assignments: [],
        configs: new Map([
          ['cleanup.policy', 'compact'],
          ['compression.type', 'producer'],
          ['segment.bytes', String(this.config.offsetsTopicSegmentBytes)],
        ]),
      }], timeoutMs, false).then(([r]) => {
        this.deps.log.info({ errorCode: r?.errorCode, replicationFactor }, 'created the offsets topic');
        this.reconcileAll();
        return r === undefined || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS ? ErrorCode.NONE : r.errorCode;
      }, (err: unknown) => {
        this.deps.log.warn({ err }, 'cannot create the offsets topic');
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      }).finally(() => { this.creating = null; });
    }
    return this.creating;
  }

  // ------------------------------------------------------------------------------------------
  // Leadership of the offsets partitions

  private reconcileAll(): void {
    const topic = this.deps.metadata().topics.get(OFFSETS_TOPIC);
    if (topic === undefined) return;
    for (const p of topic.partitions) {
      const partition = this.deps.partition(OFFSETS_TOPIC, p.partition);
      if (partition !== undefined) this.reconcile(partition);
    }
  }

  private watch(partition: Partition): void {
    if (this.watched.has(partition)) return;
    this.watched.add(partition);
    partition.on('leadership', () => this.reconcile(partition));
  }

  /** Loads the shard when this broker leads the partition, drops it when it no longer does. */
  private reconcile(partition: Partition): ShardEntry | undefined {
    this.watch(partition);
    if (this.stopped) return undefined;
    const index = partition.index;
    let entry = this.shards.get(index);
    if (entry !== undefined && (!partition.isLeader || partition.leaderEpoch !== entry.leaderEpoch)) {
      this.deps.log.info({ partition: index, leaderEpoch: entry.leaderEpoch }, 'unloading groups of an offsets partition this broker no longer leads');
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
    const writer = (records: readonly OffsetsWrite[], txn?: TxnProducer): Promise<bigint> => this.append(partition, leaderEpoch, records, txn);
    const shard = new GroupShard(index, writer, this.deps.scheduler, this.config, this.newMemberId, this.deps.log.child({ offsetsPartition: index }));
    let settle!: () => void;
    const entry: ShardEntry = { shard, leaderEpoch, loading: true, loaded: new Promise<void>((resolve) => { settle = resolve; }) };
    this.shards.set(index, entry);
    const started = this.deps.scheduler.now();
    this.replayLog(partition, shard, leaderEpoch).then(() => {
      if (this.shards.get(index) !== entry) return;
      shard.finishLoad();
      entry.loading = false;
      this.deps.log.info({ partition: index, leaderEpoch, groups: shard.groups.size, ms: Math.round(this.deps.scheduler.now() - started) }, 'loaded groups of an offsets partition');
    }, (err: unknown) => {
      if (this.shards.get(index) !== entry) return; // unloaded meanwhile (leadership moved)
      this.deps.log.warn({ err, partition: index }, 'cannot load the groups of an offsets partition; will retry');
      shard.unload();
      this.shards.delete(index);
    }).finally(settle);
    return entry;
  }

  /** Rebuilds the shard's groups and offsets from the partition's committed records. */
  private replayLog(partition: Partition, shard: GroupShard, leaderEpoch: number): Promise<void> {
    return replayCommitted(partition, () => partition.isLeader && partition.leaderEpoch === leaderEpoch && !shard.isClosed, {
      control(header, records) {
        // A transaction marker: the producer's pending offsets take effect or go.
        if (!header.isTransactional || header.producerId < 0n) return;
        for (const r of records) {
          const c = readControlRecord(r);
          if (c.type === ControlRecordType.COMMIT || c.type === ControlRecordType.ABORT) shard.completeTransaction(header.producerId, c.type === ControlRecordType.COMMIT);
        }
      },
      record(header, r, offset) {
        const decoded = decodeOffsetsRecord(r.key!, r.value);
        if (decoded === null) return;
        if (header.isTransactional && header.producerId >= 0n) shard.replayTransactional(header.producerId, decoded, offset); else shard.replay(decoded, offset);
      },
    });
  }

  private async append(partition: Partition, leaderEpoch: number, records: readonly OffsetsWrite[], txn?: TxnProducer): Promise<bigint> {
    if (!partition.isLeader || partition.leaderEpoch !== leaderEpoch) {
      throw new KafkaError(ErrorCode.NOT_COORDINATOR, 'no longer the leader of the offsets partition');
    }
    const timestamp = BigInt(this.deps.scheduler.wallClock());
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp })),
      ...(txn === undefined ? {} : { producerId: txn.producerId, producerEpoch: txn.producerEpoch, isTransactional: true }),
    });
    return (await partition.append(batch, -1, 9, undefined, txn === undefined ? 'client' : 'coordinator')).baseOffset;
  }

  /**
   * WriteTxnMarkers wrote a COMMIT or ABORT marker of `producerId` to offsets partition
   * `offsetsPartition` (committed): that producer's pending transactional offsets in the
   * partition's groups take effect or are dropped. A shard still loading applies it after the
   * load (the replay may already have seen the marker; applying twice is harmless).
   */
  async completeTransaction(offsetsPartition: number, producerId: bigint, commit: boolean): Promise<void> {
    const entry = this.shards.get(offsetsPartition);
    if (entry === undefined) return;
    if (entry.loading) await entry.loaded;
    if (this.shards.get(offsetsPartition) === entry) entry.shard.completeTransaction(producerId, commit);
  }

  /** TxnOffsetCommit: per-partition error codes in input order. */
  async txnCommitOffsets(req: TxnCommitInput): Promise<number[]> {
    const s = await this.loadedShardFor(req.groupId);
    return s.shard === null ? req.offsets.map(() => s.errorCode) : s.shard.txnCommitOffsets(req);
  }

  // ------------------------------------------------------------------------------------------
  // Routing

  /** The loaded shard coordinating `groupId` here, or NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS. */
  shardFor(groupId: string): ShardLookup {
    if (this.stopped) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    const topic = this.deps.metadata().topics.get(OFFSETS_TOPIC);
    if (topic === undefined) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    const index = offsetsPartitionFor(groupId, topic.partitions.length);
    const partition = this.deps.partition(OFFSETS_TOPIC, index);
    if (partition === undefined) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    const entry = this.reconcile(partition);
    if (entry === undefined) return { shard: null, errorCode: ErrorCode.NOT_COORDINATOR };
    if (entry.loading) return { shard: null, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    return { shard: entry.shard, errorCode: ErrorCode.NONE };
  }

  /** shardFor, but waiting up to LOAD_WAIT_MS for a shard that is still loading. */
  private async loadedShardFor(groupId: string): Promise<ShardLookup> {
    const s = this.shardFor(groupId);
    if (s.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return s;
    const topic = this.deps.metadata().topics.get(OFFSETS_TOPIC);
    const entry = topic === undefined ? undefined : this.shards.get(offsetsPartitionFor(groupId, topic.partitions.length));
    if (entry !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.loaded, new Promise<void>((resolve) => { timer = setTimeout(resolve, LOAD_WAIT_MS); })]);
      clearTimeout(timer);
    }
    return this.shardFor(groupId);
  }

  /** Whether any loaded shard is still loading (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS then). */
  get isLoading(): boolean {
    for (const e of this.shards.values()) if (e.loading) return true;
    return false;
  }

  async join(req: JoinGroupInput): Promise<JoinResult> {
    const s = await this.loadedShardFor(req.groupId);
    if (s.shard === null) {
      return Promise.resolve({ errorCode: s.errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: req.memberId, skipAssignment: false, members: [] });
    }
    return s.shard.join(req);
  }

  async sync(req: SyncGroupInput): Promise<SyncResult> {
    const s = await this.loadedShardFor(req.groupId);
    if (s.shard === null) return Promise.resolve({ errorCode: s.errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    return s.shard.sync(req);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const s = this.shardFor(groupId);
    return s.shard === null ? s.errorCode : s.shard.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, members: readonly MemberIdentity[]): { errorCode: number; members: (MemberIdentity & { errorCode: number })[] } {
    const s = this.shardFor(groupId);
    return s.shard === null ? { errorCode: s.errorCode, members: [] } : s.shard.leave(groupId, members);
  }

  async commitOffsets(req: CommitInput): Promise<number[]> {
    const s = await this.loadedShardFor(req.groupId);
    return s.shard === null ? Promise.resolve(req.offsets.map(() => s.errorCode)) : s.shard.commitOffsets(req);
  }

  fetchOffsets(groupId: string, topics: readonly { name: string; partitions: readonly number[] }[] | null, requireStable = false): { errorCode: number; topics: { name: string; partitions: PartitionOffset[] }[] } {
    const s = this.shardFor(groupId);
    return s.shard === null ? { errorCode: s.errorCode, topics: [] } : s.shard.fetchOffsets(groupId, topics, requireStable);
  }

  deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; codes: number[] }> {
    const s = this.shardFor(groupId);
    return s.shard === null ? Promise.resolve({ errorCode: s.errorCode, codes: [] }) : s.shard.deleteOffsets(groupId, partitions);
  }

  describe(groupId: string): GroupDescription {
    const s = this.shardFor(groupId);
    if (s.shard === null) return { errorCode: s.errorCode, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    return s.shard.describe(groupId);
  }

  deleteGroup(groupId: string): Promise<number> {
    const s = this.shardFor(groupId);
    return s.shard === null ? Promise.resolve(s.errorCode) : s.shard.deleteGroup(groupId);
  }

  /** Every group this broker coordinates (all loaded shards). */
  listGroups(): { errorCode: number; groups: ListedGroup[] } {
    this.reconcileAll();
    const groups: ListedGroup[] = [];
    for (const e of this.shards.values()) if (!e.loading) groups.push(...e.shard.list());
    return { errorCode: this.isLoading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
  }

  /** Runs the offsets retention on every loaded shard; resolves to the number of offsets expired. */
  async expireOffsets(): Promise<number> {
    let n = 0;
    for (const e of [...this.shards.values()]) if (!e.loading) n += await e.shard.expireOffsets();
    return n;
  }
}

/** The coordinator settings from the broker's (Kafka-named) configuration. */
export function groupCoordinatorConfig(c: {
  offsetsTopicNumPartitions: number; offsetsTopicReplicationFactor: number; groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number; groupMaxSessionTimeoutMs: number; offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
}): GroupCoordinatorConfig {
  return {
    ...DEFAULT_GROUP_COORDINATOR_CONFIG,
    offsetsTopicNumPartitions: c.offsetsTopicNumPartitions,
    offsetsTopicReplicationFactor: c.offsetsTopicReplicationFactor,
    groupInitialRebalanceDelayMs: c.groupInitialRebalanceDelayMs,
    groupMinSessionTimeoutMs: c.groupMinSessionTimeoutMs,
    groupMaxSessionTimeoutMs: c.groupMaxSessionTimeoutMs,
    offsetsRetentionMs: c.offsetsRetentionMinutes * 60_000,
    offsetsRetentionCheckIntervalMs: c.offsetsRetentionCheckIntervalMs,
  };
}
