/**
 * A small deterministic cluster of Raft cores for membership-change tests: nodes can join later
 * (new replicas), logs can lose their head (retention), disks lose unsynced writes at a crash,
 * and the stored configurations follow RaftGroup's rule (the union written before the log, the
 * exact list after). Invariants are checked as events happen and throw.
 *
 * Learners never vote and never count towards a quorum, with configurations that change: a node
 * that is not a voter of its own configuration is a follower; a new leader holds durable votes of
 * its term from a quorum of its configuration's voters (itself included); whenever a leader's
 * high watermark advances, a quorum of its configuration's voters durably hold the entry below it.
 */
import { RaftCore, type RaftConfig } from '../../src/raft/core.js';
import {
  NO_NODE, type ConfigEntry, type Entry, type HardState, type Membership, type MembershipChange, type MembershipChangeResult,
  type NodeId, type RaftMessage, type Ready,
} from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

export class MembershipInvariantError extends Error {}

export function entryKey(e: Entry): string { return `${e.baseOffset}:${e.lastOffset}:${e.epoch}:${e.data.toString('hex')}`; }

function epochStartsOf(log: readonly Entry[]): { epoch: number; startOffset: bigint }[] {
  const out: { epoch: number; startOffset: bigint }[] = [];
  for (const e of log) if (out.length === 0 || out[out.length - 1]!.epoch !== e.epoch) out.push({ epoch: e.epoch, startOffset: e.baseOffset });
  return out;
}

class Node {
  up = true;
  core!: RaftCore;
  log: Entry[] = [];
  logStart = 0n;
  durableEnd = 0n;
  /** What a crash keeps: the durable prefix of the log at the time. */
  durableLog: Entry[] = [];
  durableStart = 0n;
  hard: HardState = { term: 0, votedFor: NO_NODE, commitOffset: 0n };
  configs: ConfigEntry[] | undefined;
  pending: Ready[] = [];
  lifeHw = 0n;
  restarts = 0;
  constructor(readonly id: NodeId, readonly initial: Membership) {}
  logEnd(): bigint { return this.log.length === 0 ? this.logStart : this.log[this.log.length - 1]!.lastOffset + 1n; }
  entryAt(offset: bigint): Entry | undefined { return this.log.find((e) => e.baseOffset <= offset && offset <= e.lastOffset); }
}

export interface HarnessOptions {
  seed: number;
  config?: Partial<Omit<RaftConfig, 'id' | 'voters' | 'learners' | 'random'>>;
  /** Complete disk writes at once (default) or when completeDisk is called. */
  syncDisk?: boolean;
}

export class MembershipCluster {
  readonly nodes = new Map<NodeId, Node>();
  inflight: { from: NodeId; to: NodeId; msg: RaftMessage }[] = [];
  readonly blocked = new Set<string>();
  private readonly leaders = new Map<number, NodeId>();
  /** Committed entries by base offset (all nodes agree on them forever). */
  readonly committed = new Map<bigint, string>();
  private proposals = 0;
  readonly acked: { key: string; baseOffset: bigint; leader: NodeId }[] = [];
  private readonly awaiting = new Map<string, { baseOffset: bigint; leader: NodeId }>();
  /** `${voter}@${term}` -> the candidate its durable vote went to. */
  private readonly durableVotes = new Map<string, NodeId>();

  constructor(readonly opts: HarnessOptions, voters: readonly NodeId[], learners: readonly NodeId[] = []) {
    for (const id of [...voters, ...learners]) this.addNode(id, { voters, learners });
  }

  /** A new node (a new replica), created with the configuration it is told about. */
  addNode(id: NodeId, initial: Membership): void {
    const n = new Node(id, { voters: [...initial.voters], learners: [...initial.learners] });
    this.nodes.set(id, n);
    this.boot(n);
  }

  node(id: NodeId): Node { return this.nodes.get(id)!; }
  core(id: NodeId): RaftCore { return this.node(id).core; }
  get ids(): NodeId[] { return [...this.nodes.keys()]; }

  private boot(n: Node): void {
    n.core = new RaftCore(
      { id: n.id, voters: n.initial.voters, learners: n.initial.learners, random: new Random(this.opts.seed * 7919 + n.id * 104729 + n.restarts), ...this.opts.config },
      {
        hardState: { ...n.hard }, logStartOffset: n.logStart, logEndOffset: n.logEnd(), epochs: epochStartsOf(n.log),
        ...(n.configs !== undefined ? { configs: n.configs } : {}),
      },
    );
    n.lifeHw = n.core.highWatermark;
  }

  // ------------------------------------------------------------ driving

  process(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    for (let guard = 0; n.core.hasReady(); guard++) {
      if (guard > 1000) throw new Error('ready loop does not settle');
      const r = n.core.ready();
      // configurations first: the union of what is stored and what is new (RaftGroup's rule)
      if (r.configs !== undefined) n.configs = unionConfigs(n.configs ?? [], r.configs);
      if (r.resetTo !== undefined) { n.log = []; n.logStart = r.resetTo; n.durableEnd = r.resetTo; n.durableLog = []; n.durableStart = r.resetTo; }
      if (r.truncateTo !== undefined) {
        const t = r.truncateTo;
        for (const e of n.log) {
          if (e.lastOffset >= t && this.committed.get(e.baseOffset) === entryKey(e)) throw new MembershipInvariantError(`node ${id} truncates committed entry ${e.baseOffset}`);
        }
        n.log = n.log.filter((e) => e.lastOffset < t);
        n.durableLog = n.durableLog.filter((e) => e.lastOffset < t);
        if (n.durableEnd > t) n.durableEnd = t;
      }
      for (const e of r.entries) {
        if (e.baseOffset !== n.logEnd()) throw new MembershipInvariantError(`node ${id} appends ${e.baseOffset} at ${n.logEnd()}`);
        n.log.push(e);
      }
      for (const m of r.sendNow) this.send(n, m);
      for (const req of r.reads) {
        const out: Entry[] = [];
        for (const e of n.log) {
          if (e.lastOffset < req.fromOffset) continue;
          if (out.length === 0 && e.baseOffset > req.fromOffset) break;
          out.push(e);
          if (out.length >= 8) break;
        }
        n.core.entriesRead(req.fromOffset, out);
      }
      n.pending.push(r);
      this.check(n);
      if (this.opts.syncDisk !== false) this.completeDisk(id);
    }
  }

  completeDisk(id: NodeId): boolean {
    const n = this.node(id);
    const r = n.pending.shift();
    if (!n.up || r === undefined) return false;
    n.durableEnd = r.logEndOffset < n.logEnd() ? r.logEndOffset : n.logEnd();
    n.durableLog = n.log.filter((e) => e.lastOffset < n.durableEnd);
    n.durableStart = n.logStart;
    if (r.configs !== undefined) n.configs = r.configs.map((c) => ({ ...c }));
    if (r.hardState !== undefined) {
      if (r.hardState.commitOffset > n.durableEnd) throw new MembershipInvariantError(`node ${id} persists HW ${r.hardState.commitOffset} beyond its durable log ${n.durableEnd}`);
      if (r.hardState.term < n.hard.term) throw new MembershipInvariantError(`node ${id} durable term goes back`);
      n.hard = { ...r.hardState };
      if (n.hard.votedFor !== NO_NODE) {
        const k = `${id}@${n.hard.term}`;
        const prev = this.durableVotes.get(k);
        if (prev !== undefined && prev !== n.hard.votedFor) throw new MembershipInvariantError(`node ${id} voted for ${prev} and ${n.hard.votedFor} in term ${n.hard.term}`);
        this.durableVotes.set(k, n.hard.votedFor);
      }
    }
    for (const m of r.sendAfterPersist) this.send(n, m);
    n.core.advance(r);
    this.process(id);
    return true;
  }

  private send(n: Node, m: RaftMessage): void {
    if (m.type === 'appendResponse' && m.success && m.matchOffset > n.durableEnd && m.matchOffset > n.logStart) {
      throw new MembershipInvariantError(`node ${n.id} acks ${m.matchOffset} (prev ${m.prevOffset}) beyond its durable log ${n.durableEnd} (log start ${n.logStart}, end ${n.logEnd()}, hw ${n.core.highWatermark})`);
    }
    this.inflight.push({ from: n.id, to: m.to, msg: m });
  }

  deliver(index: number): void {
    const f = this.inflight.splice(index, 1)[0]!;
    const to = this.nodes.get(f.to);
    if (to === undefined || !to.up || this.blocked.has(`${f.from}>${f.to}`)) return;
    to.core.step(f.msg);
    this.process(f.to);
  }

  tick(id: NodeId): void { const n = this.node(id); if (!n.up) return; n.core.tick(); this.process(id); }
  tickAll(times = 1): void { for (let i = 0; i < times; i++) for (const id of this.ids) this.tick(id); }

  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.ids) { this.process(id); while (this.completeDisk(id)) moved = true; }
      while (this.inflight.length > 0) { this.deliver(0); moved = true; }
      if (!moved) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** Tick and stabilize until `cond` holds (at most `rounds` ticks). */
  until(cond: () => boolean, rounds = 200): void {
    for (let i = 0; i < rounds; i++) {
      this.stabilize();
      if (cond()) return;
      this.tickAll();
    }
    this.stabilize();
    if (!cond()) throw new Error('condition not reached');
  }

  crash(id: NodeId): void {
    const n = this.node(id);
    n.up = false;
    n.pending = [];
    n.log = n.durableLog.map((e) => e);
    n.logStart = n.durableStart;
    this.inflight = this.inflight.filter((f) => f.to !== id);
  }

  restart(id: NodeId): void {
    const n = this.node(id);
    n.up = true;
    n.restarts++;
    this.boot(n);
  }

  isolate(id: NodeId): void { for (const o of this.ids) if (o !== id) { this.blocked.add(`${id}>${o}`); this.blocked.add(`${o}>${id}`); } }
  heal(): void { this.blocked.clear(); }

  propose(id: NodeId, recordCount = 1): boolean {
    const data = Buffer.from(`p${this.proposals++}`);
    const r = this.core(id).propose(data, recordCount);
    if (!r.ok) return false;
    this.awaiting.set(`${r.baseOffset}:${r.lastOffset}:${r.epoch}:${data.toString('hex')}`, { baseOffset: r.baseOffset, leader: id });
    this.process(id);
    return true;
  }

  change(id: NodeId, change: MembershipChange): MembershipChangeResult {
    const r = this.core(id).changeMembership(change);
    this.process(id);
    return r;
  }

  /** Retention on one node: the log loses every entry wholly below `offset`. */
  deleteBefore(id: NodeId, offset: bigint): void {
    const n = this.node(id);
    if (offset > n.core.highWatermark) throw new Error('retention only deletes committed entries');
    n.log = n.log.filter((e) => e.lastOffset >= offset);
    n.durableLog = n.durableLog.filter((e) => e.lastOffset >= offset);
    const start = n.log.length > 0 ? n.log[0]!.baseOffset : offset;
    n.logStart = start > offset ? offset : start;
    n.durableStart = n.logStart;
    n.core.advanceLogStart(n.logStart);
    this.process(id);
  }

  leaderIds(): NodeId[] { return this.ids.filter((id) => this.node(id).up && this.core(id).role === 'leader'); }

  // ------------------------------------------------------------ invariants

  private check(n: Node): void {
    const c = n.core;
    const quorum = Math.floor(c.voters.length / 2) + 1;
    if (!c.voters.includes(n.id) && c.role !== 'follower') throw new MembershipInvariantError(`node ${n.id}, not a voter of ${c.voters.join(',')}, is ${c.role} in term ${c.term}`);
    if (c.role === 'leader') {
      const prev = this.leaders.get(c.term);
      if (prev !== undefined && prev !== n.id) throw new MembershipInvariantError(`two leaders in term ${c.term}: ${prev} and ${n.id}`);
      if (prev === undefined) {
        this.leaders.set(c.term, n.id);
        // its votes: itself and voters of its configuration whose durable vote is for it (a learner's never counts)
        let votes = 1;
        for (const v of c.voters) if (v !== n.id && this.durableVotes.get(`${v}@${c.term}`) === n.id) votes++;
        if (votes < quorum) throw new MembershipInvariantError(`node ${n.id} leads term ${c.term} with ${votes} durable votes of voters ${c.voters.join(',')}`);
        for (const [off, key] of this.committed) {
          if (off < n.logStart) continue;
          const e = n.entryAt(off);
          if (e === undefined || entryKey(e) !== key) throw new MembershipInvariantError(`leader ${n.id} of term ${c.term} lacks committed entry ${off}`);
        }
      }
      const configs = c.configEntries();
      const uncommitted = configs.filter((x) => x.offset >= c.highWatermark).length;
      if (uncommitted > 1) throw new MembershipInvariantError(`leader ${n.id} has ${uncommitted} uncommitted configurations`);
    }
    const configs = c.configEntries();
    for (let i = 1; i < configs.length; i++) {
      const a = configs[i - 1]!.voters;
      const b = configs[i]!.voters;
      const diff = a.filter((v) => !b.includes(v)).length + b.filter((v) => !a.includes(v)).length;
      if (diff > 1) throw new MembershipInvariantError(`node ${n.id}: configurations ${a} -> ${b} differ by more than one voter`);
    }
    if (c.highWatermark < n.lifeHw) throw new MembershipInvariantError(`node ${n.id} HW went back ${n.lifeHw} -> ${c.highWatermark}`);
    if (c.role === 'leader' && c.highWatermark > n.lifeHw) {
      // a quorum of the voters durably holds the entry below the new HW (a learner's copy never counts)
      const last = c.highWatermark - 1n;
      const mine = n.entryAt(last);
      if (mine !== undefined) {
        let holders = 0;
        for (const v of c.voters) {
          const o = this.nodes.get(v);
          if (o === undefined || o.durableEnd < c.highWatermark) continue;
          if (last < o.durableStart) { holders++; continue; }
          const e = o.durableLog.find((x) => x.baseOffset <= last && last <= x.lastOffset);
          if (e !== undefined && entryKey(e) === entryKey(mine)) holders++;
        }
        if (holders < quorum) throw new MembershipInvariantError(`leader ${n.id} (term ${c.term}) moves its HW to ${c.highWatermark} held durably by ${holders} of voters ${c.voters.join(',')}`);
      } else if (last >= n.logStart) {
        throw new MembershipInvariantError(`leader ${n.id} commits ${c.highWatermark} without the entry at ${last}`);
      }
    }
    if (c.highWatermark > n.lifeHw) {
      for (const e of n.log) {
        if (e.lastOffset < n.lifeHw || e.lastOffset >= c.highWatermark) continue;
        const key = entryKey(e);
        const prev = this.committed.get(e.baseOffset);
        if (prev === undefined) this.committed.set(e.baseOffset, key);
        else if (prev !== key) throw new MembershipInvariantError(`node ${n.id} commits ${key} where ${prev} was committed`);
        const a = this.awaiting.get(key);
        if (a !== undefined) { this.awaiting.delete(key); this.acked.push({ key, ...a }); }
      }
      n.lifeHw = c.highWatermark;
    }
  }

  /** Every acknowledged write is in this node's log (or below its log start). */
  checkAckedIn(id: NodeId): void {
    const n = this.node(id);
    for (const a of this.acked) {
      if (a.baseOffset < n.logStart) continue;
      const e = n.entryAt(a.baseOffset);
      if (e === undefined || entryKey(e) !== a.key) throw new MembershipInvariantError(`acknowledged ${a.key} missing on node ${id}`);
    }
  }

  /** Log matching between every pair of live nodes. */
  checkLogs(): void {
    const live = this.ids.filter((id) => this.node(id).up).map((id) => this.node(id));
    for (const a of live) for (const b of live) {
      if (a.id >= b.id) continue;
      const bm = new Map(b.log.map((e) => [e.baseOffset, e] as const));
      let agree = -1;
      for (let i = a.log.length - 1; i >= 0; i--) {
        const o = bm.get(a.log[i]!.baseOffset);
        if (o !== undefined && o.epoch === a.log[i]!.epoch) { agree = i; break; }
      }
      for (let i = 0; i <= agree; i++) {
        const o = bm.get(a.log[i]!.baseOffset);
        if (o !== undefined && entryKey(o) !== entryKey(a.log[i]!)) throw new MembershipInvariantError(`log matching: ${a.id} and ${b.id} differ at ${a.log[i]!.baseOffset}`);
      }
    }
  }
}

function unionConfigs(a: readonly ConfigEntry[], b: readonly ConfigEntry[]): ConfigEntry[] {
  const byKey = new Map<string, ConfigEntry>();
  for (const c of [...a, ...b]) byKey.set(`${c.offset}:${c.epoch}`, { ...c });
  return [...byKey.values()].sort((x, y) => (x.offset < y.offset ? -1 : x.offset > y.offset ? 1 : 0));
}
