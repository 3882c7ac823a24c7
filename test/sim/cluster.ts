/**
 * A deterministic in-memory cluster of Raft cores for unit tests and the simulator.
 *
 * Each node has a page-cache log (written at once) and a disk (durable below `durableEnd`, plus
 * the last durable hard state). A Ready's writes become durable only when the scheduler completes
 * that node's oldest pending write; a crash drops everything not yet durable. Messages sit in one
 * in-flight list; the scheduler picks which to deliver (reorder), drops or duplicates them.
 * Invariants are checked as events happen; a violation throws an InvariantError.
 *
 * Voters are nodes 1..size; learners (non-voting members) are size+1..size+learners. `ids` lists
 * every node, so every invariant (log matching, HW monotonic, committed entries never lost,
 * nothing sent before it is durable) covers learners too. A learner must also never be leader or
 * (pre)candidate, never be asked for a vote, never ask for or grant one, never persist a vote.
 *
 * Membership changes (RaftCore.changeMembership, see `change`): spare nodes (ids after the
 * learners) exist from the start but are not members; they boot knowing the initial
 * configuration, as a new replica does, and join through `addLearner`. Each node stores its
 * configurations with its hard state as RaftGroup does (the union of the stored and the new ones
 * before the log is written, the exact list once the write is durable), and a restart recovers
 * them. Retention (`deleteBefore`) moves a node's log start; a leader then catches up a follower
 * that needs deleted offsets with a LogStartRequest (the driver empties that follower's log).
 * The learner rules hold with changing configurations too, checked by what a quorum is made of:
 *  - a node that is not a voter of its own configuration is a follower (never (pre)candidate or
 *    leader); a node that was never a voter in any configuration never votes, is never asked;
 *  - a new leader of term T holds votes (durable, of term T, for it) from a quorum of the voters
 *    of its configuration: a learner's vote never counts;
 *  - whenever a leader's high watermark advances, a quorum of the voters of its configuration
 *    durably hold its entry just below the new high watermark: a learner's copy never counts.
 */
import { RaftCore, type RaftConfig } from '../../src/raft/core.js';
import { unionConfigs } from '../../src/raft/membership.js';
import {
  NO_NODE, type ConfigEntry, type Entry, type HardState, type MembershipChange, type MembershipChangeResult, type NodeId, type RaftMessage, type Ready,
} from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

export class InvariantError extends Error {}

export interface InFlight { from: NodeId; to: NodeId; msg: RaftMessage; id: number }

export interface ClusterOptions {
  /** Number of voters (ids 1..size). */
  size: number;
  /** Number of learners (ids size+1..size+learners). Default 0. */
  learners?: number;
  /** Spare nodes (ids after the learners): not members until a membership change adds them. Default 0. */
  spares?: number;
  seed: number;
  /** Overrides for every node's config. */
  config?: Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'random'>>;
  /** Per-node overrides on top of `config` (e.g. campaignOnFirstTick for a group's preferred replica). */
  configFor?: (id: NodeId) => Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'random'>>;
  /** Complete disk writes at once (unit tests) instead of when the scheduler says. */
  syncDisk?: boolean;
}

export function entryKey(e: Entry): string { return `${e.baseOffset}:${e.lastOffset}:${e.epoch}:${e.data.toString('hex')}`; }

export function epochStartsOf(log: readonly Entry[]): { epoch: number; startOffset: bigint }[] {
  const out: { epoch: number; startOffset: bigint }[] = [];
  for (const e of log) if (out.length === 0 || out[out.length - 1]!.epoch !== e.epoch) out.push({ epoch: e.epoch, startOffset: e.baseOffset });
  return out;
}

/** What the storage's epoch cache holds for a node's log: the epoch kept just below its log start, then its entries' epochs. */
export function epochCacheOf(n: SimNode): { epoch: number; startOffset: bigint }[] {
  const fromLog = epochStartsOf(n.log);
  if (n.startEpoch === undefined) return fromLog;
  return [{ ...n.startEpoch }, ...fromLog.filter((e) => e.epoch > n.startEpoch!.epoch)];
}

/** The batches (proposed entries) a merged read-back entry was made of (see readAsBroker). */
const mergedParts = new WeakMap<Entry, Entry[]>();

/** The stored batches an entry stands for: itself, or the parts of a merged read-back entry. */
export function batchesOf(e: Entry): Entry[] {
  const parts = mergedParts.get(e);
  return parts === undefined ? [e] : parts.flatMap(batchesOf);
}

/**
 * Serve a leader's ReadRequest as the broker does (PartitionLog.read, then RaftGroup's
 * splitByEpoch): from the batch holding `fromOffset` (which may start below it), whole batches up
 * to `maxBytes` (at least one), and consecutive batches of one epoch merged into ONE entry (a
 * configuration batch stays an entry of its own). So a read-back entry may span many proposed
 * entries and start below the offset asked for: its boundaries are not those of the entries the
 * leader proposed, and a follower may hold a prefix of it. The follower stores it as the batches
 * it is made of (their boundaries, and so every invariant on entries, are unchanged).
 */
export function readAsBroker(log: readonly Entry[], fromOffset: bigint, maxBytes: number): Entry[] {
  const batches: Entry[] = [];
  let bytes = 0;
  for (const e of log) {
    if (e.lastOffset < fromOffset) continue;
    if (batches.length > 0 && bytes + e.data.length > maxBytes) break;
    batches.push(e); bytes += e.data.length;
  }
  const out: Entry[] = [];
  let group: Entry[] = [];
  const flush = (): void => {
    if (group.length === 0) return;
    if (group.length === 1) out.push(group[0]!);
    else {
      const merged: Entry = { baseOffset: group[0]!.baseOffset, lastOffset: group[group.length - 1]!.lastOffset, epoch: group[0]!.epoch, data: Buffer.concat(group.map((g) => g.data)) };
      mergedParts.set(merged, group);
      out.push(merged);
    }
    group = [];
  };
  for (const b of batches) {
    if (group.length > 0 && (b.epoch !== group[0]!.epoch || b.config !== undefined || group[0]!.config !== undefined)) flush();
    group.push(b);
  }
  flush();
  return out;
}

/** A message for the trace: its type and the fields that explain a log's history. */
function describe(m: RaftMessage): string {
  switch (m.type) {
    case 'append': return `append(prev=${m.prevOffset}@${m.prevEpoch} [${m.entries.map((e) => `${e.baseOffset}..${e.lastOffset}@${e.epoch}`).join(' ')}] hw=${m.highWatermark})`;
    case 'appendResponse': return `appendResponse(${m.success ? 'ok' : 'rejected'} match=${m.matchOffset} prev=${m.prevOffset}${m.hint !== undefined ? ` hint=${m.hint.epoch}:${m.hint.epochStartOffset}-${m.hint.epochEndOffset}` : ''})`;
    case 'logStart': return `logStart(${m.logStartOffset}@${m.logStartEpoch} prevEpoch=${m.prevEpoch})`;
    case 'vote': return `vote(${m.pre ? 'pre ' : ''}last=${m.lastEpoch} end=${m.logEndOffset})`;
    case 'voteResponse': return `voteResponse(${m.pre ? 'pre ' : ''}${m.granted ? 'granted' : 'refused'})`;
    case 'heartbeat': return `heartbeat(hw=${m.highWatermark})`;
    default: return m.type;
  }
}

export class SimNode {
  up = true;
  core!: RaftCore;
  /** Page-cache view of the log: what reads see. */
  log: Entry[] = [];
  /** First offset of the log (retention, or a restart at the leader's log start); always durable. */
  logStart = 0n;
  /**
   * The epoch of the offset just below the log start, at logStart - 1 (the storage's epoch cache
   * keeps it after retention, EpochCache.truncateFromStart, and after a restart at the leader's
   * log start with the epoch the leader sent, truncateFullyAndStartAt / EpochCache.resetAt).
   */
  startEpoch: { epoch: number; startOffset: bigint } | undefined;
  durableEnd = 0n;
  /** Set when the log restarted below its previous start (see applyWrites): that start, until the log is durable up to it again. */
  restartedBelowHw: bigint | undefined;
  /** The configurations stored with the hard state (undefined: none stored yet, the initial one applies). */
  configs: ConfigEntry[] | undefined;
  durableHard: HardState = { term: 0, votedFor: NO_NODE, commitOffset: 0n };
  pending: { ready: Ready; end: bigint }[] = [];
  /** Highest HW / term seen in the current life (in memory). */
  lifeHw = 0n;
  lifeTerm = 0;
  restarts = 0;

  constructor(readonly id: NodeId) {}

  logEnd(): bigint { return this.log.length === 0 ? this.logStart : this.log[this.log.length - 1]!.lastOffset + 1n; }
  entryAt(offset: bigint): Entry | undefined {
    // binary search: entries are sorted and contiguous
    let lo = 0; let hi = this.log.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1; const e = this.log[mid]!;
      if (offset < e.baseOffset) hi = mid - 1; else if (offset > e.lastOffset) lo = mid + 1; else return e;
    }
    return undefined;
  }
}

export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  /** Every node: voters, then learners. */
  readonly ids: NodeId[];
  readonly voterIds: NodeId[];
  readonly learnerIds: NodeId[];
  /** Nodes that are not members of the initial configuration. */
  readonly spareIds: NodeId[];
  private readonly learnerSet: Set<NodeId>;
  /** Every node that is a voter in some configuration some node has held (the others are learners forever). */
  private readonly everVoter = new Set<NodeId>();
  inflight: InFlight[] = [];
  private nextMsgId = 0;
  /** blocked.has(`${a}>${b}`): messages from a to b are dropped. */
  readonly blocked = new Set<string>();
  /** term -> leader id */
  readonly leaders = new Map<number, NodeId>();
  /** committed offset -> entry key, across the whole history */
  readonly committed = new Map<bigint, string>();
  committedEnd = 0n;
  /** term -> the one node that got a durable vote from each voter: `${voter}@${term}` -> candidate */
  private readonly durableVotes = new Map<string, NodeId>();
  readonly trace: string[] = [];
  /** Bumped whenever any log changes, so checkLogs can skip unchanged states. */
  private logVersion = 0;
  private checkedVersion = -1;
  traceEnabled = false;
  private proposals = 0;
  readonly acked: { key: string; baseOffset: bigint }[] = [];
  private readonly awaitingAck = new Map<string, { leader: NodeId; baseOffset: bigint; epoch: number }>();

  constructor(readonly opts: ClusterOptions) {
    this.voterIds = Array.from({ length: opts.size }, (_, i) => i + 1);
    this.learnerIds = Array.from({ length: opts.learners ?? 0 }, (_, i) => opts.size + i + 1);
    this.learnerSet = new Set(this.learnerIds);
    const firstSpare = opts.size + (opts.learners ?? 0) + 1;
    this.spareIds = Array.from({ length: opts.spares ?? 0 }, (_, i) => firstSpare + i);
    for (const v of this.voterIds) this.everVoter.add(v);
    this.ids = [...this.voterIds, ...this.learnerIds, ...this.spareIds];
    for (const id of this.ids) {
      const n = new SimNode(id);
      this.nodes.set(id, n);
      this.boot(n);
    }
  }

  node(id: NodeId): SimNode { return this.nodes.get(id)!; }
  core(id: NodeId): RaftCore { return this.node(id).core; }
  /** A learner of the initial configuration (see `neverVoter` for one that has stayed so). */
  isLearner(id: NodeId): boolean { return this.learnerSet.has(id); }
  /** No configuration any node has held so far made this node a voter. */
  neverVoter(id: NodeId): boolean { return !this.everVoter.has(id); }
  /** Votes needed for a quorum of the initial voters. */
  get quorum(): number { return Math.floor(this.voterIds.length / 2) + 1; }

  private boot(n: SimNode): void {
    n.core = new RaftCore(
      { id: n.id, voters: this.voterIds, learners: this.learnerIds, random: new Random(this.opts.seed * 7919 + n.id * 104729 + n.restarts), ...this.opts.config, ...this.opts.configFor?.(n.id) },
      {
        hardState: { ...n.durableHard }, logStartOffset: n.logStart, logEndOffset: n.logEnd(), epochs: epochCacheOf(n),
        ...(n.configs !== undefined ? { configs: n.configs } : {}),
      },
    );
    n.lifeHw = n.core.highWatermark;
    n.lifeTerm = n.core.term;
    if (n.lifeHw < n.durableHard.commitOffset) throw new InvariantError(`node ${n.id} restarted with HW ${n.lifeHw} below durable ${n.durableHard.commitOffset}`);
    this.checkNode(n);
  }

  private log(line: string): void { if (this.traceEnabled) this.trace.push(line); }

  // ------------------------------------------------------------ driving one node

  /** Take every Ready of a node: write to the page cache, send what may go now. */
  process(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    let guard = 0;
    while (n.core.hasReady()) {
      if (++guard > 1000) throw new Error('ready loop does not settle');
      const r = n.core.ready();
      // new configurations are stored before the log is written (RaftGroup's rule)
      if (r.configs !== undefined) n.configs = unionConfigs(n.configs ?? [], r.configs);
      this.applyWrites(n, r);
      for (const m of r.sendNow) this.send(n, m);
      for (const req of r.reads) n.core.entriesRead(req.fromOffset, readAsBroker(n.log, req.fromOffset, req.maxBytes));
      n.pending.push({ ready: r, end: r.logEndOffset });
      this.checkNode(n);
      if (this.opts.syncDisk) this.completeDisk(id);
    }
  }

  private applyWrites(n: SimNode, r: Ready): void {
    if (r.resetTo !== undefined || r.truncateTo !== undefined || r.entries.length > 0) this.logVersion++;
    if (r.resetTo !== undefined) {
      const t = r.resetTo;
      for (const e of n.log) if (e.lastOffset >= t && this.committed.get(e.baseOffset) === entryKey(e)) {
        throw new InvariantError(`node ${n.id} empties its log at ${t}, dropping committed entry at ${e.baseOffset}`);
      }
      // the storage's truncateFullyAndStartAt is durable when it resolves
      n.log = [];
      // A restart below the HW: the leader's log start falls inside a batch (DeleteRecords, or an
      // entry read back that merges batches), and Kafka's follower restarts at that batch's base
      // (RaftCore.handleAppend). The HW stays (it never goes back); until the batch is durable,
      // the HW stored may be above the durable log end, as RaftGroup allows it only here.
      if (t < n.logStart) n.restartedBelowHw = n.logStart;
      n.logStart = t;
      const below = r.resetEpoch ?? -1;
      n.startEpoch = below >= 0 && t > 0n ? { epoch: below, startOffset: t - 1n } : undefined;
      n.durableEnd = t;
      for (const p of n.pending) p.end = t;
      this.log(`n${n.id} reset ${t}`);
    }
    if (r.truncateTo !== undefined) {
      const t = r.truncateTo;
      if (t < n.durableHard.commitOffset) throw new InvariantError(`node ${n.id} truncates to ${t} below its durable HW ${n.durableHard.commitOffset}`);
      if (t < this.committedEnd) {
        for (const e of n.log) if (e.lastOffset >= t && this.committed.has(e.baseOffset) && this.committed.get(e.baseOffset) === entryKey(e)) {
          throw new InvariantError(`node ${n.id} truncates committed entry at ${e.baseOffset}`);
        }
      }
      n.log = n.log.filter((e) => e.lastOffset < t);
      // truncation is durable at once (the storage's truncateTo resolves durable)
      if (n.durableEnd > t) n.durableEnd = t;
      for (const p of n.pending) if (p.end > t) p.end = t;
      this.log(`n${n.id} truncate ${t}`);
    }
    for (const e of r.entries) {
      if (e.baseOffset !== n.logEnd()) throw new InvariantError(`node ${n.id} appends ${e.baseOffset} at end ${n.logEnd()}`);
      // a read-back entry is stored as the batches it was read from (appendAsFollower writes its bytes)
      n.log.push(...batchesOf(e));
    }
  }

  /** The node's oldest pending write becomes durable. */
  completeDisk(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.up) return false;
    const p = n.pending.shift();
    if (p === undefined) return false;
    n.durableEnd = p.end < n.logStart ? n.logStart : p.end;
    if (n.restartedBelowHw !== undefined && n.durableEnd >= n.restartedBelowHw) n.restartedBelowHw = undefined;
    if (p.ready.configs !== undefined) n.configs = p.ready.configs.map((c) => ({ ...c, voters: [...c.voters], learners: [...c.learners] }));
    if (p.ready.hardState !== undefined) {
      const hs = p.ready.hardState;
      const old = n.durableHard;
      if (hs.term < old.term) throw new InvariantError(`node ${n.id} durable term ${old.term} -> ${hs.term}`);
      if (hs.commitOffset < old.commitOffset) throw new InvariantError(`node ${n.id} durable HW ${old.commitOffset} -> ${hs.commitOffset}`);
      if (hs.commitOffset > n.durableEnd && !(n.restartedBelowHw !== undefined && hs.commitOffset <= n.restartedBelowHw)) throw new InvariantError(`node ${n.id} durable HW ${hs.commitOffset} beyond durable log ${n.durableEnd}`);
      if (hs.votedFor !== NO_NODE && this.neverVoter(n.id)) throw new InvariantError(`learner ${n.id} persists a vote for ${hs.votedFor} in term ${hs.term}`);
      if (hs.votedFor !== NO_NODE && this.neverVoter(hs.votedFor)) throw new InvariantError(`node ${n.id} persists a vote for learner ${hs.votedFor} in term ${hs.term}`);
      if (hs.votedFor !== NO_NODE) {
        const k = `${n.id}@${hs.term}`;
        const prev = this.durableVotes.get(k);
        if (prev !== undefined && prev !== hs.votedFor) throw new InvariantError(`node ${n.id} voted for ${prev} and ${hs.votedFor} in term ${hs.term}`);
        this.durableVotes.set(k, hs.votedFor);
      }
      n.durableHard = { ...hs };
    }
    this.log(`n${n.id} durable end=${n.durableEnd} term=${n.durableHard.term} vote=${n.durableHard.votedFor} hw=${n.durableHard.commitOffset}`);
    for (const m of p.ready.sendAfterPersist) this.send(n, m);
    n.core.advance(p.ready);
    this.process(id);
    return true;
  }

  /** Invariant 9: what a message claims is durable at the moment it is sent. */
  private checkSendable(n: SimNode, m: RaftMessage): void {
    if (this.neverVoter(n.id) && (m.type === 'vote' || m.type === 'timeoutNow' || m.type === 'append' || m.type === 'heartbeat' || (m.type === 'voteResponse' && m.granted))) {
      throw new InvariantError(`learner ${n.id} sends ${m.type}${m.type === 'voteResponse' ? ' (granted)' : ''} to ${m.to} at term ${m.term}`);
    }
    if (this.neverVoter(m.to) && (m.type === 'vote' || m.type === 'timeoutNow')) {
      throw new InvariantError(`node ${n.id} sends ${m.type} to learner ${m.to} at term ${m.term}`);
    }
    if (m.term > n.durableHard.term && !(m.type === 'vote' && m.pre) && !(m.type === 'voteResponse' && m.pre)) {
      throw new InvariantError(`node ${n.id} sends ${m.type} at term ${m.term} with durable term ${n.durableHard.term}`);
    }
    if (m.type === 'vote' && !m.pre && n.durableHard.votedFor !== n.id) throw new InvariantError(`node ${n.id} requests votes before its self-vote is durable`);
    if (m.type === 'voteResponse' && !m.pre && m.granted && n.durableHard.votedFor !== m.to) throw new InvariantError(`node ${n.id} grants a vote that is not durable`);
    // (After a restart below the HW, an acknowledgement of the old log start may be sent after the
    // restart: this host applies a Ready's log writes when it takes the Ready, RaftGroup only once
    // the earlier Readies are durable and their messages sent.)
    if (m.type === 'appendResponse' && m.success && m.matchOffset > n.durableEnd && !(n.restartedBelowHw !== undefined && m.matchOffset <= n.restartedBelowHw)) {
      throw new InvariantError(`node ${n.id} acks ${m.matchOffset} with durable log end ${n.durableEnd}`);
    }
  }

  private send(n: SimNode, m: RaftMessage): void {
    this.checkSendable(n, m);
    this.inflight.push({ from: n.id, to: m.to, msg: m, id: this.nextMsgId++ });
  }

  /**
   * Hand over every message in flight to an outer network (the multi-group simulator, which
   * carries them in per-peer envelopes shared by every group) and forget them here.
   */
  takeInflight(): InFlight[] {
    const out = this.inflight;
    this.inflight = [];
    return out;
  }

  /** Deliver a message the outer network carried (it already decided the link was open). */
  deliverMessage(f: InFlight): void {
    const to = this.node(f.to);
    if (!to.up) return;
    this.log(`deliver ${f.msg.type} ${f.from}->${f.to} t${f.msg.term}`);
    to.core.step(f.msg);
    this.process(f.to);
  }

  deliverAt(index: number, duplicate = false): void {
    const f = this.inflight[index]!;
    if (!duplicate) this.inflight.splice(index, 1);
    const to = this.node(f.to);
    if (!to.up || this.blocked.has(`${f.from}>${f.to}`)) return;
    this.log(`deliver ${describe(f.msg)} ${f.from}->${f.to} t${f.msg.term}`);
    to.core.step(f.msg);
    this.process(f.to);
  }

  tick(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    n.core.tick();
    this.process(id);
  }

  crash(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    n.up = false;
    n.pending = [];
    n.log = n.log.filter((e) => e.lastOffset < n.durableEnd);
    // what was stored before a write that never became durable stays stored (RaftGroup writes the
    // union first): recovery keeps only the configurations whose entries the log holds
    this.logVersion++;
    this.log(`crash n${id} durable end ${n.durableEnd}`);
  }

  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.up) return;
    n.up = true;
    n.restarts++;
    this.boot(n);
    this.log(`restart n${id} term ${n.core.term} end ${n.logEnd()} hw ${n.core.highWatermark}`);
  }

  /** When set, proposals hold at most this many records (entries of one offset each with 1). */
  recordCap: number | undefined;

  propose(id: NodeId, recordCount = 1): boolean {
    const n = this.node(id);
    if (!n.up) return false;
    if (this.recordCap !== undefined && recordCount > this.recordCap) recordCount = this.recordCap;
    const data = Buffer.from(`p${this.proposals++}`);
    const r = n.core.propose(data, recordCount);
    if (!r.ok) return false;
    this.awaitingAck.set(`${r.baseOffset}:${r.lastOffset}:${r.epoch}:${data.toString('hex')}`, { leader: id, baseOffset: r.baseOffset, epoch: r.epoch });
    this.process(id);
    return true;
  }

  /** One single-server membership change on `id` (which must lead for it to succeed). */
  change(id: NodeId, change: MembershipChange): MembershipChangeResult {
    const n = this.node(id);
    if (!n.up) return { ok: false, reason: 'not_leader', message: 'down' };
    const r = n.core.changeMembership(change);
    this.process(id);
    return r;
  }

  /** Retention on one node: its log loses every entry wholly below `offset` (committed only). */
  deleteBefore(id: NodeId, offset: bigint): void {
    const n = this.node(id);
    if (!n.up) throw new Error(`node ${id} is down`);
    if (offset > n.core.highWatermark) throw new Error(`retention only deletes committed entries (HW ${n.core.highWatermark})`);
    if (offset > n.durableEnd) throw new Error(`retention only deletes durable entries (durable end ${n.durableEnd})`);
    const before = epochCacheOf(n);
    n.log = n.log.filter((e) => e.lastOffset >= offset);
    const start = n.log.length > 0 ? n.log[0]!.baseOffset : offset;
    n.logStart = start > offset ? offset : start;
    let floor: { epoch: number; startOffset: bigint } | undefined;
    for (const e of before) if (e.startOffset <= n.logStart - 1n) floor = e;
    n.startEpoch = floor === undefined ? undefined : { epoch: floor.epoch, startOffset: n.logStart - 1n };
    this.logVersion++;
    n.core.advanceLogStart(n.logStart);
    this.process(id);
  }

  /** Isolate a node both ways (or one way with `oneWay`). */
  isolate(id: NodeId, oneWay: 'in' | 'out' | 'both' = 'both'): void {
    for (const o of this.ids) {
      if (o === id) continue;
      if (oneWay !== 'in') this.blocked.add(`${id}>${o}`);
      if (oneWay !== 'out') this.blocked.add(`${o}>${id}`);
    }
  }

  heal(): void { this.blocked.clear(); }

  // ------------------------------------------------------------ whole-cluster helpers (unit tests)

  /** Deliver everything and complete every write until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.ids) { this.process(id); while (this.completeDisk(id)) moved = true; }
      while (this.inflight.length > 0) { this.deliverAt(0); moved = true; }
      if (!moved) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tickAll(times = 1): void { for (let i = 0; i < times; i++) for (const id of this.ids) this.tick(id); }

  leaderIds(): NodeId[] { return this.ids.filter((id) => this.node(id).up && this.core(id).role === 'leader'); }

  // ------------------------------------------------------------ invariants

  checkNode(n: SimNode): void {
    const c = n.core;
    for (const v of c.voters) this.everVoter.add(v);
    if (!c.voters.includes(n.id) && c.role !== 'follower') throw new InvariantError(`node ${n.id}, not a voter of its configuration (${c.voters.join(',')}), is ${c.role} in term ${c.term}`);
    if (this.neverVoter(n.id) && c.votedForId !== NO_NODE) throw new InvariantError(`learner ${n.id} voted for ${c.votedForId} in term ${c.term}`);
    if (c.term < n.lifeTerm) throw new InvariantError(`node ${n.id} term went back ${n.lifeTerm} -> ${c.term}`);
    n.lifeTerm = c.term;
    if (c.term < n.durableHard.term) throw new InvariantError(`node ${n.id} term ${c.term} below durable ${n.durableHard.term}`);
    if (c.highWatermark < n.lifeHw) throw new InvariantError(`node ${n.id} HW went back ${n.lifeHw} -> ${c.highWatermark}`);
    if (c.role === 'leader') {
      const prev = this.leaders.get(c.term);
      if (prev !== undefined && prev !== n.id) throw new InvariantError(`two leaders in term ${c.term}: ${prev} and ${n.id}`);
      if (prev === undefined) {
        this.leaders.set(c.term, n.id);
        this.checkElectionQuorum(n);
        // leader completeness: every committed entry is in the new leader's log
        for (const [off, key] of this.committed) {
          if (off < n.logStart) continue;
          const e = n.entryAt(off);
          if (e === undefined || entryKey(e) !== key) throw new InvariantError(`leader ${n.id} of term ${c.term} lacks committed entry at ${off}`);
        }
      }
    }
    if (c.role === 'leader' && c.highWatermark > n.lifeHw) this.checkCommitQuorum(n);
    if (c.highWatermark > n.lifeHw) {
      // newly committed on this node: record it, or check it against what was committed before
      for (const e of n.log) {
        if (e.lastOffset < n.lifeHw) continue;
        if (e.baseOffset >= c.highWatermark) break;
        if (e.lastOffset >= c.highWatermark) throw new InvariantError(`node ${n.id} HW ${c.highWatermark} splits entry ${e.baseOffset}..${e.lastOffset}`);
        const key = entryKey(e);
        const prev = this.committed.get(e.baseOffset);
        if (prev === undefined) {
          if (e.baseOffset !== this.committedEnd && e.baseOffset > this.committedEnd) throw new InvariantError(`gap in committed entries at ${e.baseOffset}`);
          this.committed.set(e.baseOffset, key);
          if (e.lastOffset + 1n > this.committedEnd) this.committedEnd = e.lastOffset + 1n;
        } else if (prev !== key) {
          throw new InvariantError(`node ${n.id} commits ${key} where ${prev} was committed`);
        }
        const ack = this.awaitingAck.get(key);
        if (ack !== undefined) { this.awaitingAck.delete(key); this.acked.push({ key, baseOffset: ack.baseOffset }); }
      }
      if (n.logEnd() < c.highWatermark && c.highWatermark > n.lifeHw) {
        // the HW may run ahead of the page cache only by what the Ready being written holds
        if (c.logEndOffset < c.highWatermark) throw new InvariantError(`node ${n.id} HW ${c.highWatermark} beyond its log ${c.logEndOffset}`);
      }
      n.lifeHw = c.highWatermark;
    }
  }

  /**
   * A new leader won with the votes of a quorum of the voters of its own configuration: itself
   * and voters whose durable vote in its term is for it. A learner's vote never counts.
   */
  private checkElectionQuorum(n: SimNode): void {
    const c = n.core;
    const voters = c.voters;
    let votes = voters.includes(n.id) ? 1 : 0;
    for (const v of voters) if (v !== n.id && this.durableVotes.get(`${v}@${c.term}`) === n.id) votes++;
    if (votes < Math.floor(voters.length / 2) + 1) {
      throw new InvariantError(`node ${n.id} leads term ${c.term} with ${votes} durable votes of voters ${voters.join(',')}`);
    }
  }

  /**
   * The leader's new high watermark is held, durably and identical, by a quorum of the voters of
   * its configuration (the entry just below it; a log that starts past it holds it too). What a
   * learner holds never counts.
   */
  private checkCommitQuorum(n: SimNode): void {
    const c = n.core;
    const last = c.highWatermark - 1n;
    const mine = n.entryAt(last);
    if (mine === undefined) {
      if (last < n.logStart) return;
      throw new InvariantError(`leader ${n.id} commits ${c.highWatermark} without the entry at ${last}`);
    }
    const key = entryKey(mine);
    let holders = 0;
    for (const v of c.voters) {
      const o = this.nodes.get(v);
      if (o === undefined || o.durableEnd < c.highWatermark) continue;
      if (last < o.logStart) { holders++; continue; }
      const e = o.entryAt(last);
      if (e !== undefined && entryKey(e) === key) holders++;
    }
    if (holders < Math.floor(c.voters.length / 2) + 1) {
      throw new InvariantError(`leader ${n.id} (term ${c.term}) moves its HW to ${c.highWatermark} held durably by ${holders} of voters ${c.voters.join(',')}`);
    }
  }

  /** Log matching over all pairs of nodes' page-cache logs (equal offsets+epoch => equal prefixes). */
  checkLogs(): void {
    if (this.checkedVersion === this.logVersion) return;
    this.checkedVersion = this.logVersion;
    const all = this.ids.map((id) => this.node(id));
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const a = all[i]!.log;
        const b = new Map<bigint, Entry>();
        for (const e of all[j]!.log) b.set(e.baseOffset, e);
        let k = -1;
        for (let x = a.length - 1; x >= 0; x--) {
          const other = b.get(a[x]!.baseOffset);
          if (other !== undefined && other.epoch === a[x]!.epoch && other.lastOffset === a[x]!.lastOffset) { k = x; break; }
        }
        const bStart = all[j]!.logStart;
        for (let x = 0; x <= k; x++) {
          const other = b.get(a[x]!.baseOffset);
          if (other === undefined && a[x]!.lastOffset < bStart) continue; // deleted there by retention
          if (other === undefined || entryKey(other) !== entryKey(a[x]!)) {
            throw new InvariantError(`log matching: nodes ${all[i]!.id} and ${all[j]!.id} agree at ${a[k]!.baseOffset} but differ at ${a[x]!.baseOffset}`);
          }
        }
      }
    }
  }

  /** Every acknowledged (committed on its leader) proposal is in this node's log. */
  checkAckedIn(id: NodeId): void {
    const n = this.node(id);
    for (const a of this.acked) {
      if (a.baseOffset < n.logStart) continue;
      const e = n.entryAt(a.baseOffset);
      if (e === undefined || entryKey(e) !== a.key) throw new InvariantError(`acknowledged write ${a.key} missing on node ${id}`);
    }
  }
}
