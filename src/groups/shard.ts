/**
 * The groups of one `__consumer_offsets` partition while this broker leads it: the classic group
 * protocol (Kafka's GroupCoordinator: join, sync, heartbeat, leave, rebalance and session
 * timeouts, static membership) and the offsets, every change persisted through `writer`
 * (acks=all) before it is acknowledged.
 */
import type { Logger } from '../util/log.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import type { GroupMetadataValue } from '../../protocol/generated/coordinator/index.js';
import { ClassicGroup, Member, decodeSubscriptionTopics, type GroupState, type JoinResult, type Protocol, type SyncResult } from './group.js';
import {
  groupMetadataKey, groupMetadataValue, offsetCommitKey, offsetCommitValue,
  type OffsetAndMetadata, type OffsetsRecord,
} from './records.js';
import type { Cancel, Scheduler } from './scheduler.js';

export interface GroupConfig {
  readonly groupMinSessionTimeoutMs: number;    // group.min.session.timeout.ms
  readonly groupMaxSessionTimeoutMs: number;    // group.max.session.timeout.ms
  readonly groupInitialRebalanceDelayMs: number; // group.initial.rebalance.delay.ms
  readonly offsetsRetentionMs: number;          // offsets.retention.minutes * 60000
  readonly offsetMetadataMaxBytes: number;      // offset.metadata.max.bytes (4096)
}

/** One record for the offsets partition (null value: tombstone). */
export interface OffsetsWrite { readonly key: Buffer; readonly value: Buffer | null }

/** The producer of a transactional write (TxnOffsetCommit). */
export interface TxnProducer { readonly producerId: bigint; readonly producerEpoch: number }

/**
 * Appends records to the offsets partition; resolves once committed (acks=all), to the log offset
 * of the first record when known. With `txn`, the records go in a transactional batch of that
 * producer (they take effect with its COMMIT marker).
 */
export type OffsetsWriter = (records: readonly OffsetsWrite[], txn?: TxnProducer) => Promise<bigint | void>;

export interface JoinGroupInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  /** JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its id (KIP-394). */
  readonly requireKnownMemberId: boolean;
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity { readonly memberId: string; readonly groupInstanceId: string | null }

export interface CommitInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: readonly { topic: string; partition: number; offset: bigint; leaderEpoch: number; metadata: string | null; commitTimestamp: bigint }[];
}

/** TxnOffsetCommit: an offset commit inside a producer's transaction. */
export interface TxnCommitInput extends CommitInput, TxnProducer {}

export interface PartitionOffset {
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface GroupDescription {
  readonly errorCode: number;
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  readonly protocolData: string;
  readonly members: readonly {
    memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string;
    metadata: Buffer; assignment: Buffer;
  }[];
}

export interface ListedGroup { readonly groupId: string; readonly protocolType: string; readonly state: GroupState }

interface GroupTimers {
  join: Cancel | null;
  /** The join timer is the initial rebalance delay (new members extend it; it never completes early). */
  initialDelay: boolean;
  initialDelayRemainingMs: number;
  sync: Cancel | null;
  pending: Map<string, Cancel>;
}

const EMPTY = Buffer.alloc(0);
const NO_OFFSET = -1n;

function joinError(errorCode: number, memberId = ''): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Kafka's mapping of a failed offsets-topic append to the error a group client understands. */
export function writeErrorCode(err: unknown, forOffsetCommit: boolean): number {
  const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forOffsetCommit ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return code;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/** A pending transactional offset, with the log offset of its record when known. */
interface PendingOffset { topic: string; partition: number; value: OffsetAndMetadata; recordOffset: bigint | undefined }
type PendingOffsets = Map<string, Map<string, PendingOffset>>;

export class GroupShard {
  readonly groups = new Map<string, ClassicGroup>();
  /**
   * Transactional offset commits written but not yet ended by a marker (Kafka's
   * pendingTransactionalOffsetCommits): producer id → group → `${topic}\0${partition}` → offset.
   */
  private readonly pendingTxnOffsets = new Map<bigint, PendingOffsets>();
  /**
   * Log offset of the record behind each committed offset (`${group}\0${topic}\0${partition}`),
   * so that a transaction's offsets do not replace a later plain commit (Kafka's olderThan).
   */
  private readonly commitRecordOffsets = new Map<string, bigint>();
  private readonly timers = new Map<ClassicGroup, GroupTimers>();
  private closed = false;

  constructor(
    readonly partition: number,
    private readonly writer: OffsetsWriter,
    private readonly scheduler: Scheduler,
    private readonly config: GroupConfig,
    private readonly newMemberId: (clientId: string) => string,
    private readonly log: Logger,
  ) {}

  // ------------------------------------------------------------------------------------------
  // Loading and unloading

  /** Applies one record read from the offsets partition (the log is replayed in order) at log offset `recordOffset`. */
  replay(record: OffsetsRecord, recordOffset?: bigint): void {
    if (record.type === 'offset') {
      const g = this.groups.get(record.group) ?? this.newGroup(record.group);
      g.setOffset(record.topic, record.partition, record.value);
      this.noteCommitRecord(record.group, record.topic, record.partition, record.value === null ? undefined : recordOffset);
      return;
    }
    if (record.value === null) {
      const g = this.groups.get(record.group);
      if (g !== undefined && g.numOffsets === 0) this.groups.delete(record.group);
      else if (g !== undefined) this.restoreMetadata(g, null);
      return;
    }
    this.restoreMetadata(this.groups.get(record.group) ?? this.newGroup(record.group), record.value);
  }

  /** Replays an offset commit read from a transactional batch of `producerId`: pending until its marker. */
  replayTransactional(producerId: bigint, record: OffsetsRecord, recordOffset?: bigint): void {
    if (record.type !== 'offset') return;
    this.addPending(producerId, record.group, record.topic, record.partition, record.value, recordOffset);
  }

  private noteCommitRecord(groupId: string, topic: string, partition: number, recordOffset: bigint | undefined): void {
    const key = `${groupId}\0${topic}\0${partition}`;
    if (recordOffset === undefined) this.commitRecordOffsets.delete(key); else this.commitRecordOffsets.set(key, recordOffset);
  }

  private addPending(producerId: bigint, groupId: string, topic: string, partition: number, value: OffsetAndMetadata | null, recordOffset: bigint | undefined): void {
    let byGroup = this.pendingTxnOffsets.get(producerId);
    if (byGroup === undefined) { byGroup = new Map(); this.pendingTxnOffsets.set(producerId, byGroup); }
    let byPartition = byGroup.get(groupId);
    if (byPartition === undefined) { byPartition = new Map(); byGroup.set(groupId, byPartition); }
    const key = `${topic}\0${partition}`;
    if (value === null) byPartition.delete(key); else byPartition.set(key, { topic, partition, value, recordOffset });
  }

  /**
   * A COMMIT or ABORT marker of `producerId` is committed in the offsets partition: its pending
   * offsets become the groups' committed offsets (commit) or are dropped (abort). Idempotent.
   */
  completeTransaction(producerId: bigint, commit: boolean): void {
    const byGroup = this.pendingTxnOffsets.get(producerId);
    if (byGroup === undefined) return;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return;
    for (const [groupId, offsets] of byGroup) {
      const g = this.groups.get(groupId) ?? this.newGroup(groupId);
      for (const o of offsets.values()) {
        // Kafka applies a transactional offset unless a plain commit written after it is in place.
        const at = this.commitRecordOffsets.get(`${groupId}\0${o.topic}\0${o.partition}`);
        if (g.offset(o.topic, o.partition) !== undefined && at !== undefined && o.recordOffset !== undefined && at > o.recordOffset) continue;
        g.setOffset(o.topic, o.partition, o.value);
        this.noteCommitRecord(groupId, o.topic, o.partition, o.recordOffset);
      }
    }
  }

  /** Whether a transactional offset commit of some producer is pending for this group and partition. */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    const key = `${topic}\0${partition}`;
    for (const byGroup of this.pendingTxnOffsets.values()) if (byGroup.get(groupId)?.has(key) === true) return true;
    return false;
  }

  private restoreMetadata(g: ClassicGroup, v: GroupMetadataValue | null): void {
    g.members.clear();
    g.staticMembers.clear();
    g.generationId = v?.generation ?? 0;
    g.protocolType = v === null || v.protocolType === '' ? null : v.protocolType;
    g.protocolName = v?.protocol ?? null;
    g.leaderId = v?.leader ?? null;
    g.currentStateTimestamp = v === null || v.currentStateTimestamp < 0n ? null : Number(v.currentStateTimestamp);
    for (const m of v?.members ?? []) {
      const member = new Member(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
        m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout, m.sessionTimeout, g.protocolType ?? '',
        [{ name: g.protocolName ?? '', metadata: m.subscription }]);
      member.assignment = m.assignment;
      g.add(member, null);
    }
    g.leaderId = v?.leader ?? null;
    g.state = g.members.size > 0 ? 'Stable' : 'Empty';
  }

  /** After replay: loaded members' sessions start now (they heartbeat to the new coordinator). */
  finishLoad(): void {
    for (const g of this.groups.values()) {
      if (g.members.size > 0 && g.protocolName !== null) {
        // recompute the consumer subscription the way a completed join would
        g.subscribedTopics = null;
        try {
          const topics = new Set<string>();
          for (const m of g.members.values()) {
            const md = m.metadataFor(g.protocolName);
            if (g.protocolType === 'consumer') for (const t of decodeSubscriptionTopics(md)) topics.add(t);
          }
          if (g.protocolType === 'consumer') g.subscribedTopics = topics;
        } catch { g.subscribedTopics = null; }
      }
      for (const m of g.members.values()) this.scheduleHeartbeat(g, m);
    }
  }

  /** Leadership of the partition moved away: drop everything, answer waiting calls NOT_COORDINATOR. */
  unload(): void {
    this.closed = true;
    for (const [g, t] of this.timers) {
      t.join?.(); t.sync?.();
      for (const c of t.pending.values()) c();
      for (const m of g.members.values()) {
        m.heartbeatTimer?.();
        m.awaitingJoin?.(joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        m.awaitingJoin = null;
        m.awaitingSync?.(syncError(ErrorCode.NOT_COORDINATOR));
        m.awaitingSync = null;
      }
    }
    for (const g of this.groups.values()) for (const m of g.members.values()) m.heartbeatTimer?.();
    this.timers.clear();
    this.groups.clear();
    this.pendingTxnOffsets.clear();
    this.commitRecordOffsets.clear();
  }

  get isClosed(): boolean { return this.closed; }

  private newGroup(groupId: string): ClassicGroup {
    const g = new ClassicGroup(groupId, () => this.scheduler.wallClock());
    this.groups.set(groupId, g);
    return g;
  }

  private timersOf(g: ClassicGroup): GroupTimers {
    let t = this.timers.get(g);
    if (t === undefined) {
      t = { join: null, initialDelay: false, initialDelayRemainingMs: 0, sync: null, pending: new Map() };
      this.timers.set(g, t);
    }
    return t;
  }

  // ------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinGroupInput): Promise<JoinResult> {
    if (this.closed) return Promise.resolve(joinError(ErrorCode.NOT_COORDINATOR, req.memberId));
    if (req.groupId === '') return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, req.memberId));
    if (req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    }
    const isUnknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      if (!isUnknownMember) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = this.newGroup(req.groupId);
    }
    const g = group;
    if (g.is('Dead')) return Promise.resolve(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId));
    const result = isUnknownMember ? this.joinUnknownMember(g, req) : this.joinKnownMember(g, req);
    if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
    return result.then((r) => {
      // A group created by a join that failed at once leaves no trace (Kafka removes it too).
      if (r.errorCode !== ErrorCode.NONE && g.is('Empty') && g.members.size === 0 && g.pendingMembers.size === 0
        && g.numOffsets === 0 && g.generationId === 0 && this.groups.get(g.groupId) === g) {
        this.groups.delete(g.groupId);
        this.timers.delete(g);
      }
      return r;
    });
  }

  private joinUnknownMember(g: ClassicGroup, req: JoinGroupInput): Promise<JoinResult> {
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = this.newMemberId(req.clientId);
    if (req.groupInstanceId !== null) {
      const oldMemberId = g.staticMemberId(req.groupInstanceId);
      if (oldMemberId !== undefined) return this.updateStaticMemberAndRebalance(g, oldMemberId, newMemberId, req);
      return this.addMemberAndRebalance(g, newMemberId, req);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: the member must come back with this id; until then it only holds a place.
      g.pendingMembers.add(newMemberId);
      const t = this.timersOf(g);
      t.pending.set(newMemberId, this.scheduler.schedule(req.sessionTimeoutMs, () => this.removePendingMember(g, newMemberId)));
      return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    }
    return this.addMemberAndRebalance(g, newMemberId, req);
  }

  private joinKnownMember(g: ClassicGroup, req: JoinGroupInput): Promise<JoinResult> {
    if (g.pendingMembers.has(req.memberId)) return this.addMemberAndRebalance(g, req.memberId, req);
    if (g.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return Promise.resolve(joinError(ErrorCode.FENCED_INSTANCE_ID, req.memberId));
    const member = g.get(req.memberId);
    if (member === undefined) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    switch (g.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(g, member, req);
      case 'CompletingRebalance':
        // A repeated join (e.g. the response was lost) gets the same answer again.
        if (member.matches(req.protocols)) return Promise.resolve(g.joinResultFor(member));
        return this.updateMemberAndRebalance(g, member, req);
      case 'Stable':
        if (g.isLeader(member.memberId) || !member.matches(req.protocols)) return this.updateMemberAndRebalance(g, member, req);
        return Promise.resolve(g.joinResultFor(member));
      default:
        return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    }
  }

  private addMemberAndRebalance(g: ClassicGroup, memberId: string, req: JoinGroupInput): Promise<JoinResult> {
    const member = new Member(memberId, req.groupInstanceId, req.clientId, req.clientHost, req.rebalanceTimeoutMs,
      req.sessionTimeoutMs, req.protocolType, req.protocols);
    member.isNew = true;
    this.removePendingTimer(g, memberId);
    g.pendingMembers.delete(memberId);
    const result = new Promise<JoinResult>((resolve) => g.add(member, resolve));
    const t = this.timersOf(g);
    if (g.is('PreparingRebalance') && t.initialDelay) g.newMemberAdded = true;
    this.scheduleHeartbeat(g, member);
    this.maybePrepareRebalance(g, `new member ${memberId} joined`);
    return result;
  }

  private updateMemberAndRebalance(g: ClassicGroup, member: Member, req: JoinGroupInput): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    // A second join while the first still waits: the first is superseded.
    member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    const result = new Promise<JoinResult>((resolve) => { member.awaitingJoin = resolve; });
    this.maybePrepareRebalance(g, `member ${member.memberId} rejoined`);
    return result;
  }

  private updateStaticMemberAndRebalance(g: ClassicGroup, oldMemberId: string, newMemberId: string, req: JoinGroupInput): Promise<JoinResult> {
    const instanceId = req.groupInstanceId!;
    const currentLeader = g.leaderId ?? '';
    const member = g.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    const old = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    this.scheduleHeartbeat(g, member);
    switch (g.state) {
      case 'Stable': {
        if (g.protocolName === g.selectProtocol()) {
          // The restarted instance keeps its assignment: no rebalance (KIP-345). The old leader id is
          // returned so that this member never believes it must compute an assignment.
          const generation = g.generationId;
          return this.storeGroup(g, null).then((errorCode) => {
            if (errorCode !== ErrorCode.NONE) {
              if (g.get(newMemberId) === member) {
                g.replaceStaticMember(instanceId, newMemberId, oldMemberId);
                Object.assign(member, old);
              }
              return joinError(errorCode, newMemberId);
            }
            return {
              errorCode: ErrorCode.NONE, generationId: generation, protocolType: g.protocolType, protocolName: g.protocolName,
              leader: currentLeader, memberId: newMemberId, skipAssignment: false, members: [],
            };
          });
        }
        const result = new Promise<JoinResult>((resolve) => { member.awaitingJoin = resolve; });
        this.maybePrepareRebalance(g, `static member ${instanceId} joined with a change of protocol`);
        return result;
      }
      case 'CompletingRebalance': {
        // The leader may already have assigned to the old member id: rebalance again.
        const result = new Promise<JoinResult>((resolve) => { member.awaitingJoin = resolve; });
        this.prepareRebalance(g, `static member ${instanceId} rejoined during CompletingRebalance`);
        return result;
      }
      case 'PreparingRebalance':
        return new Promise<JoinResult>((resolve) => { member.awaitingJoin = resolve; });
      default:
        throw new Error(`static member ${instanceId} of group ${g.groupId} found in state ${g.state}`);
    }
  }

  private removePendingTimer(g: ClassicGroup, memberId: string): void {
    const t = this.timers.get(g);
    t?.pending.get(memberId)?.();
    t?.pending.delete(memberId);
  }

  private removePendingMember(g: ClassicGroup, memberId: string): void {
    this.removePendingTimer(g, memberId);
    if (!g.pendingMembers.delete(memberId)) return;
    if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
  }

  private canRebalance(g: ClassicGroup): boolean {
    return g.is('Stable') || g.is('CompletingRebalance') || g.is('Empty');
  }

  private maybePrepareRebalance(g: ClassicGroup, reason: string): void {
    if (this.canRebalance(g)) this.prepareRebalance(g, reason);
  }

  private prepareRebalance(g: ClassicGroup, reason: string): void {
    if (g.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(g, ErrorCode.REBALANCE_IN_PROGRESS);
    const t = this.timersOf(g);
    t.sync?.(); t.sync = null;
    t.join?.(); t.join = null;
    const initial = g.is('Empty');
    g.transitionTo('PreparingRebalance');
    this.log.debug({ group: g.groupId, generation: g.generationId, reason }, 'preparing to rebalance group');
    const rebalanceTimeoutMs = g.maxRebalanceTimeoutMs();
    if (initial) {
      // group.initial.rebalance.delay.ms: wait for more members before the first generation,
      // extending the wait while new members keep arriving, up to the rebalance timeout.
      const delay = Math.min(this.config.groupInitialRebalanceDelayMs, rebalanceTimeoutMs);
      t.initialDelay = true;
      t.initialDelayRemainingMs = Math.max(0, rebalanceTimeoutMs - delay);
      g.newMemberAdded = false;
      t.join = this.scheduler.schedule(delay, () => this.onInitialDelayExpired(g));
    } else {
      t.initialDelay = false;
      t.join = this.scheduler.schedule(rebalanceTimeoutMs, () => this.completeJoin(g));
      this.tryCompleteJoin(g);
    }
  }

  private onInitialDelayExpired(g: ClassicGroup): void {
    const t = this.timersOf(g);
    t.join = null;
    if (g.newMemberAdded && t.initialDelayRemainingMs > 0) {
      g.newMemberAdded = false;
      const delay = Math.min(this.config.groupInitialRebalanceDelayMs, t.initialDelayRemainingMs);
      t.initialDelayRemainingMs -= delay;
      t.join = this.scheduler.schedule(delay, () => this.onInitialDelayExpired(g));
      return;
    }
    t.initialDelay = false;
    this.completeJoin(g);
  }

  private tryCompleteJoin(g: ClassicGroup): void {
    const t = this.timersOf(g);
    if (g.is('PreparingRebalance') && !t.initialDelay && g.hasAllMembersJoined()) this.completeJoin(g);
  }

  private completeJoin(g: ClassicGroup): void {
    const t = this.timersOf(g);
    t.join?.(); t.join = null;
    t.initialDelay = false;
    if (!g.is('PreparingRebalance') || this.closed) return;
    for (const m of g.notYetRejoinedMembers()) {
      m.heartbeatTimer?.();
      m.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      m.awaitingSync = null;
      g.remove(m.memberId);
    }
    g.maybeElectNewJoinedLeader();
    g.initNextGeneration();
    if (g.is('Empty')) {
      this.storeGroup(g, null).then((code) => {
        if (code !== ErrorCode.NONE) this.log.warn({ group: g.groupId, errorCode: code }, 'cannot persist the empty group');
      }, () => undefined);
      return;
    }
    this.log.debug({ group: g.groupId, generation: g.generationId, members: g.members.size, protocol: g.protocolName }, 'group rebalanced');
    for (const m of g.members.values()) {
      const respond = m.awaitingJoin;
      m.awaitingJoin = null;
      m.isNew = false;
      respond?.(g.joinResultFor(m));
      this.scheduleHeartbeat(g, m);
    }
    // Members that do not SyncGroup within the rebalance timeout are removed (Kafka's pending sync).
    const generation = g.generationId;
    t.sync = this.scheduler.schedule(g.maxRebalanceTimeoutMs(), () => this.onSyncExpired(g, generation));
  }

  private onSyncExpired(g: ClassicGroup, generation: number): void {
    const t = this.timersOf(g);
    t.sync = null;
    if (g.generationId !== generation || !(g.is('CompletingRebalance') || g.is('Stable')) || g.pendingSyncMembers.size === 0) return;
    for (const id of [...g.pendingSyncMembers]) {
      const m = g.get(id);
      if (m === undefined) continue;
      m.heartbeatTimer?.();
      m.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, id));
      m.awaitingJoin = null;
      g.remove(id);
    }
    this.prepareRebalance(g, 'members did not sync within the rebalance timeout');
  }

  // ------------------------------------------------------------------------------------------
  // SyncGroup

  sync(req: SyncGroupInput): Promise<SyncResult> {
    if (this.closed) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    const g = this.groups.get(req.groupId);
    if (g === undefined) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (g.is('Dead')) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (g.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return Promise.resolve(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = g.get(req.memberId);
    if (member === undefined) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== g.generationId) return Promise.resolve(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((req.protocolType !== null && req.protocolType !== g.protocolType) || (req.protocolName !== null && req.protocolName !== g.protocolName)) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (g.state) {
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const result = new Promise<SyncResult>((resolve) => { member.awaitingSync = resolve; });
        g.pendingSyncMembers.delete(member.memberId);
        this.scheduleHeartbeat(g, member);
        if (g.isLeader(member.memberId)) {
          const assignments = new Map<string, Buffer>();
          for (const id of g.members.keys()) assignments.set(id, EMPTY);
          for (const a of req.assignments) if (assignments.has(a.memberId)) assignments.set(a.memberId, a.assignment);
          const generation = g.generationId;
          void this.storeGroup(g, assignments).then((errorCode) => {
            if (!g.is('CompletingRebalance') || g.generationId !== generation) return;
            if (errorCode !== ErrorCode.NONE) {
              this.resetAndPropagateAssignmentError(g, errorCode);
              this.maybePrepareRebalance(g, 'cannot persist the group assignment');
              return;
            }
            for (const [id, a] of assignments) g.get(id)!.assignment = a;
            this.propagateAssignment(g, ErrorCode.NONE);
            g.transitionTo('Stable');
          });
        }
        return result;
      }
      case 'Stable':
        g.pendingSyncMembers.delete(member.memberId);
        this.scheduleHeartbeat(g, member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocolName, assignment: member.assignment });
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private resetAndPropagateAssignmentError(g: ClassicGroup, errorCode: number): void {
    for (const m of g.members.values()) m.assignment = EMPTY;
    this.propagateAssignment(g, errorCode);
  }

  private propagateAssignment(g: ClassicGroup, errorCode: number): void {
    for (const m of g.members.values()) {
      const respond = m.awaitingSync;
      if (respond === null) continue;
      m.awaitingSync = null;
      respond({ errorCode, protocolType: g.protocolType, protocolName: g.protocolName, assignment: errorCode === ErrorCode.NONE ? m.assignment : EMPTY });
      this.scheduleHeartbeat(g, m);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Heartbeat, sessions, LeaveGroup

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const g = this.groups.get(groupId);
    if (g === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (g.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = g.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (g.state) {
      case 'Empty': return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(g, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.scheduleHeartbeat(g, member);
        return ErrorCode.NONE;
    }
  }

  /** (Re)starts the member's session timer; a member blocked in JoinGroup or SyncGroup stays alive. */
  private scheduleHeartbeat(g: ClassicGroup, m: Member): void {
    m.heartbeatTimer?.();
    m.heartbeatTimer = this.scheduler.schedule(m.sessionTimeoutMs, () => {
      m.heartbeatTimer = null;
      if (g.get(m.memberId) !== m || this.closed) return;
      if (m.isAwaitingJoin || m.isAwaitingSync) { this.scheduleHeartbeat(g, m); return; }
      this.log.info({ group: g.groupId, member: m.memberId }, 'member session expired');
      this.removeMemberAndUpdateGroup(g, m, `member ${m.memberId} session expired`);
    });
  }

  private removeMemberAndUpdateGroup(g: ClassicGroup, m: Member, reason: string): void {
    m.heartbeatTimer?.();
    m.heartbeatTimer = null;
    m.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
    m.awaitingJoin = null;
    m.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    m.awaitingSync = null;
    g.remove(m.memberId);
    switch (g.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(g, reason);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(g);
        break;
      default:
        break;
    }
  }

  leave(groupId: string, members: readonly MemberIdentity[]): { errorCode: number; members: (MemberIdentity & { errorCode: number })[] } {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
    const g = this.groups.get(groupId);
    if (g === undefined) return { errorCode: ErrorCode.NONE, members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    if (g.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const out = members.map((id) => ({ ...id, errorCode: this.leaveOne(g, id) }));
    return { errorCode: ErrorCode.NONE, members: out };
  }

  private leaveOne(g: ClassicGroup, id: MemberIdentity): number {
    if (id.memberId === '' && id.groupInstanceId !== null) {
      const memberId = g.staticMemberId(id.groupInstanceId);
      const m = memberId === undefined ? undefined : g.get(memberId);
      if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMemberAndUpdateGroup(g, m, `static member ${id.groupInstanceId} left`);
      return ErrorCode.NONE;
    }
    if (g.isStaticMemberFenced(id.memberId, id.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (g.pendingMembers.has(id.memberId)) {
      this.removePendingMember(g, id.memberId);
      return ErrorCode.NONE;
    }
    const m = g.get(id.memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMemberAndUpdateGroup(g, m, `member ${id.memberId} left the group`);
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------------------------------------
  // Persistence of the group

  /** Writes the group's metadata (with `assignments`, or the members' current ones); resolves to an error code. */
  private async storeGroup(g: ClassicGroup, assignments: ReadonlyMap<string, Buffer> | null): Promise<number> {
    const value: GroupMetadataValue = {
      protocolType: g.protocolType ?? '',
      generation: g.generationId,
      protocol: g.protocolName,
      leader: g.members.size > 0 ? g.leaderId : null,
      currentStateTimestamp: BigInt(g.currentStateTimestamp ?? -1),
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs, sessionTimeout: m.sessionTimeoutMs,
        subscription: g.protocolName === null ? EMPTY : m.metadataFor(g.protocolName),
        assignment: assignments?.get(m.memberId) ?? m.assignment,
      })),
    };
    try {
      await this.writer([{ key: groupMetadataKey(g.groupId), value: groupMetadataValue(value) }]);
      return ErrorCode.NONE;
    } catch (err) {
      this.log.warn({ err, group: g.groupId }, 'cannot write group metadata');
      return writeErrorCode(err, false);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Offsets

  /** OffsetCommit: per-partition error codes keyed `${topic}\0${partition}` (in the input order). */
  async commitOffsets(req: CommitInput): Promise<number[]> {
    const all = (code: number): number[] => req.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.NOT_COORDINATOR);
    let g = this.groups.get(req.groupId);
    if (g === undefined) {
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      g = this.newGroup(req.groupId); // a commit outside any group (simple consumer, admin)
    }
    if (g.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (g.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return all(ErrorCode.FENCED_INSTANCE_ID);
    if (!(req.generationId < 0 && g.is('Empty'))) {
      if (g.is('CompletingRebalance')) return all(ErrorCode.REBALANCE_IN_PROGRESS);
      const member = g.get(req.memberId);
      if (member === undefined) return all(ErrorCode.UNKNOWN_MEMBER_ID);
      if (req.generationId !== g.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      this.scheduleHeartbeat(g, member);
    }
    const now = BigInt(this.scheduler.wallClock());
    const codes: number[] = [];
    const writes: OffsetsWrite[] = [];
    const applied: { topic: string; partition: number; value: OffsetAndMetadata; index: number }[] = [];
    req.offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) { codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE); return; }
      const value: OffsetAndMetadata = {
        offset: o.offset, leaderEpoch: o.leaderEpoch, metadata,
        commitTimestamp: o.commitTimestamp >= 0n ? o.commitTimestamp : now, expireTimestamp: -1n,
      };
      writes.push({ key: offsetCommitKey(req.groupId, o.topic, o.partition), value: offsetCommitValue(value) });
      applied.push({ topic: o.topic, partition: o.partition, value, index });
      codes.push(ErrorCode.NONE);
    });
    if (writes.length === 0) return codes;
    let base: bigint | void;
    try {
      base = await this.writer(writes);
    } catch (err) {
      const code = writeErrorCode(err, true);
      for (const a of applied) codes[a.index] = code;
      return codes;
    }
    if (this.groups.get(req.groupId) === g) {
      applied.forEach((a, i) => {
        g.setOffset(a.topic, a.partition, a.value);
        this.noteCommitRecord(req.groupId, a.topic, a.partition, typeof base === 'bigint' ? base + BigInt(i) : undefined);
      });
    }
    return codes;
  }

  /**
   * TxnOffsetCommit: the offsets go to the log in a transactional batch of the producer and stay
   * pending (invisible to OffsetFetch) until its COMMIT marker (completeTransaction). Member and
   * generation checks as Kafka's for transactional commits (v3+ send them; older versions send
   * generation -1 and no member, which passes): no REBALANCE_IN_PROGRESS while completing a
   * rebalance, an empty member id skips the member check.
   */
  async txnCommitOffsets(req: TxnCommitInput): Promise<number[]> {
    const all = (code: number): number[] => req.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.NOT_COORDINATOR);
    const g = this.groups.get(req.groupId);
    if (g === undefined) {
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    } else {
      if (g.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (g.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return all(ErrorCode.FENCED_INSTANCE_ID);
      if (!(req.generationId < 0 && g.is('Empty'))) {
        if (req.memberId !== '' && g.get(req.memberId) === undefined) return all(ErrorCode.UNKNOWN_MEMBER_ID);
        if (req.generationId >= 0 && req.generationId !== g.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      }
    }
    const now = BigInt(this.scheduler.wallClock());
    const codes: number[] = [];
    const writes: OffsetsWrite[] = [];
    const applied: { topic: string; partition: number; value: OffsetAndMetadata; index: number }[] = [];
    req.offsets.forEach((o, index) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) { codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE); return; }
      const value: OffsetAndMetadata = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp: -1n };
      writes.push({ key: offsetCommitKey(req.groupId, o.topic, o.partition), value: offsetCommitValue(value) });
      applied.push({ topic: o.topic, partition: o.partition, value, index });
      codes.push(ErrorCode.NONE);
    });
    if (writes.length === 0) return codes;
    let base: bigint | void;
    try {
      base = await this.writer(writes, { producerId: req.producerId, producerEpoch: req.producerEpoch });
    } catch (err) {
      const code = err instanceof KafkaError && (err.code === ErrorCode.INVALID_PRODUCER_EPOCH || err.code === ErrorCode.INVALID_TXN_STATE)
        ? err.code : writeErrorCode(err, true);
      for (const a of applied) codes[a.index] = code;
      return codes;
    }
    if (!this.closed) {
      applied.forEach((a, i) => this.addPending(req.producerId, req.groupId, a.topic, a.partition, a.value, typeof base === 'bigint' ? base + BigInt(i) : undefined));
    }
    return codes;
  }

  /**
   * OffsetFetch of one group: null topics means every committed offset. With `requireStable`
   * (v7+), a partition with a pending transactional commit answers UNSTABLE_OFFSET_COMMIT.
   */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitions: readonly number[] }[] | null, requireStable = false): { errorCode: number; topics: { name: string; partitions: PartitionOffset[] }[] } {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const g = this.groups.get(groupId);
    const known = g !== undefined && !g.is('Dead') ? g : undefined;
    const one = (topic: string, partition: number): PartitionOffset => {
      if (requireStable && this.hasPendingTxnOffset(groupId, topic, partition)) {
        return { partition, offset: NO_OFFSET, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
      }
      const o = known?.offset(topic, partition);
      return o === undefined
        ? { partition, offset: NO_OFFSET, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
        : { partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    };
    if (topics === null) {
      const out: { name: string; partitions: PartitionOffset[] }[] = [];
      for (const [name, ps] of known?.offsets ?? []) out.push({ name, partitions: [...ps.keys()].sort((a, b) => a - b).map((p) => one(name, p)) });
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    return { errorCode: ErrorCode.NONE, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => one(t.name, p)) })) };
  }

  /** OffsetDelete: top-level error and per-partition codes in input order. */
  async deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ errorCode: number; codes: number[] }> {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, codes: [] };
    const g = this.groups.get(groupId);
    if (g === undefined || g.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, codes: [] };
    if (!g.is('Empty') && g.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, codes: [] };
    const codes: number[] = [];
    const writes: OffsetsWrite[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    for (const p of partitions) {
      if (g.isSubscribedTo(p.topic)) { codes.push(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC); continue; }
      codes.push(ErrorCode.NONE);
      if (g.offset(p.topic, p.partition) !== undefined) {
        writes.push({ key: offsetCommitKey(groupId, p.topic, p.partition), value: null });
        deleted.push(p);
      }
    }
    if (writes.length > 0) {
      try {
        await this.writer(writes);
      } catch (err) {
        return { errorCode: writeErrorCode(err, false), codes: [] };
      }
      for (const p of deleted) g.setOffset(p.topic, p.partition, null);
    }
    return { errorCode: ErrorCode.NONE, codes };
  }

  // ------------------------------------------------------------------------------------------
  // Describe, list, delete, expire

  describe(groupId: string): GroupDescription {
    const g = this.groups.get(groupId);
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    if (g === undefined) return { errorCode: ErrorCode.NONE, groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    const stable = g.is('Stable') && g.protocolName !== null;
    return {
      errorCode: ErrorCode.NONE, groupId, state: g.state, protocolType: g.protocolType ?? '',
      protocolData: stable ? g.protocolName! : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(g.protocolName!) : EMPTY, assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  list(): ListedGroup[] {
    return [...this.groups.values()].filter((g) => !g.is('Dead')).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  async deleteGroup(groupId: string): Promise<number> {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const g = this.groups.get(groupId);
    if (g === undefined || g.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!g.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const writes: OffsetsWrite[] = [];
    for (const [topic, ps] of g.offsets) for (const p of ps.keys()) writes.push({ key: offsetCommitKey(groupId, topic, p), value: null });
    writes.push({ key: groupMetadataKey(groupId), value: null });
    g.transitionTo('Dead');
    this.groups.delete(groupId);
    this.dropTimers(g);
    try {
      await this.writer(writes);
      return ErrorCode.NONE;
    } catch (err) {
      return writeErrorCode(err, false);
    }
  }

  private dropTimers(g: ClassicGroup): void {
    const t = this.timers.get(g);
    if (t === undefined) return;
    t.join?.(); t.sync?.();
    for (const c of t.pending.values()) c();
    this.timers.delete(g);
  }

  /**
   * Offsets retention (Kafka's cleanupGroupMetadata): an empty group's offsets expire
   * offsets.retention.minutes after the group became empty (or after the commit when the group
   * never had members); a stable consumer group's offsets of topics it no longer subscribes to
   * expire that long after their commit. An empty group without offsets is then deleted.
   */
  async expireOffsets(): Promise<number> {
    if (this.closed) return 0;
    const now = this.scheduler.wallClock();
    const retention = this.config.offsetsRetentionMs;
    const writes: OffsetsWrite[] = [];
    const expired: { g: ClassicGroup; topic: string; partition: number }[] = [];
    const deadGroups: ClassicGroup[] = [];
    for (const g of this.groups.values()) {
      let base: ((o: OffsetAndMetadata) => number) | null = null;
      let keep: ReadonlySet<string> = new Set();
      if (g.protocolType !== null && g.is('Empty')) {
        base = (o) => g.currentStateTimestamp ?? Number(o.commitTimestamp);
      } else if (g.protocolType === 'consumer' && g.subscribedTopics !== null && g.is('Stable')) {
        base = (o) => Number(o.commitTimestamp);
        keep = g.subscribedTopics;
      } else if (g.protocolType === null) {
        base = (o) => Number(o.commitTimestamp);
      }
      if (base === null) continue;
      for (const [topic, ps] of g.offsets) {
        if (keep.has(topic)) continue;
        for (const [partition, o] of ps) {
          const due = o.expireTimestamp >= 0n ? now >= Number(o.expireTimestamp) : now - base(o) >= retention;
          if (due) {
            writes.push({ key: offsetCommitKey(g.groupId, topic, partition), value: null });
            expired.push({ g, topic, partition });
          }
        }
      }
    }
    for (const e of expired) e.g.setOffset(e.topic, e.partition, null);
    for (const g of this.groups.values()) {
      if (g.is('Empty') && g.members.size === 0 && g.pendingMembers.size === 0 && g.numOffsets === 0 && !this.timers.get(g)?.join) {
        writes.push({ key: groupMetadataKey(g.groupId), value: null });
        deadGroups.push(g);
      }
    }
    for (const g of deadGroups) { g.transitionTo('Dead'); this.groups.delete(g.groupId); this.dropTimers(g); }
    if (writes.length === 0) return 0;
    try {
      await this.writer(writes);
    } catch (err) {
      this.log.warn({ err, partition: this.partition }, 'cannot write expired offsets');
    }
    return expired.length;
  }
}
