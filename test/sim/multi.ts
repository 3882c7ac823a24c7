/**
 * The multi-group simulation: many Raft groups on the same simulated nodes, as on real brokers.
 *
 * Every group is a SimCluster (real RaftCore per node, a page cache and a disk per node, every
 * per-group invariant of cluster.ts checked as events happen), but the groups share:
 *  - the nodes: a crash takes down every group of that node at once (each loses its unsynced
 *    writes) and a restart boots them all from their disks;
 *  - one clock per node: a node tick ticks every group it hosts;
 *  - one network: whatever the groups of a node send to a peer during one action travels in ONE
 *    envelope (the RaftHost's coalescing), and the network loses, duplicates, delays and reorders
 *    whole envelopes; partitions (also one way) cut every group's traffic on a link;
 *  - disks: a disk step completes the oldest pending write of one group, or of every group of the
 *    node (a batched fsync).
 * On top, the fast failover path of the host: when a node crashes, each survivor may learn it at
 * once (a reset connection) and start a pre-vote in every group whose leader was that node, and
 * now and then a node gets such a notice for a peer that is in fact alive (a connection reset by
 * something else); PreVote and CheckQuorum must keep both safe and non-disruptive.
 * Checked: every group's invariants after every step; envelopes only carry messages of their own
 * link, and each message reaches only its own group (group isolation); after the network heals and
 * every node is up, every group elects a leader known to all its members and commits a new write
 * everywhere within a bounded number of rounds.
 */
import { Random } from '../../src/util/random.js';
import { InvariantError, SimCluster, type InFlight } from './cluster.js';
import type { NodeId } from '../../src/raft/types.js';

export interface MultiSimOptions {
  nodes: number;
  groups: number;
  steps: number;
  livenessRounds: number;
  trace?: boolean;
}

export interface MultiSimResult {
  seed: number;
  nodes: number;
  groups: number;
  ok: boolean;
  error?: string;
  trace?: string[];
  stats: { committedOffsets: bigint; envelopes: number; messages: number; crashes: number; fastCampaigns: number; spuriousNotices: number; livenessRounds: number; leadersElected: number };
}

export const defaultMultiSimOptions: MultiSimOptions = { nodes: 3, groups: 8, steps: 3000, livenessRounds: 300 };

interface Envelope { from: NodeId; to: NodeId; items: { group: number; f: InFlight }[] }

class MultiSim {
  readonly groups: SimCluster[] = [];
  readonly ids: NodeId[];
  readonly up = new Set<NodeId>();
  readonly blocked = new Set<string>();
  network: Envelope[] = [];
  readonly trace: string[] = [];
  /** Ticks per node (its own clock), and the host's delayed fast-failover campaigns. */
  readonly nodeTicks = new Map<NodeId, number>();
  scheduled: { node: NodeId; group: number; at: number }[] = [];

  constructor(seed: number, readonly opts: MultiSimOptions, rng: Random, readonly stats: MultiSimResult['stats']) {
    this.ids = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    for (const id of this.ids) this.up.add(id);
    for (let g = 0; g < opts.groups; g++) {
      // preferred replicas rotate over the nodes, as the partition assigner spreads them; as the
      // broker does for a brand-new group, the preferred replica campaigns on its first tick
      const preferred = this.ids[g % this.ids.length]!;
      this.groups.push(new SimCluster({
        size: opts.nodes,
        seed: seed * 1009 + g,
        config: {
          electionTimeoutTicks: 10,
          // the data partitions' way (lazy) beside the metadata log's (eager), as on a broker
          commitNotify: g === 0 ? 'eager' : 'lazy',
          maxInflight: rng.int(1, 8),
          maxAppendBytes: rng.pick([8, 64, 1 << 20]),
          leaderChangeEntry: (_b, epoch, leader) => ({ data: Buffer.from(`g${g}lc${epoch}:${leader}`), recordCount: 1 }),
        },
        configFor: (id) => ({ campaignOnFirstTick: id === preferred }),
      }));
    }
    this.collect();
  }

  private note(line: string): void { if (this.opts.trace === true) this.trace.push(line); }

  /** Move what every group sent into one envelope per (from, to) link. */
  collect(): void {
    const byLink = new Map<string, Envelope>();
    this.groups.forEach((c, g) => {
      for (const f of c.takeInflight()) {
        const k = `${f.from}>${f.to}`;
        let e = byLink.get(k);
        if (e === undefined) { e = { from: f.from, to: f.to, items: [] }; byLink.set(k, e); }
        e.items.push({ group: g, f });
      }
    });
    for (const e of byLink.values()) {
      this.network.push(e);
      this.stats.envelopes++;
      this.stats.messages += e.items.length;
    }
  }

  deliver(index: number, duplicate: boolean): void {
    const e = this.network[index]!;
    if (!duplicate) this.network.splice(index, 1);
    if (!this.up.has(e.to) || this.blocked.has(`${e.from}>${e.to}`)) return;
    this.note(`envelope ${e.from}->${e.to} with ${e.items.length} messages`);
    for (const { group, f } of e.items) {
      // isolation: an envelope carries only its link's messages, each to its own group
      if (f.from !== e.from || f.to !== e.to || f.msg.from !== e.from || f.msg.to !== e.to) {
        throw new InvariantError(`envelope ${e.from}->${e.to} carries a message ${f.msg.from}->${f.msg.to} of group ${group}`);
      }
      this.groups[group]!.deliverMessage(f);
    }
    this.collect();
  }

  tick(id: NodeId): void {
    if (!this.up.has(id)) return;
    const now = (this.nodeTicks.get(id) ?? 0) + 1;
    this.nodeTicks.set(id, now);
    const due = this.scheduled.filter((x) => x.node === id && x.at <= now);
    this.scheduled = this.scheduled.filter((x) => !(x.node === id && x.at <= now));
    for (const x of due) {
      const c = this.groups[x.group]!;
      const k = c.core(id);
      if (k.role === 'follower' && k.leaderId < 0) { k.campaign(false); c.process(id); this.stats.fastCampaigns++; }
    }
    for (const c of this.groups) c.tick(id);
    this.collect();
  }

  /** One group's oldest write on this node, or every group's (a batched fsync). */
  disk(id: NodeId, rng: Random): void {
    if (!this.up.has(id)) return;
    if (rng.bool(0.5)) {
      const withWrites = this.groups.filter((c) => c.node(id).pending.length > 0);
      if (withWrites.length > 0) rng.pick(withWrites).completeDisk(id);
    } else {
      for (const c of this.groups) c.completeDisk(id);
    }
    this.collect();
  }

  crash(id: NodeId): void {
    if (!this.up.has(id)) return;
    this.up.delete(id);
    this.scheduled = this.scheduled.filter((x) => x.node !== id);
    for (const c of this.groups) c.crash(id);
    this.stats.crashes++;
    this.note(`crash n${id}`);
  }

  restart(id: NodeId): void {
    if (this.up.has(id)) return;
    this.up.add(id);
    for (const c of this.groups) c.restart(id);
    this.note(`restart n${id}`);
    this.collect();
  }

  /**
   * Node `at` learns that `peer` is unreachable (a reset or refused connection). As
   * RaftHost.peerUnreachable does: every group it follows there forgets its leader; the first
   * surviving voter starts a pre-vote at once, the next ones 2 of their ticks apart each.
   */
  peerUnreachable(at: NodeId, peer: NodeId): void {
    if (!this.up.has(at)) return;
    this.groups.forEach((c, g) => {
      const k = c.core(at);
      if (k.role !== 'follower' || k.leaderId !== peer) return;
      k.forgetLeader();
      const rank = c.voterIds.filter((v) => v !== peer).indexOf(at);
      if (rank === 0) { k.campaign(false); this.stats.fastCampaigns++; } else this.scheduled.push({ node: at, group: g, at: (this.nodeTicks.get(at) ?? 0) + 2 * rank });
      c.process(at);
    });
    this.collect();
  }

  propose(rng: Random): void {
    const g = rng.int(0, this.groups.length - 1);
    const c = this.groups[g]!;
    const leaders = c.leaderIds();
    if (leaders.length > 0) c.propose(rng.pick(leaders), rng.int(1, 3));
    this.collect();
  }

  checkAll(): void { for (const c of this.groups) c.checkLogs(); }
}

export function runMultiSeed(seed: number, options: Partial<MultiSimOptions> = {}): MultiSimResult {
  const opts = { ...defaultMultiSimOptions, ...options };
  const stats: MultiSimResult['stats'] = { committedOffsets: 0n, envelopes: 0, messages: 0, crashes: 0, fastCampaigns: 0, spuriousNotices: 0, livenessRounds: 0, leadersElected: 0 };
  const rng = new Random(seed);
  let sim: MultiSim | undefined;
  try {
    sim = new MultiSim(seed, opts, rng, stats);
    const s = sim;
    const dropP = rng.pick([0, 0.02, 0.1]);
    const dupP = rng.pick([0, 0.02]);
    const faultP = rng.pick([0.003, 0.01]);
    const noticeP = rng.pick([0, 0.5, 1]);
    for (let step = 0; step < opts.steps; step++) {
      const r = rng.next();
      if (r < faultP) fault(s, rng, noticeP);
      else if (r < 0.5 && s.network.length > 0) {
        const i = rng.int(0, s.network.length - 1);
        if (rng.bool(dropP)) s.network.splice(i, 1);
        else s.deliver(i, rng.bool(dupP));
      } else if (r < 0.7) s.disk(rng.pick(s.ids), rng);
      else if (r < 0.92) s.tick(rng.pick(s.ids));
      else if (r < 0.925) {
        // a connection reset while the peer is alive: must not disrupt a healthy leader
        const at = rng.pick(s.ids); const peer = rng.pick(s.ids);
        if (at !== peer) { stats.spuriousNotices++; s.peerUnreachable(at, peer); }
      } else s.propose(rng);
      s.checkAll();
    }
    stats.livenessRounds = liveness(s, opts.livenessRounds);
    for (const c of s.groups) { stats.committedOffsets += c.committedEnd; stats.leadersElected += c.leaders.size; }
    return { seed, nodes: opts.nodes, groups: opts.groups, ok: true, stats };
  } catch (err) {
    const message = err instanceof InvariantError ? `invariant: ${err.message}` : err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    const result: MultiSimResult = { seed, nodes: opts.nodes, groups: opts.groups, ok: false, error: message, stats };
    if (opts.trace === true && sim !== undefined) result.trace = sim.trace;
    return result;
  }
}

function fault(s: MultiSim, rng: Random, noticeP: number): void {
  const id = rng.pick(s.ids);
  switch (rng.int(0, 4)) {
    case 0: {
      if (!s.up.has(id)) return;
      s.crash(id);
      // survivors whose connection to it resets learn at once (or not: then only timeouts help)
      for (const other of s.ids) if (other !== id && rng.bool(noticeP)) s.peerUnreachable(other, id);
      return;
    }
    case 1: { const down = s.ids.filter((x) => !s.up.has(x)); if (down.length > 0) s.restart(rng.pick(down)); return; }
    case 2: {
      const mode = rng.pick(['in', 'out', 'both'] as const);
      for (const o of s.ids) {
        if (o === id) continue;
        if (mode !== 'in') s.blocked.add(`${id}>${o}`);
        if (mode !== 'out') s.blocked.add(`${o}>${id}`);
      }
      return;
    }
    case 3: {
      const side = new Set(s.ids.filter(() => rng.bool()));
      for (const a of s.ids) for (const b of s.ids) if (a !== b && side.has(a) !== side.has(b)) s.blocked.add(`${a}>${b}`);
      return;
    }
    default: s.blocked.clear();
  }
}

/** Heal, restart everything; rounds until every group has a known leader and commits a new write everywhere. */
function liveness(s: MultiSim, maxRounds: number): number {
  s.blocked.clear();
  for (const id of s.ids) s.restart(id);
  const target = new Map<number, bigint>();
  for (let round = 1; round <= maxRounds; round++) {
    for (const id of s.ids) s.tick(id);
    // deliver everything and complete every write until nothing moves
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new Error('multi-group simulation did not settle');
      let moved = false;
      for (const id of s.ids) for (const c of s.groups) while (c.completeDisk(id)) moved = true;
      s.collect();
      while (s.network.length > 0) { s.deliver(0, false); moved = true; }
      if (!moved) break;
    }
    s.checkAll();
    let done = 0;
    s.groups.forEach((c, g) => {
      const leaders = c.leaderIds();
      if (leaders.length !== 1) return;
      const l = leaders[0]!;
      const lc = c.core(l);
      if (!c.ids.every((id) => c.core(id).leaderId === l && c.core(id).term === lc.term)) return;
      const t = target.get(g);
      if (t === undefined) { if (c.propose(l, 1)) target.set(g, lc.logEndOffset); return; }
      if (c.ids.every((id) => c.core(id).highWatermark >= t && c.core(id).logEndOffset === lc.logEndOffset)) done++;
    });
    s.collect();
    if (done === s.groups.length) {
      for (const c of s.groups) for (const id of c.ids) c.checkAckedIn(id);
      return round;
    }
  }
  const state = s.groups.map((c, g) => `g${g}[${c.ids.map((id) => { const k = c.core(id); return `n${id}:${k.role[0]}t${k.term}l${k.leaderId}`; }).join(' ')}]`).join(' ');
  throw new InvariantError(`liveness: not every group converged within ${maxRounds} rounds after heal: ${state}`);
}
