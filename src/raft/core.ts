/**
 * The Raft core for one group: a pure, synchronous state machine in the style of etcd-io/raft.
 *
 * Inputs: step(message), tick(), propose(), campaign(), transferLeadership(), advance(ready)
 * (storage caught up with a Ready) and entriesRead() (the log served a ReadRequest).
 * Output: ready() returns a Ready (see types.ts for the persist-then-send contract).
 * No timers, I/O, Date.now() or Math.random() here: ticks and a seeded Random come from outside.
 *
 * Membership changes: single-server changes (Raft thesis §4.1), not joint consensus. One voter
 * or learner is added, promoted or removed per change; a configuration takes effect on each node
 * as soon as its entry is appended to that node's log, and a leader starts a change only when the
 * previous one is committed and it has committed an entry of its own term (the fix for the
 * single-server bug found by Ongaro in 2015). Any two majorities of configurations that differ by
 * one voter overlap, so no joint phase is needed, and a change is one entry: simpler to get
 * right, to persist and to test than C_old,new. New replicas join as learners and are promoted
 * once caught up, so adding one never leaves the group waiting on an empty log; a leader is never
 * removed (it must transfer leadership first).
 *
 * Log start: a follower that needs offsets below the leader's log start offset (retention or
 * DeleteRecords removed them) is told to empty its log and restart it at the leader's log start
 * (LogStartRequest), as Kafka's follower does with truncateFullyAndStartAt. The request carries
 * the epoch of the leader's entry just below its log start (a Raft snapshot's lastIncludedTerm);
 * the follower's emptied log keeps it as its last epoch (the EpochView holds it at start - 1, the
 * storage's epoch cache too, durably), so its votes still compare (lastEpoch, logEnd) correctly.
 *
 * Entry bytes: the core keeps a bounded in-memory window (`tail`) of recent entries. A leader
 * sends from that window; when a follower needs older entries it emits a ReadRequest, and the
 * driver hands the entries back with entriesRead(). Probing (finding where a follower's log
 * matches) needs no bytes: a probe is an append with no entries.
 */
import { EpochView } from './epochs.js';
import type { Random } from '../util/random.js';
import {
  NO_NODE,
  type AppendRequest, type AppendResponse, type ConfigEntry, type DivergenceHint, type Entry, type EpochStart, type HardState,
  type Heartbeat, type LogStartRequest, type Membership, type MembershipChange, type MembershipChangeResult, type NodeId,
  type ProposeResult, type RaftMessage, type ReadRequest, type Ready, type Role, type SoftState, type VoteRequest, type VoteResponse,
} from './types.js';

export interface RaftConfig {
  id: NodeId;
  /** The initial voter set (used when the initial state carries no configuration). */
  voters: readonly NodeId[];
  /**
   * Non-voting members (Raft learners, KRaft observers): they receive the log and learn the
   * commit index, but never vote, never campaign and never count towards a quorum.
   */
  learners?: readonly NodeId[];
  random: Random;
  /** Base election timeout in ticks; the randomized timeout is in [base, 2*base). Default 10. */
  electionTimeoutTicks?: number;
  /** Heartbeat interval in ticks. Default 1. */
  heartbeatIntervalTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Max append messages in flight per follower in the replicate state. Default 32. */
  maxInflight?: number;
  /** Soft cap on entry bytes per append message (at least one entry is always sent). Default 1 MiB. */
  maxAppendBytes?: number;
  /** Soft cap on the in-memory entry window. Default 4 MiB. */
  maxWindowBytes?: number;
  /**
   * The entry a new leader appends first (Kafka's LeaderChange control batch), so that entries
   * of earlier epochs commit with an entry of its own epoch. Default: one empty-data record.
   */
  leaderChangeEntry?: (baseOffset: bigint, epoch: number, leaderId: NodeId, voters: readonly NodeId[]) => { data: Buffer; recordCount: number };
  /** The bytes of an entry carrying a membership change. Default: the configuration as JSON. */
  membershipEntry?: (baseOffset: bigint, epoch: number, membership: Membership) => { data: Buffer; recordCount: number };
  /** A learner is promoted only when it is at most this many offsets behind the leader's log end. Default 0. */
  maxPromotionLag?: bigint;
  /** Campaign on the first tick (the preferred replica of a brand-new group; Redpanda's trick). */
  campaignOnFirstTick?: boolean;
  /**
   * How a leader tells its followers that the commit index moved. 'eager' (the default): at once,
   * in a heartbeat of its own, for groups whose followers act on commits (the metadata log, which
   * every broker applies). 'lazy': with the next append or the next tick's heartbeat, as a Kafka
   * follower learns the high watermark from its next fetch; a data partition's followers serve
   * no reads, and the eager heartbeat (and its answer) doubled the messages of every append.
   */
  commitNotify?: 'eager' | 'lazy';
}

export interface RaftInitialState {
  hardState: HardState;
  logStartOffset: bigint;
  logEndOffset: bigint;
  /** Epoch starts of the durable log (the log's epoch cache). */
  epochs: readonly EpochStart[];
  /**
   * The configurations stored with the hard state (Ready.configs), if any. Those whose entry the
   * log does not hold (offset at or past the log end, or another epoch there) are dropped; the
   * last remaining one is the group's configuration. None: `voters` and `learners` of RaftConfig.
   */
  configs?: readonly ConfigEntry[];
}

type ProgressState = 'probe' | 'replicate';

/** The leader's view of one follower. */
export interface FollowerProgress {
  /** The follower holds the leader's log below match (durably). */
  match: bigint;
  /** Next offset to send. */
  next: bigint;
  state: ProgressState;
  /** Probe state: one probe outstanding, wait for a response or a heartbeat response. */
  probeSent: boolean;
  /** End offsets of appends in flight (replicate state). */
  inflight: bigint[];
  /** Heard from since the last CheckQuorum round. */
  recentActive: boolean;
  /** Leader tick at which match last advanced (or the follower was last caught up). */
  lastProgressTick: number;
  /** Leader tick at which the follower was last known to hold everything the leader had. */
  lastCaughtUpTick: number;
  /** Highest HW told to this follower. */
  sentHw: bigint;
  /** It cannot match our log anywhere we still have: it gets a LogStartRequest. */
  needsLogStart?: boolean;
}

export class RaftCore {
  readonly id: NodeId;
  /** The current configuration's voters (it changes when a configuration entry is appended or truncated). */
  voters: readonly NodeId[];
  learners: readonly NodeId[];
  private readonly random: Random;
  private readonly electionTimeout: number;
  private readonly heartbeatInterval: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxAppendBytes: number;
  private readonly maxWindowBytes: number;
  private readonly makeLeaderChange: (baseOffset: bigint, epoch: number, leaderId: NodeId, voters: readonly NodeId[]) => { data: Buffer; recordCount: number };
  private readonly makeMembershipEntry: (baseOffset: bigint, epoch: number, membership: Membership) => { data: Buffer; recordCount: number };
  private readonly maxPromotionLag: bigint;
  private readonly eagerCommitNotify: boolean;
  /** The configurations in the log, ascending: the first is committed (or the initial one); the last is in force. */
  private configs: ConfigEntry[];
  private configsDirty = false;

  // Durable (hard) state, as held in memory.
  private termValue: number;
  private votedFor: NodeId;
  private hw: bigint;
  /** The term last made durable (advance() of a Ready carrying it): 'now' messages never run ahead of it. */
  private durableTerm: number;
  // Volatile state.
  private roleValue: Role = 'follower';
  private leader: NodeId = NO_NODE;
  private readonly epochs: EpochView;
  private logStart: bigint;
  private logEnd: bigint;
  /** The log is durable below this offset. */
  private persistedEnd: bigint;
  /** In-memory window of recent entries, contiguous, ending at logEnd. */
  private tail: Entry[] = [];
  private tailBytes = 0;
  /** Entries the driver read back for a lagging follower. */
  private readBack: Entry[] = [];
  /** The offset the read that filled readBack asked for. */
  private readBackFrom = -1n;
  private readonly pendingReads = new Set<bigint>();
  private readonly progress = new Map<NodeId, FollowerProgress>();
  private readonly votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leaderTicks = 0;
  private transferee: NodeId = NO_NODE;
  private transferElapsed = 0;
  /** First offset of this leader's epoch (its LeaderChange entry): the HW only moves past it. */
  private epochStartOffset = -1n;
  private campaignPending: boolean;
  private broadcastPending = false;
  private commitBroadcastPending = false;

  // Output collected for the next Ready.
  private seq = 0;
  private outHardState: HardState;
  private hardStateDirty = false;
  private outTruncateTo: bigint | undefined;
  private outResetTo: bigint | undefined;
  private outResetEpoch = -1;
  private outEntries: Entry[] = [];
  private outNow: RaftMessage[] = [];
  private outAfter: RaftMessage[] = [];
  private outReads: ReadRequest[] = [];
  private outHw: bigint | undefined;
  private softDirty = false;
  /** Truncations not yet covered by an advance(): {seq of the Ready carrying it, offset}. */
  private truncations: { seq: number; offset: bigint }[] = [];

  constructor(config: RaftConfig, initial: RaftInitialState) {
    this.id = config.id;
    this.random = config.random;
    this.electionTimeout = config.electionTimeoutTicks ?? 10;
    this.heartbeatInterval = config.heartbeatIntervalTicks ?? 1;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxInflight = config.maxInflight ?? 32;
    this.maxAppendBytes = config.maxAppendBytes ?? 1 << 20;
    this.maxWindowBytes = config.maxWindowBytes ?? 4 << 20;
    this.makeLeaderChange = config.leaderChangeEntry ?? (() => ({ data: Buffer.alloc(0), recordCount: 1 }));
    this.makeMembershipEntry = config.membershipEntry ?? ((_o, _e, m) => ({ data: Buffer.from(JSON.stringify(m)), recordCount: 1 }));
    this.maxPromotionLag = config.maxPromotionLag ?? 0n;
    this.eagerCommitNotify = (config.commitNotify ?? 'eager') === 'eager';
    this.termValue = initial.hardState.term;
    this.durableTerm = initial.hardState.term;
    this.votedFor = initial.hardState.votedFor;
    this.epochs = new EpochView(initial.epochs);
    this.logStart = initial.logStartOffset;
    this.logEnd = initial.logEndOffset;
    this.persistedEnd = initial.logEndOffset;
    // A persisted HW beyond the durable log cannot happen with the Ready contract; clamp anyway.
    this.hw = initial.hardState.commitOffset < this.logEnd ? initial.hardState.commitOffset : this.logEnd;
    if (this.hw < this.logStart) this.hw = this.logStart;
    // The configuration: the stored ones the log still holds, else the one the group was created with.
    const initialConfig: ConfigEntry = { offset: this.logStart - 1n, epoch: -1, voters: [...config.voters], learners: [...(config.learners ?? [])] };
    const held = (initial.configs ?? []).filter((c) => c.offset < this.logStart || c.epoch < 0 ||
      (c.offset < this.logEnd && this.epochs.epochAt(c.offset) === c.epoch));
    this.configs = held.length > 0 ? held.map(copyConfig) : [initialConfig];
    const current = this.configs[this.configs.length - 1]!;
    this.voters = [...current.voters];
    this.learners = [...current.learners];
    if (this.learners.some((l) => this.voters.includes(l))) throw new Error('a node cannot be both a voter and a learner');
    this.outHardState = this.hardState;
    this.campaignPending = config.campaignOnFirstTick ?? false;
    this.resetRandomizedElectionTimeout();
  }

  // ---------------------------------------------------------------- read-only views

  get term(): number { return this.termValue; }
  get role(): Role { return this.roleValue; }
  get leaderId(): NodeId { return this.leader; }
  get highWatermark(): bigint { return this.hw; }
  get logEndOffset(): bigint { return this.logEnd; }
  get logStartOffset(): bigint { return this.logStart; }
  get durableEndOffset(): bigint { return this.persistedEnd; }
  /** The epoch of the last offset of the log (see lastLogEpoch). */
  get lastEpoch(): number { return this.lastLogEpoch(); }
  get votedForId(): NodeId { return this.votedFor; }
  get leadTransferee(): NodeId { return this.transferee; }
  get hardState(): HardState { return { term: this.termValue, votedFor: this.votedFor, commitOffset: this.hw }; }
  get softState(): SoftState { return { role: this.roleValue, leaderId: this.leader, term: this.termValue }; }
  epochAt(offset: bigint): number | undefined {
    if (offset < this.logStart || offset >= this.logEnd) return undefined;
    return this.epochs.epochAt(offset);
  }
  epochStarts(): EpochStart[] { return this.epochs.list(); }
  /** Leader only: a copy of each follower's progress (for ISR: match and lastCaughtUpTick). */
  followerProgress(): Map<NodeId, FollowerProgress> {
    const copy = new Map<NodeId, FollowerProgress>();
    for (const [id, pr] of this.progress) copy.set(id, { ...pr, inflight: [...pr.inflight] });
    return copy;
  }
  /**
   * Leader only: nothing is moving, so the host may stop ticking this group (quiescence): every
   * follower holds the whole log and knows the HW, the leader's own log is durable, no transfer.
   */
  get quiescable(): boolean {
    if (this.roleValue !== 'leader' || this.transferee !== NO_NODE || this.hw !== this.logEnd || this.persistedEnd !== this.logEnd) return false;
    if (this.hasReady()) return false;
    for (const pr of this.progress.values()) if (pr.match !== this.logEnd || pr.sentHw !== this.hw || pr.inflight.length > 0) return false;
    return true;
  }
  /** Ticks since this leader took office (the unit of lastCaughtUpTick). */
  get leaderTick(): number { return this.leaderTicks; }
  /** The configuration in force (the last one in the log, committed or not). */
  get membership(): Membership { return { voters: [...this.voters], learners: [...this.learners] }; }
  /** The configurations the log holds: the last committed one (or the initial one) and every later one. */
  configEntries(): ConfigEntry[] { return this.configs.map(copyConfig); }
  /** A configuration entry is in the log but not committed yet (no other change may start). */
  get membershipChangePending(): boolean { return this.configs[this.configs.length - 1]!.offset >= this.hw; }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.roleValue === 'leader') { this.tickLeader(); return; }
    if (!this.voters.includes(this.id)) return; // a learner never campaigns
    if (this.campaignPending) {
      this.campaignPending = false;
      if (this.termValue === 0 && this.logEnd === this.logStart) { this.campaign(false); return; }
    }
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(false);
    }
  }

  /** Start an election now (pre-vote first when enabled). */
  campaign(transfer: boolean): void {
    if (this.roleValue === 'leader' || !this.voters.includes(this.id)) return;
    if (this.preVote && !transfer) this.becomePreCandidate();
    else this.becomeCandidate(transfer);
  }

  /**
   * Follower only: forget the current leader (etcd-io/raft's ForgetLeader), staying a leaderless
   * follower in the same term without campaigning. A follower that still knows its leader ignores
   * pre-votes for an election timeout (the leader lease of CheckQuorum); one that forgot it grants
   * them at once. The host calls this when the leader's broker is unreachable (a reset connection),
   * so that a quorum of followers that all saw it can elect a new leader without waiting out the
   * election timeout. Safe: terms, votes and logs are untouched, and the next message from a live
   * leader makes it known again.
   */
  forgetLeader(): void {
    if (this.roleValue !== 'follower' || this.leader === NO_NODE) return;
    this.leader = NO_NODE;
    this.softDirty = true;
  }

  /** Leader only. The caller must patch the returned offsets and epoch into `data` before the next ready(). */
  propose(data: Buffer, recordCount: number): ProposeResult {
    if (recordCount < 1) throw new Error('an entry holds at least one record');
    if (this.roleValue !== 'leader') return { ok: false, reason: 'not_leader', leaderId: this.leader, term: this.termValue };
    if (this.transferee !== NO_NODE) return { ok: false, reason: 'transferring', leaderId: this.leader, term: this.termValue };
    const entry = this.appendLocal(data, recordCount);
    this.broadcastPending = true;
    return { ok: true, baseOffset: entry.baseOffset, lastOffset: entry.lastOffset, epoch: entry.epoch };
  }

  /**
   * Leader only: one single-server membership change, appended as one entry (in force at once,
   * on this node and on each follower as it appends it). Refused while another change is
   * uncommitted, before this leader has committed an entry of its own term (then it appends its
   * LeaderChange entry, and the caller retries), for a learner not yet caught up (within
   * maxPromotionLag of the log end), and for removing the leader itself (transfer leadership first).
   */
  changeMembership(change: MembershipChange): MembershipChangeResult {
    const fail = (reason: Exclude<MembershipChangeResult, { ok: true }>['reason'], message: string): MembershipChangeResult => ({ ok: false, reason, message });
    if (this.roleValue !== 'leader') return fail('not_leader', 'not the leader');
    if (this.transferee !== NO_NODE) return fail('transferring', `transferring leadership to ${this.transferee}`);
    if (this.membershipChangePending) return fail('change_pending', `the change at offset ${this.configs[this.configs.length - 1]!.offset} is not committed yet`);
    if (!this.committedInTerm()) {
      if (this.epochs.lastEpoch !== this.termValue) {
        const lc = this.makeLeaderChange(this.logEnd, this.termValue, this.id, this.voters);
        this.appendLocal(lc.data, lc.recordCount);
        this.epochStartOffset = this.logEnd - BigInt(lc.recordCount);
        this.broadcastPending = true;
        this.maybeCommit();
      }
      return fail('term_not_committed', `no entry of term ${this.termValue} is committed yet`);
    }
    const { node } = change;
    const voters = [...this.voters];
    const learners = [...this.learners];
    switch (change.type) {
      case 'addLearner':
        if (voters.includes(node) || learners.includes(node)) return fail('invalid', `${node} is already a member`);
        learners.push(node);
        break;
      case 'promote': {
        if (!learners.includes(node)) return fail('invalid', `${node} is not a learner`);
        const pr = this.progress.get(node);
        if (pr === undefined || pr.match + this.maxPromotionLag < this.logEnd) {
          return fail('learner_behind', `learner ${node} holds the log up to ${pr?.match ?? -1n} of ${this.logEnd}`);
        }
        learners.splice(learners.indexOf(node), 1);
        voters.push(node);
        break;
      }
      case 'remove':
        if (node === this.id) return fail('remove_leader', 'the leader cannot remove itself: transfer leadership first');
        if (voters.includes(node)) {
          if (voters.length === 1) return fail('invalid', 'cannot remove the last voter');
          voters.splice(voters.indexOf(node), 1);
        } else if (learners.includes(node)) {
          learners.splice(learners.indexOf(node), 1);
        } else {
          return fail('invalid', `${node} is not a member`);
        }
        break;
    }
    const membership: Membership = { voters, learners };
    const bytes = this.makeMembershipEntry(this.logEnd, this.termValue, membership);
    const entry: Entry = { baseOffset: this.logEnd, lastOffset: this.logEnd + BigInt(bytes.recordCount) - 1n, epoch: this.termValue, data: bytes.data, config: membership };
    this.appendEntry(entry);
    this.broadcastPending = true;
    this.maybeCommit();
    return { ok: true, offset: entry.baseOffset, membership: { voters: [...voters], learners: [...learners] } };
  }

  /** An entry of this leader's term is committed (Raft's condition before a membership change). */
  private committedInTerm(): boolean {
    return this.hw > this.logStart && this.hw > 0n && this.epochs.epochAt(this.hw - 1n) === this.termValue;
  }

  /**
   * The log start offset moved (retention, DeleteRecords). A leader then catches up followers
   * that need older offsets with a LogStartRequest.
   */
  advanceLogStart(offset: bigint): void {
    if (offset <= this.logStart) return;
    if (offset > this.logEnd) offset = this.logEnd;
    this.logStart = offset;
    while (this.tail.length > 0 && this.tail[0]!.lastOffset < offset) this.tailBytes -= this.tail.shift()!.data.length;
    this.readBack = this.readBack.filter((e) => e.lastOffset >= offset);
  }

  /** Leader only: hand leadership to `to` (catching it up first). Abandoned after an election timeout. */
  transferLeadership(to: NodeId): void {
    if (this.roleValue !== 'leader' || to === this.id || !this.voters.includes(to)) return;
    if (this.transferee === to) return;
    this.transferee = to;
    this.transferElapsed = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.logEnd) this.send({ type: 'timeoutNow', term: this.termValue, from: this.id, to }, 'now');
    else this.sendAppend(to);
  }

  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.termValue) {
      if (m.type === 'vote') {
        const inLease = this.checkQuorum && this.leader !== NO_NODE && this.electionElapsed < this.electionTimeout;
        if (inLease && !m.transfer) return; // a healthy leader exists: do not let this one disrupt it
      }
      if (m.type === 'vote' && m.pre) {
        // a pre-vote never changes our term
      } else if (m.type === 'voteResponse' && m.pre && m.granted) {
        // a granted pre-vote carries the future term; handled below
      } else {
        const leaderMsg = m.type === 'append' || m.type === 'heartbeat' || m.type === 'timeoutNow' || m.type === 'logStart';
        this.becomeFollower(m.term, leaderMsg ? m.from : NO_NODE);
      }
    } else if (m.term < this.termValue) {
      if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'logStart') {
        // tell a stale leader about the newer term so it steps down
        this.send({ type: 'appendResponse', term: this.termValue, from: this.id, to: m.from, success: false, matchOffset: 0n, prevOffset: -1n }, 'after');
      } else if (m.type === 'vote' && m.pre) {
        this.send({ type: 'voteResponse', term: this.termValue, from: this.id, to: m.from, pre: true, granted: false }, 'after');
      }
      return;
    }

    switch (m.type) {
      case 'vote': this.handleVote(m); return;
      case 'voteResponse': this.handleVoteResponse(m); return;
      case 'append': this.handleAppend(m); return;
      case 'heartbeat': this.handleHeartbeat(m); return;
      case 'logStart': this.handleLogStart(m); return;
      case 'appendResponse': this.handleAppendResponse(m); return;
      case 'heartbeatResponse': this.handleHeartbeatResponse(m.from); return;
      case 'timeoutNow':
        if (this.roleValue !== 'leader') this.campaign(true);
        return;
    }
  }

  /** The driver persisted (and truncated/appended/flushed) everything in `ready`. */
  advance(ready: Ready): void {
    this.truncations = this.truncations.filter((t) => t.seq > ready.seq);
    if (ready.hardState !== undefined) this.durableTerm = ready.hardState.term;
    let durable = ready.logEndOffset;
    for (const t of this.truncations) if (t.offset < durable) durable = t.offset;
    if (durable > this.logEnd) durable = this.logEnd;
    this.persistedEnd = durable;
    if (this.roleValue === 'leader') this.maybeCommit();
    this.trimWindow();
  }

  /** The driver read entries starting at fromOffset (whole entries, contiguous). */
  entriesRead(fromOffset: bigint, entries: Entry[]): void {
    this.pendingReads.delete(fromOffset);
    if (this.roleValue !== 'leader' || entries.length === 0) return;
    // keep only what still agrees with our log (it could have been truncated since)
    const kept: Entry[] = [];
    for (const e of entries) {
      if (e.lastOffset >= this.logEnd || this.epochAt(e.baseOffset) !== e.epoch) break;
      kept.push(e);
    }
    this.readBack = kept;
    this.readBackFrom = fromOffset;
    for (const [id, pr] of this.progress) if (pr.next < this.logEnd) this.sendAppend(id);
  }

  hasReady(): boolean {
    return this.hardStateDirty || this.configsDirty || this.outResetTo !== undefined || this.outTruncateTo !== undefined || this.outEntries.length > 0 ||
      this.outNow.length > 0 || this.outAfter.length > 0 || this.outReads.length > 0 ||
      this.outHw !== undefined || this.softDirty || this.broadcastPending || this.commitBroadcastPending;
  }

  ready(): Ready {
    if (this.broadcastPending) {
      this.broadcastPending = false;
      if (this.roleValue === 'leader') for (const id of this.progress.keys()) this.sendAppend(id);
    }
    if (this.commitBroadcastPending) {
      this.commitBroadcastPending = false;
      if (this.roleValue === 'leader') this.broadcastCommit();
    }
    const seq = ++this.seq;
    const r: Ready = {
      seq,
      entries: this.outEntries,
      logEndOffset: this.logEnd,
      sendNow: this.outNow,
      sendAfterPersist: this.outAfter,
      reads: this.outReads,
    };
    if (this.hardStateDirty) r.hardState = this.hardState;
    if (this.configsDirty) {
      this.trimConfigs();
      r.configs = this.configEntries();
    }
    if (this.outResetTo !== undefined) {
      r.resetTo = this.outResetTo;
      r.resetEpoch = this.outResetEpoch;
      this.truncations.push({ seq, offset: this.outResetTo });
    }
    if (this.outTruncateTo !== undefined) {
      r.truncateTo = this.outTruncateTo;
      this.truncations.push({ seq, offset: this.outTruncateTo });
    }
    if (this.outHw !== undefined) r.highWatermark = this.outHw;
    if (this.softDirty) r.softState = this.softState;
    this.hardStateDirty = false;
    this.configsDirty = false;
    this.outResetTo = undefined;
    this.outResetEpoch = -1;
    this.outTruncateTo = undefined;
    this.outEntries = [];
    this.outNow = [];
    this.outAfter = [];
    this.outReads = [];
    this.outHw = undefined;
    this.softDirty = false;
    return r;
  }

  // ---------------------------------------------------------------- roles

  private quorum(): number { return Math.floor(this.voters.length / 2) + 1; }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random.int(0, this.electionTimeout - 1);
  }

  private setTerm(term: number): void {
    if (term < this.termValue) throw new Error(`term going backwards ${this.termValue} -> ${term}`);
    if (term !== this.termValue) {
      this.termValue = term;
      this.votedFor = NO_NODE;
      this.hardStateDirty = true;
    }
  }

  private reset(term: number): void {
    this.setTerm(term);
    this.leader = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.progress.clear();
    this.transferee = NO_NODE;
    this.readBack = [];
    this.pendingReads.clear();
    this.broadcastPending = false;
    this.softDirty = true;
  }

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.roleValue = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    // like etcd: term and vote unchanged, the leader is forgotten
    this.roleValue = 'precandidate';
    this.leader = NO_NODE;
    this.votes.clear();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.softDirty = true;
    this.votes.set(this.id, true);
    if (this.countVotes() >= this.quorum()) { this.becomeCandidate(false); return; }
    this.requestVotes(true, false);
  }

  private becomeCandidate(transfer: boolean): void {
    this.reset(this.termValue + 1);
    this.roleValue = 'candidate';
    this.votedFor = this.id;
    this.hardStateDirty = true;
    this.votes.set(this.id, true);
    if (this.countVotes() >= this.quorum()) { this.becomeLeader(); return; }
    this.requestVotes(false, transfer);
  }

  private requestVotes(pre: boolean, transfer: boolean): void {
    const term = pre ? this.termValue + 1 : this.termValue;
    for (const to of this.voters) {
      if (to === this.id) continue;
      const m: VoteRequest = { type: 'vote', term, from: this.id, to, pre, lastEpoch: this.lastLogEpoch(), logEndOffset: this.logEnd, transfer };
      this.send(m, 'after'); // our term and self-vote must be durable first
    }
  }

  private becomeLeader(): void {
    this.roleValue = 'leader';
    this.leader = this.id;
    this.softDirty = true;
    this.leaderTicks = 0;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    this.progress.clear();
    for (const v of [...this.voters, ...this.learners]) {
      if (v === this.id) continue;
      this.progress.set(v, this.newProgress());
    }
    this.epochStartOffset = this.logEnd;
    // Entries of earlier epochs can only commit together with one of this epoch (the previous-
    // term rule), so a leader that may hold uncommitted entries appends its LeaderChange entry
    // at once. One whose whole log is known committed needs none: its partition then shows no
    // control batch (and no offset gap) at each election, as a Kafka partition would not.
    if (this.logEnd > this.hw) {
      const lc = this.makeLeaderChange(this.logEnd, this.termValue, this.id, this.voters);
      this.appendLocal(lc.data, lc.recordCount);
    }
    this.broadcastPending = true;
    this.maybeCommit();
  }

  private countVotes(): number {
    let n = 0;
    for (const granted of this.votes.values()) if (granted) n++;
    return n;
  }

  // ---------------------------------------------------------------- elections

  /**
   * The epoch of the entry at logEnd - 1: the last entry's, or, for a log emptied at a start > 0,
   * the epoch kept for the offset just below the start (LogStartRequest.prevEpoch, or the epoch
   * retention left). Never an epoch the EpochView holds past the log end: no claim of a newer
   * epoch than the log holds. -1 for an empty log at 0, or when the epoch below the start is unknown.
   */
  private lastLogEpoch(): number {
    return this.logEnd === 0n ? -1 : (this.epochs.epochAt(this.logEnd - 1n) ?? -1);
  }

  private logIsUpToDate(lastEpoch: number, logEndOffset: bigint): boolean {
    // A log emptied at a start > 0 without the epoch below it (a restart at an offset inside a
    // batch, or data from before the epoch was kept) cannot tell whether a candidate holds the
    // committed entries it held: it grants no vote until it has an entry again.
    if (this.logEnd > 0n && this.epochs.epochAt(this.logEnd - 1n) === undefined) return false;
    const mine = this.lastLogEpoch();
    return lastEpoch > mine || (lastEpoch === mine && logEndOffset >= this.logEnd);
  }

  private handleVote(m: VoteRequest): void {
    const canVote = this.votedFor === m.from ||
      (this.votedFor === NO_NODE && this.leader === NO_NODE) ||
      (m.pre && m.term > this.termValue);
    const granted = canVote && this.logIsUpToDate(m.lastEpoch, m.logEndOffset);
    if (granted && !m.pre) {
      this.votedFor = m.from;
      this.hardStateDirty = true;
      this.electionElapsed = 0;
    }
    // a granted pre-vote answers with the requested term; anything else with ours
    const term = granted && m.pre ? m.term : this.termValue;
    this.send({ type: 'voteResponse', term, from: this.id, to: m.from, pre: m.pre, granted }, 'after');
  }

  private handleVoteResponse(m: VoteResponse): void {
    const pre = this.roleValue === 'precandidate';
    if (m.pre !== pre || (this.roleValue !== 'candidate' && this.roleValue !== 'precandidate')) return;
    if (pre && m.term !== this.termValue + 1) return;
    if (!this.voters.includes(m.from)) return;
    this.votes.set(m.from, m.granted);
    const granted = this.countVotes();
    let rejected = 0;
    for (const g of this.votes.values()) if (!g) rejected++;
    if (granted >= this.quorum()) {
      if (pre) this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (rejected >= this.quorum()) {
      this.becomeFollower(this.termValue, NO_NODE);
    }
  }

  // ---------------------------------------------------------------- follower side of replication

  private handleAppend(m: AppendRequest): void {
    if (this.roleValue !== 'follower') this.becomeFollower(m.term, m.from);
    if (this.leader !== m.from) { this.leader = m.from; this.softDirty = true; }
    this.electionElapsed = 0;
    const reply = (success: boolean, matchOffset: bigint, hint?: DivergenceHint): void => {
      const r: AppendResponse = { type: 'appendResponse', term: this.termValue, from: this.id, to: m.from, success, matchOffset, prevOffset: m.prevOffset };
      if (hint !== undefined) r.hint = hint;
      this.send(r, 'after');
    };
    if (!this.prevMatches(m.prevOffset, m.prevEpoch)) {
      reply(false, 0n, this.divergenceHint(m.prevOffset));
      return;
    }
    let i = 0;
    /** Set when we hold only a prefix of an entry: what we acknowledge instead of the message's end. */
    let partial: bigint | undefined;
    for (; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.lastOffset < this.logStart) continue; // below our log start: committed, and deleted here
      if (e.baseOffset < this.logStart) {
        // The leader's log start falls inside this batch (DeleteRecords): an empty log restarts
        // at the batch's base offset, as Kafka's follower does on an unexpected append offset.
        // (The epoch below that batch is unknown here; the batch is committed and never truncated.)
        if (this.logEnd === this.logStart) { this.resetLog(e.baseOffset, -1); break; }
        // Otherwise we hold it only if our log agrees with it from our log start on: checked
        // below (heldPrefixEnd starts at our log start). Skipping it whenever it ended below our
        // log end kept a diverging tail of another epoch and acknowledged it as the leader's.
      }
      if (e.lastOffset < this.hw) continue; // committed: identical on every node
      if (e.baseOffset >= this.logEnd) break;
      const held = this.heldPrefixEnd(e);
      if (held > e.lastOffset) continue; // we hold all of it
      if (held > e.baseOffset) {
        // We hold only a prefix of this entry: the broker's entries read back for a lagging
        // follower merge consecutive batches of one epoch, so one may span batches this log
        // stores separately, start below our high watermark, and end past our log end. An entry
        // cannot be appended in part, and the prefix (committed, or acknowledged) must not be
        // truncated: keep it, drop only what diverges after it, and acknowledge it; the leader
        // continues from there (a batch boundary of both logs).
        this.truncate(held);
        partial = held;
        break;
      }
      this.truncate(e.baseOffset); // diverges from its first offset (never below the HW: see heldPrefixEnd)
      break;
    }
    if (partial === undefined) for (; i < m.entries.length; i++) this.appendEntry(m.entries[i]!);
    const last = m.entries[m.entries.length - 1];
    const matched = partial ?? (last !== undefined ? last.lastOffset + 1n : m.prevOffset + 1n);
    this.advanceHw(m.highWatermark < matched ? m.highWatermark : matched);
    reply(true, matched);
    this.trimWindow();
  }

  /**
   * Where our log stops holding entry `e` (which starts below our log end): its base offset when
   * we hold another epoch there; otherwise the end of our run of its epoch from there on (log
   * matching: the same epoch at the same offset means the same records), capped at e's end + 1.
   * Offsets below our HW are committed and identical, so the result is never below the HW when
   * the entry starts below it.
   */
  private heldPrefixEnd(e: Entry): bigint {
    const from = e.baseOffset < this.logStart ? this.logStart : e.baseOffset;
    if (from >= this.logEnd || this.epochs.epochAt(from) !== e.epoch) return from;
    const range = this.epochs.rangeFor(e.epoch, this.logEnd);
    const end = range === undefined || range.epoch !== e.epoch ? from : range.endOffset;
    return end > e.lastOffset ? e.lastOffset + 1n : end;
  }

  private prevMatches(prevOffset: bigint, prevEpoch: number): boolean {
    if (prevOffset < 0n) return true;
    if (prevOffset < this.hw) return true; // committed: identical everywhere
    if (prevOffset >= this.logEnd) return false;
    return this.epochs.epochAt(prevOffset) === prevEpoch;
  }

  private divergenceHint(prevOffset: bigint): DivergenceHint {
    const o = prevOffset < this.logEnd - 1n ? prevOffset : this.logEnd - 1n;
    const epoch = o >= this.logStart ? this.epochs.epochAt(o) : undefined;
    if (epoch === undefined) return { epoch: -1, epochStartOffset: this.logStart, epochEndOffset: this.logStart };
    const range = this.epochs.rangeFor(epoch, this.logEnd)!;
    return { epoch, epochStartOffset: range.startOffset, epochEndOffset: range.endOffset };
  }

  private handleHeartbeat(m: Heartbeat): void {
    if (this.roleValue !== 'follower') this.becomeFollower(m.term, m.from);
    if (this.leader !== m.from) { this.leader = m.from; this.softDirty = true; }
    this.electionElapsed = 0;
    this.advanceHw(m.highWatermark < this.logEnd ? m.highWatermark : this.logEnd);
    this.send({ type: 'heartbeatResponse', term: this.termValue, from: this.id, to: m.from }, 'after');
  }

  /** Leader says: our log needs offsets it no longer has; empty ours and restart at its log start. */
  private handleLogStart(m: LogStartRequest): void {
    if (this.roleValue !== 'follower') this.becomeFollower(m.term, m.from);
    if (this.leader !== m.from) { this.leader = m.from; this.softDirty = true; }
    this.electionElapsed = 0;
    const start = m.logStartOffset;
    // Holding the leader's entry at its log start (same epoch there) means holding its whole log
    // up to there: nothing to reset (a delayed request, or one sent after a reordered rejection).
    // This also keeps what this node may have acknowledged to this leader: it never resets away
    // an entry the leader has.
    const holdsStart = m.logStartEpoch >= 0 && start >= this.logStart && start < this.logEnd && this.epochs.epochAt(start) === m.logStartEpoch;
    if (holdsStart) {
      // Acknowledge `start`, not start + 1: a match offset is always an entry boundary (the entry
      // at `start` may hold several records, and the leader commits up to match offsets). The
      // leader then sends from `start` on; we skip the entries we already hold.
      this.send({ type: 'appendResponse', term: this.termValue, from: this.id, to: m.from, success: true, matchOffset: start, prevOffset: start - 1n }, 'after');
      return;
    }
    if (start > this.hw) {
      // Every entry we hold at or past the leader's log start is missing there or diverges
      // (another epoch at the log start), and everything below it is committed and deleted
      // there: nothing to keep.
      this.resetLog(start, m.prevEpoch);
      this.advanceHw(start);
      this.configs = [{ offset: start - 1n, epoch: -1, voters: [...m.membership.voters], learners: [...m.membership.learners] }];
      this.applyCurrentConfig();
    }
    // Below the log start (and below our HW) our log holds the leader's: acknowledge it once durable.
    this.send({ type: 'appendResponse', term: this.termValue, from: this.id, to: m.from, success: true, matchOffset: start, prevOffset: start - 1n }, 'after');
  }

  /**
   * Empty the log and restart it at `offset` (the driver does the same to the real log, first in
   * the Ready). `epochBelow` is the epoch of the entry at offset - 1 (-1: unknown): the emptied
   * log's last epoch, kept in the EpochView at offset - 1 and handed to the storage (resetEpoch).
   */
  private resetLog(offset: bigint, epochBelow: number): void {
    this.logStart = offset;
    this.logEnd = offset;
    if (this.persistedEnd > offset) this.persistedEnd = offset;
    this.epochs.truncateTo(-1n);
    const below = offset > 0n && epochBelow >= 0 ? epochBelow : -1;
    if (below >= 0) this.epochs.append(below, offset - 1n);
    this.outResetEpoch = below;
    this.tail = [];
    this.tailBytes = 0;
    this.outEntries = [];
    this.outTruncateTo = undefined;
    this.outResetTo = offset;
    // configurations carried by entries that are gone: only the one in force stays, as the base
    const current = this.configs[this.configs.length - 1]!;
    this.configs = [{ ...copyConfig(current), offset: offset - 1n, epoch: -1 }];
    this.configsDirty = true;
  }

  private advanceHw(to: bigint): void {
    if (to > this.hw) {
      this.hw = to;
      this.outHw = to;
      this.hardStateDirty = true;
    }
  }

  // ---------------------------------------------------------------- leader side of replication

  private tickLeader(): void {
    this.leaderTicks++;
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.transferee !== NO_NODE && ++this.transferElapsed >= this.electionTimeout) {
      this.transferee = NO_NODE; // abandoned: resume as leader
    }
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        let active = 1;
        for (const [id, pr] of this.progress) { if (pr.recentActive && this.voters.includes(id)) active++; pr.recentActive = false; }
        if (active < this.quorum()) { this.becomeFollower(this.termValue, NO_NODE); return; }
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatInterval) {
      this.heartbeatElapsed = 0;
      for (const [to, pr] of this.progress) this.sendHeartbeat(to, pr);
    }
  }

  private appendLocal(data: Buffer, recordCount: number): Entry {
    const entry: Entry = { baseOffset: this.logEnd, lastOffset: this.logEnd + BigInt(recordCount) - 1n, epoch: this.termValue, data };
    this.appendEntry(entry);
    return entry;
  }

  private appendEntry(e: Entry): void {
    if (e.baseOffset !== this.logEnd) throw new Error(`append at ${e.baseOffset} but log ends at ${this.logEnd}`);
    if (e.lastOffset < e.baseOffset) throw new Error('entry with no offsets');
    this.epochs.append(e.epoch, e.baseOffset);
    this.logEnd = e.lastOffset + 1n;
    this.tail.push(e);
    this.tailBytes += e.data.length;
    this.outEntries.push(e);
    if (e.config !== undefined) {
      this.configs.push({ offset: e.baseOffset, epoch: e.epoch, voters: [...e.config.voters], learners: [...e.config.learners] });
      this.applyCurrentConfig();
    }
  }

  /** The last configuration of the log is in force: voters, learners, the leader's progress. */
  private applyCurrentConfig(): void {
    const c = this.configs[this.configs.length - 1]!;
    this.voters = [...c.voters];
    this.learners = [...c.learners];
    this.configsDirty = true;
    if (this.roleValue === 'leader') {
      const members = new Set([...this.voters, ...this.learners]);
      for (const id of members) {
        if (id === this.id || this.progress.has(id)) continue;
        // a member added now is not in sync until it has held the whole log once
        const pr = this.newProgress();
        pr.lastCaughtUpTick = Number.MIN_SAFE_INTEGER;
        this.progress.set(id, pr);
      }
      this.pruneProgress();
      if (this.transferee !== NO_NODE && !this.voters.includes(this.transferee)) this.transferee = NO_NODE;
      this.broadcastPending = true;
      this.maybeCommit();
    } else if (!this.voters.includes(this.id) && this.roleValue !== 'follower') {
      // no longer a voter: stop campaigning
      this.roleValue = 'follower';
      this.votes.clear();
      this.softDirty = true;
    }
  }

  /**
   * A removed member keeps getting the log until its removal commits (so it learns it is out and
   * stops campaigning); then the leader forgets it.
   */
  private pruneProgress(): void {
    if (this.membershipChangePending) return;
    for (const id of [...this.progress.keys()]) if (!this.voters.includes(id) && !this.learners.includes(id)) this.progress.delete(id);
  }

  private newProgress(): FollowerProgress {
    return {
      match: 0n, next: this.logEnd, state: 'probe', probeSent: false, inflight: [],
      recentActive: true, lastProgressTick: this.leaderTicks, lastCaughtUpTick: this.leaderTicks, sentHw: 0n,
    };
  }

  /** Forget configurations older than the last one that is committed and durable (they can never come back). */
  private trimConfigs(): void {
    const stable = this.hw < this.persistedEnd ? this.hw : this.persistedEnd;
    let keep = 0;
    for (let i = 0; i < this.configs.length; i++) if (this.configs[i]!.offset < stable) keep = i;
    if (keep > 0) this.configs = this.configs.slice(keep);
  }

  private truncate(offset: bigint): void {
    if (offset < this.hw) throw new Error(`invariant: truncation to ${offset} below the high watermark ${this.hw}`);
    if (offset >= this.logEnd) return;
    this.logEnd = offset;
    this.epochs.truncateTo(offset);
    if (this.persistedEnd > offset) this.persistedEnd = offset;
    while (this.tail.length > 0 && this.tail[this.tail.length - 1]!.baseOffset >= offset) this.tailBytes -= this.tail.pop()!.data.length;
    this.outEntries = this.outEntries.filter((e) => e.baseOffset < offset);
    this.outTruncateTo = this.outTruncateTo === undefined || offset < this.outTruncateTo ? offset : this.outTruncateTo;
    if (this.configs.length > 1 && this.configs[this.configs.length - 1]!.offset >= offset) {
      // configurations of the removed entries are undone (the first one is committed: never removed)
      while (this.configs.length > 1 && this.configs[this.configs.length - 1]!.offset >= offset) this.configs.pop();
      this.applyCurrentConfig();
    }
  }

  /** Drop window entries nobody needs from memory any more. */
  private trimWindow(): void {
    let keepFrom = this.persistedEnd;
    if (this.roleValue === 'leader') {
      for (const pr of this.progress.values()) if (pr.match < keepFrom) keepFrom = pr.match;
    } else if (this.hw < keepFrom) {
      keepFrom = this.hw;
    }
    while (this.tail.length > 0) {
      const first = this.tail[0]!;
      const unneeded = first.lastOffset < keepFrom;
      const tooBig = this.tailBytes > this.maxWindowBytes && first.lastOffset < this.persistedEnd;
      if (!unneeded && !tooBig) break;
      this.tail.shift();
      this.tailBytes -= first.data.length;
    }
  }

  /**
   * Entries from memory starting exactly at `from`, up to maxAppendBytes (at least one), or
   * undefined (then the log is read at `from`). An entry in memory that holds `from` but starts
   * below it (an entry read back merges a run of batches of one epoch; a proposed entry may hold
   * several batches) is not sent: the follower may hold only a prefix of it, and the part below
   * `from` may be committed there. The log read at `from` starts at the batch holding it, which
   * starts exactly there when `from` is a batch boundary (every offset a follower acknowledges or
   * hints is); only when the read itself starts below `from` is that entry sent (the follower
   * keeps what it holds of it, see handleAppend).
   */
  private entriesFrom(from: bigint): Entry[] | undefined {
    for (const source of [this.tail, this.readBack]) {
      const idx = source.findIndex((e) => e.baseOffset <= from && from <= e.lastOffset);
      if (idx < 0) continue;
      if (source[idx]!.baseOffset < from && !(source === this.readBack && idx === 0 && this.readBackFrom === from)) continue;
      const out: Entry[] = [];
      let bytes = 0;
      let expect = source[idx]!.baseOffset;
      for (let i = idx; i < source.length; i++) {
        const e = source[i]!;
        if (e.baseOffset !== expect || (out.length > 0 && bytes + e.data.length > this.maxAppendBytes)) break;
        out.push(e);
        bytes += e.data.length;
        expect = e.lastOffset + 1n;
      }
      // read-back entries may stop short of the window; continue from the window
      if (source === this.readBack && bytes < this.maxAppendBytes) {
        const more = this.tail.findIndex((e) => e.baseOffset === expect);
        if (more >= 0) for (let i = more; i < this.tail.length && bytes < this.maxAppendBytes; i++) { out.push(this.tail[i]!); bytes += this.tail[i]!.data.length; }
      }
      return out;
    }
    return undefined;
  }

  private sendAppend(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    if (pr.state === 'probe' && pr.probeSent) return;
    if (pr.state === 'replicate' && (pr.inflight.length >= this.maxInflight || pr.next >= this.logEnd)) return;
    if (pr.next < this.logStart) {
      // cannot go below what retention kept: probe where our log starts
      pr.next = this.logStart;
      if (pr.state === 'replicate' && pr.match < this.logStart) { pr.state = 'probe'; pr.inflight = []; pr.probeSent = false; }
    }
    if (pr.needsLogStart) {
      const logStartEpoch = this.logEnd > this.logStart ? (this.epochs.epochAt(this.logStart) ?? -1) : -1;
      // The epoch of our (deleted) entry just below the log start: the EpochView keeps it (the
      // storage's epoch cache holds it at logStart - 1 after retention). -1 only when unknown
      // (never a guess: the follower would vote with it).
      const prevEpoch = this.logStart > 0n ? (this.epochs.epochAt(this.logStart - 1n) ?? -1) : -1;
      const m: LogStartRequest = {
        type: 'logStart', term: this.termValue, from: this.id, to, logStartOffset: this.logStart, logStartEpoch, prevEpoch, membership: this.committedMembership(),
      };
      this.send(m, 'now');
      pr.probeSent = true;
      return;
    }
    let entries: Entry[] = [];
    if (pr.state === 'replicate') {
      const found = this.entriesFrom(pr.next);
      if (found === undefined) { this.requestRead(pr.next); return; }
      // Start at a whole entry of this log; the follower skips what it already holds.
      if (found[0]!.baseOffset < pr.next) pr.next = found[0]!.baseOffset;
      entries = found;
    }
    const prevOffset = pr.next - 1n;
    let prevEpoch = prevOffset < 0n ? -1 : (this.epochAt(prevOffset) ?? -1);
    if (prevOffset >= 0n && prevOffset === this.logStart - 1n) {
      // Just below our log start: the epoch cache knows it (it keeps the epoch of logStart - 1,
      // even for an empty log); if not, the epoch at the log start will do: a follower holding
      // that epoch at logStart - 1 holds our (deleted) entry there, since an epoch's first entry
      // is never preceded by an entry of the same epoch.
      prevEpoch = this.epochs.epochAt(prevOffset) ?? (this.logEnd > this.logStart ? this.epochs.epochAt(this.logStart) : undefined) ?? -1;
    }
    const m: AppendRequest = { type: 'append', term: this.termValue, from: this.id, to, prevOffset, prevEpoch, entries, highWatermark: this.hw };
    this.send(m, 'now');
    if (pr.state === 'probe') pr.probeSent = true;
    else {
      const end = entries[entries.length - 1]!.lastOffset + 1n;
      pr.next = end;
      pr.inflight.push(end);
    }
  }

  private requestRead(from: bigint): void {
    if (this.pendingReads.has(from)) return;
    this.pendingReads.add(from);
    this.outReads.push({ fromOffset: from, maxBytes: this.maxAppendBytes });
  }

  private handleAppendResponse(m: AppendResponse): void {
    if (this.roleValue !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.success) {
      if (m.matchOffset > this.logEnd) throw new Error(`follower ${m.from} acked ${m.matchOffset} beyond log end ${this.logEnd}`);
      pr.needsLogStart = false;
      if (m.matchOffset > pr.match) { pr.match = m.matchOffset; pr.lastProgressTick = this.leaderTicks; if (this.eagerCommitNotify) this.commitBroadcastPending = true; }
      if (pr.next < pr.match) pr.next = pr.match;
      pr.inflight = pr.inflight.filter((end) => end > pr.match);
      if (pr.state === 'probe') { pr.state = 'replicate'; pr.probeSent = false; pr.inflight = []; pr.next = pr.match; }
      if (pr.match === this.logEnd) pr.lastCaughtUpTick = this.leaderTicks;
      this.maybeCommit();
      if (this.transferee === m.from && pr.match === this.logEnd) {
        this.send({ type: 'timeoutNow', term: this.termValue, from: this.id, to: m.from }, 'now');
      }
      while (pr.state === 'replicate' && pr.next < this.logEnd && pr.inflight.length < this.maxInflight) {
        const before = pr.next;
        this.sendAppend(m.from);
        if (pr.next === before) break;
      }
      this.trimWindow();
      return;
    }
    if (m.prevOffset < pr.match) return; // stale rejection
    if (pr.state === 'probe' && m.prevOffset !== pr.next - 1n) return; // answers an older probe
    if (this.logStart > 0n && m.prevOffset <= this.logStart) {
      // The follower cannot match where our log starts (just below it, or at it): it gets a
      // LogStartRequest instead of being probed forever. If it does hold our entry at the log
      // start (the epoch we sent for logStart - 1 was a fallback), it acknowledges the log start
      // and keeps its log; otherwise every entry it holds from there on diverges from ours (log
      // matching), so none is committed, and it restarts its log at our log start. (No probe at
      // the log start itself: its acknowledgement, logStart + 1, could fall inside a
      // multi-record entry, and the leader commits up to acknowledged offsets.)
      if (pr.needsLogStart === true && pr.probeSent) return; // one request in flight (a heartbeat response re-arms it)
      pr.state = 'probe';
      pr.probeSent = false;
      pr.inflight = [];
      pr.next = this.logStart;
      pr.needsLogStart = true;
      this.sendAppend(m.from);
      return;
    }
    let next = this.nextFromHint(m.hint);
    if (next > m.prevOffset) next = m.prevOffset; // a rejection at prevOffset means next <= prevOffset
    // The follower acknowledges a probe at next - 1 with `next`, and we commit up to acknowledged
    // offsets: probe only at an entry boundary of our log (the hint's offsets are boundaries of
    // the follower's log, which may fall inside one of our multi-record entries).
    next = this.boundaryAtOrBelow(next);
    if (next < pr.match) next = pr.match;
    pr.next = next;
    pr.state = 'probe';
    pr.probeSent = false;
    pr.inflight = [];
    this.sendAppend(m.from);
  }

  /**
   * The largest entry boundary of our log at or below `offset` (an entry's base offset, or the
   * log end): exact when the in-memory window or the read-back entries hold the entry there,
   * otherwise the start of the epoch holding it (epoch starts are always entry boundaries).
   */
  private boundaryAtOrBelow(offset: bigint): bigint {
    if (offset >= this.logEnd) return this.logEnd;
    if (offset <= this.logStart) return offset < this.logStart ? offset : this.logStart;
    for (const source of [this.tail, this.readBack]) {
      const e = source.find((x) => x.baseOffset <= offset && offset <= x.lastOffset);
      if (e !== undefined) return e.baseOffset;
    }
    const epoch = this.epochs.epochAt(offset);
    const range = epoch === undefined ? undefined : this.epochs.rangeFor(epoch, this.logEnd);
    if (range === undefined || range.startOffset < this.logStart) return this.logStart;
    return range.startOffset;
  }

  /** Fast backtracking by epoch: where the follower's log can at best still agree with ours. */
  private nextFromHint(hint: DivergenceHint | undefined): bigint {
    if (hint === undefined || hint.epoch < 0) return hint?.epochEndOffset ?? this.logStart;
    const mine = this.epochs.rangeFor(hint.epoch, this.logEnd);
    if (mine === undefined) return this.logStart;
    if (mine.epoch === hint.epoch) return mine.endOffset < hint.epochEndOffset ? mine.endOffset : hint.epochEndOffset;
    // we never had the follower's epoch: its entries of that epoch all diverge
    return mine.endOffset < hint.epochStartOffset ? mine.endOffset : hint.epochStartOffset;
  }

  private handleHeartbeatResponse(from: NodeId): void {
    if (this.roleValue !== 'leader') return;
    const pr = this.progress.get(from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.match === this.logEnd) pr.lastCaughtUpTick = this.leaderTicks;
    // appends may have been lost: with no progress for a while, fall back to probing
    if (pr.state === 'replicate' && pr.inflight.length > 0 && this.leaderTicks - pr.lastProgressTick >= 3 * this.heartbeatInterval + 2) {
      pr.state = 'probe';
      pr.inflight = [];
      pr.next = pr.match;
      pr.lastProgressTick = this.leaderTicks;
    }
    if (pr.match < this.logEnd) this.sendAppend(from);
  }

  private maybeCommit(): void {
    if (this.roleValue !== 'leader') return;
    const matches: bigint[] = this.voters.includes(this.id) ? [this.persistedEnd] : [];
    for (const [id, pr] of this.progress) if (this.voters.includes(id)) matches.push(pr.match);
    if (matches.length < this.quorum()) return;
    matches.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const q = matches[this.quorum() - 1]!;
    // the previous-term rule: only past this leader's own first entry
    if (q > this.epochStartOffset && q > this.hw) {
      this.advanceHw(q);
      if (this.eagerCommitNotify) this.commitBroadcastPending = true;
      if (this.progress.size > this.voters.length + this.learners.length - 1) this.pruneProgress();
    }
  }

  /** Tell followers the new HW (capped by what each holds) without waiting for the next heartbeat. */
  /** The last committed configuration (what a follower restarting at our log start gets). */
  private committedMembership(): Membership {
    let c = this.configs[0]!;
    for (const x of this.configs) if (x.offset < this.hw) c = x;
    return { voters: [...c.voters], learners: [...c.learners] };
  }

  private broadcastCommit(): void {
    for (const [to, pr] of this.progress) {
      const hw = pr.match < this.hw ? pr.match : this.hw;
      if (hw > pr.sentHw) this.sendHeartbeat(to, pr);
    }
  }

  private sendHeartbeat(to: NodeId, pr: FollowerProgress): void {
    const hw = pr.match < this.hw ? pr.match : this.hw;
    if (hw > pr.sentHw) pr.sentHw = hw;
    this.send({ type: 'heartbeat', term: this.termValue, from: this.id, to, highWatermark: hw }, 'now');
  }

  private send(m: RaftMessage, when: 'now' | 'after'): void {
    // A leader's appends may go out before its own write is durable only when their term already
    // is. A single voter becomes leader in the same step it takes a new term (no vote round trip
    // waits for the term to be persisted), so with learners its first appends would otherwise
    // carry a term that a crash can lose: after a restart it could lead that same term again with
    // a different log, and a learner would hold two different entries of one epoch at one offset.
    if (when === 'now' && m.term <= this.durableTerm) this.outNow.push(m);
    else this.outAfter.push(m);
  }
}

function copyConfig(c: ConfigEntry): ConfigEntry {
  return { offset: c.offset, epoch: c.epoch, voters: [...c.voters], learners: [...c.learners] };
}
