/**
 * Types shared by the Raft core, its driver and the simulator.
 *
 * The Raft log IS the partition's Kafka log: a Raft index is a Kafka offset and an entry is one
 * or more RecordBatches of one leader epoch covering offsets [baseOffset, lastOffset]. The term
 * of an entry is its partitionLeaderEpoch. The commit index is the high watermark: the exclusive
 * offset below which everything is committed. Every "end offset" in this module is exclusive.
 */

export type NodeId = number;
/** "No node": no leader known, no vote cast. */
export const NO_NODE: NodeId = -1;

/** One unit of replication: contiguous offsets of a single epoch. `data` is opaque to the core. */
export interface Entry {
  baseOffset: bigint;
  lastOffset: bigint;
  epoch: number;
  data: Buffer;
  /**
   * Set on an entry that carries a membership change (its data is one control batch, see
   * membership.ts): the group's configuration from this entry on. It takes effect on every node
   * as soon as the entry is appended to its log (Raft thesis §4.1), committed or not.
   */
  config?: Membership;
}

/** A group's members: voters elect and count towards the commit quorum; learners only follow. */
export interface Membership {
  voters: readonly NodeId[];
  learners: readonly NodeId[];
}

/**
 * A configuration and the entry that carries it. The group's initial configuration (given when
 * the group is created) and one installed with a log start offset are in no entry: epoch -1,
 * offset just below the log start.
 */
export interface ConfigEntry extends Membership {
  offset: bigint;
  epoch: number;
}

/** One single-server membership change (Raft thesis §4.1; one at a time, see RaftCore.changeMembership). */
export type MembershipChange =
  | { type: 'addLearner'; node: NodeId }
  | { type: 'promote'; node: NodeId }
  | { type: 'remove'; node: NodeId };

export type MembershipChangeResult =
  | { ok: true; offset: bigint; membership: Membership }
  | {
    ok: false;
    reason: 'not_leader' | 'transferring' | 'change_pending' | 'term_not_committed' | 'learner_behind' | 'remove_leader' | 'invalid';
    message: string;
  };

/** What must be durable before messages that depend on it are sent. */
export interface HardState {
  term: number;
  votedFor: NodeId;
  /** The high watermark last persisted (so it never goes backwards across a restart). */
  commitOffset: bigint;
}

/** The first offset of each epoch in the log, ascending (Kafka's leader-epoch cache). */
export interface EpochStart {
  epoch: number;
  startOffset: bigint;
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

interface MessageBase {
  term: number;
  from: NodeId;
  to: NodeId;
}

/** (Pre)vote request. A pre-vote carries the term the candidate WOULD use, without taking it. */
export interface VoteRequest extends MessageBase {
  type: 'vote';
  pre: boolean;
  lastEpoch: number;
  logEndOffset: bigint;
  /** Sent because of TimeoutNow (leadership transfer): voters ignore their leader lease. */
  transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  type: 'voteResponse';
  pre: boolean;
  granted: boolean;
}

/** Leader -> follower: entries following (prevOffset, prevEpoch), plus the leader's HW. */
export interface AppendRequest extends MessageBase {
  type: 'append';
  /** Offset just before entries[0] (-1 when the entries start the log). */
  prevOffset: bigint;
  /** Epoch of the batch containing prevOffset (-1 when prevOffset is -1). */
  prevEpoch: number;
  entries: Entry[];
  highWatermark: bigint;
}

/** Where a follower's log sits around a rejected prevOffset, for backtracking by epoch. */
export interface DivergenceHint {
  /** Epoch of the follower's batch containing min(prevOffset, its last offset); -1 if none. */
  epoch: number;
  /** First offset of that epoch on the follower. */
  epochStartOffset: bigint;
  /** End (exclusive) of that epoch on the follower. */
  epochEndOffset: bigint;
}

export interface AppendResponse extends MessageBase {
  type: 'appendResponse';
  success: boolean;
  /** On success: the follower holds exactly the leader's log below this offset (durably). */
  matchOffset: bigint;
  /** The prevOffset of the request being answered. */
  prevOffset: bigint;
  hint?: DivergenceHint;
}

export interface Heartbeat extends MessageBase {
  type: 'heartbeat';
  /** min(leader HW, what this follower is known to hold): never beyond the follower's log. */
  highWatermark: bigint;
}

export interface HeartbeatResponse extends MessageBase {
  type: 'heartbeatResponse';
}

/** Leadership transfer: "campaign now, skipping pre-vote and leases". */
export interface TimeoutNow extends MessageBase {
  type: 'timeoutNow';
}

/**
 * Leader -> follower whose log cannot be caught up by appends (it needs offsets below the
 * leader's log start, which retention or DeleteRecords removed): "empty your log and restart it
 * at logStartOffset", with the configuration committed at that point (as a Raft snapshot carries
 * it). Answered by an AppendResponse with matchOffset = logStartOffset.
 */
export interface LogStartRequest extends MessageBase {
  type: 'logStart';
  logStartOffset: bigint;
  /** The epoch of the leader's entry at logStartOffset (-1: its log is empty there). */
  logStartEpoch: number;
  /**
   * The epoch of the leader's (deleted) entry at logStartOffset - 1, -1 when unknown: what a
   * snapshot's lastIncludedTerm is in Raft. The follower keeps it, durably, as the last epoch of
   * its emptied log, so its vote and pre-vote checks compare (lastEpoch, logEnd) as if it still
   * held that entry (without it, an emptied follower granted its vote to any candidate).
   */
  prevEpoch: number;
  membership: Membership;
}

export type RaftMessage =
  | VoteRequest | VoteResponse | AppendRequest | AppendResponse
  | Heartbeat | HeartbeatResponse | TimeoutNow | LogStartRequest;

/** A request for the driver to read entries from the log (they left the core's memory window). */
export interface ReadRequest {
  fromOffset: bigint;
  maxBytes: number;
}

/** Role and leader as they are now, reported whenever either changes. */
export interface SoftState {
  role: Role;
  leaderId: NodeId;
  term: number;
}

/**
 * Everything the core wants done, collected since the previous ready().
 *
 * The contract, in order, for the driver:
 *  1. `sendNow` may be sent at once (leader appends and heartbeats: they depend only on bytes in
 *     the message and on a term that was made durable before this node became leader).
 *  2. If `configs` is set, make it durable first (membership.ts: the list is stored with the hard
 *     state; see RaftGroup for the write before and after the log). If `resetTo` is set, empty
 *     the log and restart it at that offset. If `truncateTo` is set, truncate the log to it (remove offsets >= truncateTo), then append
 *     `entries` in order, then make the log durable up to `logEndOffset` and `hardState` durable
 *     (log first, then hard state, so a persisted commitOffset never exceeds the durable log).
 *  3. Only then send `sendAfterPersist` (votes, vote requests, append acknowledgements), and call
 *     `core.advance(ready)`. Readies must be persisted and advanced in the order they were taken.
 *  4. Serve `reads` whenever convenient, handing the result to `core.entriesRead()`.
 * `highWatermark` and `softState` are notifications (what changed in memory).
 */
export interface Ready {
  seq: number;
  hardState?: HardState;
  /**
   * The configurations the log holds (the last committed one and every later one), when it
   * changed. A new entry's configuration must be durable before the entry is (a restart must not
   * find a configuration entry in its log it does not know of); a truncated one may stay stored
   * until after the truncation: recovery keeps only those whose (offset, epoch) the log holds.
   */
  configs?: ConfigEntry[];
  /** Empty the log and restart it at this offset (the log start offset too), before anything else. */
  resetTo?: bigint;
  /**
   * With resetTo: the epoch of the entry just below resetTo (-1: unknown). The storage keeps it in
   * the emptied log's epoch cache (the leader-epoch checkpoint), at offset resetTo - 1, so that it
   * survives a restart: it is the log's last epoch until an entry is appended.
   */
  resetEpoch?: number;
  truncateTo?: bigint;
  entries: Entry[];
  /** The in-memory log end offset once this Ready's truncation and appends are applied. */
  logEndOffset: bigint;
  sendNow: RaftMessage[];
  sendAfterPersist: RaftMessage[];
  reads: ReadRequest[];
  highWatermark?: bigint;
  softState?: SoftState;
}

export type ProposeResult =
  | { ok: true; baseOffset: bigint; lastOffset: bigint; epoch: number }
  | { ok: false; reason: 'not_leader' | 'transferring'; leaderId: NodeId; term: number };
