/**
 * The seeded Raft simulation: one seed decides every fault, delivery order and timing.
 *
 * Phase 1 (chaos): a random scheduler delivers messages in random order (reorder and delay),
 * drops and duplicates some, completes disk writes late, ticks nodes unevenly, proposes on
 * leaders, crashes nodes (unsynced writes are lost), restarts them, and partitions the network
 * (also one way). Safety invariants are checked after every event (see cluster.ts).
 * In about half of the seeds a "leader churn" schedule runs on top: every new leader proposes at
 * once and is crashed or cut off a few steps later (often right after its entries reached only a
 * minority, or an old-epoch tail reached a majority before its LeaderChange entry did), and when no
 * leader exists a random node is forced to campaign (as on TimeoutNow). This is the Figure 8 shape
 * of the Raft paper, which the previous-term rule (commit only past the leader's own first entry)
 * is there for.
 * Phase 2 (liveness): heal everything, restart everyone, then within a bounded number of rounds
 * a single leader must be known by all, a new proposal must commit everywhere, and every
 * acknowledged write must be on every node.
 * With `learners` > 0 the group also has non-voting members: they take every fault a voter does
 * (crash, partition, forced campaign, which a learner must ignore), must never lead, campaign or
 * vote, and must converge in phase 2 like everyone else; quorums count voters only.
 * With `membership` the group also has two spare nodes and a reassignment driver (what the
 * partition layer does on the leader): the voter set moves around a ring of target sets by
 * single-server changes (add a learner, promote it once caught up, remove an old voter; a leader
 * that must go hands leadership over first), retention deletes committed prefixes (followers that
 * fall behind the log start are caught up by a LogStartRequest), all under the same faults.
 * Every node keeps its configurations with its hard state and recovers them at a restart;
 * learners never vote and never count towards an election or a commit (cluster.ts). Phase 2
 * checks the members of the final configuration.
 */
import { Random } from '../../src/util/random.js';
import { InvariantError, SimCluster } from './cluster.js';
import type { NodeId } from '../../src/raft/types.js';

export interface SimOptions {
  /** Voters. */
  nodes: number;
  /** Non-voting members (Raft learners) on top of the voters. */
  learners: number;
  steps: number;
  /** Rounds allowed for phase 2 (each round: every node ticks once, everything is delivered). */
  livenessRounds: number;
  /** Probability that a seed runs the leader-churn schedule on top of the random faults. */
  churn: number;
  /** Membership changes and retention on top (two spare nodes join and leave the group). */
  membership?: boolean;
  /**
   * With `membership`: proposals of several records (entries spanning several offsets). On by
   * default; false caps every proposal at one record (the mode that ran while acknowledgements
   * could fall inside a multi-record entry, e.g. --seed 25 --nodes 3 --membership --membership-batches).
   */
  membershipBatches?: boolean;
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  nodes: number;
  learners: number;
  ok: boolean;
  error?: string;
  trace?: string[];
  stats: {
    committedOffsets: bigint; acked: number; leadersElected: number; crashes: number; livenessRounds: number; churnKills: number;
    /** Membership changes appended (with `membership`), and target voter sets reached. */
    changes: number; moves: number;
  };
}

export const defaultSimOptions: SimOptions = { nodes: 3, learners: 0, steps: 1500, livenessRounds: 300, churn: 0.5 };

export function runSeed(seed: number, options: Partial<SimOptions> = {}): SimResult {
  const opts = { ...defaultSimOptions, ...options };
  const rng = new Random(seed);
  const membership = opts.membership === true;
  const cluster = new SimCluster({
    size: opts.nodes,
    learners: opts.learners,
    spares: membership ? 2 : 0,
    seed,
    config: {
      electionTimeoutTicks: 10,
      // both ways of telling followers about commits (the metadata log's and a data partition's);
      // from the seed's parity, so that no seed's random stream shifts
      commitNotify: seed % 2 === 0 ? 'eager' : 'lazy',
      maxInflight: rng.int(1, 8),
      maxAppendBytes: rng.pick([1, 8, 64, 1 << 20]),
      maxWindowBytes: rng.pick([1, 64, 1 << 20]),
      // a non-empty LeaderChange entry (as the real control batch) so small maxAppendBytes values
      // send it apart from the old-epoch entries before it
      leaderChangeEntry: (_base, epoch, leader) => ({ data: Buffer.from(`lc${epoch}:${leader}`), recordCount: 1 }),
    },
  });
  cluster.traceEnabled = opts.trace ?? false;
  if (membership && opts.membershipBatches === false) cluster.recordCap = 1;
  const dropP = rng.pick([0, 0.02, 0.1, 0.3]);
  const dupP = rng.pick([0, 0.02, 0.1]);
  const faultP = rng.pick([0.002, 0.01, 0.03]);
  const churn: ChurnState | undefined = rng.bool(opts.churn) ? { term: 0, leader: -1, left: 0, hwAtElection: 0n, tailKillTried: false } : undefined;
  const stats = { committedOffsets: 0n, acked: 0, leadersElected: 0, crashes: 0, livenessRounds: 0, churnKills: 0, changes: 0, moves: 0 };
  const mover: Mover | undefined = membership ? { targets: targetRing(cluster.voterIds, cluster.spareIds), target: 0 } : undefined;
  try {
    for (let step = 0; step < opts.steps; step++) {
      if (mover !== undefined && rng.bool(0.1)) { membershipStep(cluster, rng, mover, stats); cluster.checkLogs(); continue; }
      if (churn === undefined || !churnStep(cluster, rng, churn, stats)) chaosStep(cluster, rng, dropP, dupP, faultP, stats);
      cluster.checkLogs();
    }
    stats.livenessRounds = liveness(cluster, opts.livenessRounds);
    stats.committedOffsets = cluster.committedEnd;
    stats.acked = cluster.acked.length;
    stats.leadersElected = cluster.leaders.size;
    return { seed, nodes: opts.nodes, learners: opts.learners, ok: true, stats };
  } catch (err) {
    const message = err instanceof InvariantError ? `invariant: ${err.message}` : err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    const result: SimResult = { seed, nodes: opts.nodes, learners: opts.learners, ok: false, error: message, stats };
    if (opts.trace === true) result.trace = cluster.trace;
    return result;
  }
}

function chaosStep(c: SimCluster, rng: Random, dropP: number, dupP: number, faultP: number, stats: SimResult['stats']): void {
  const r = rng.next();
  const up = c.ids.filter((id) => c.node(id).up);
  if (r < faultP) { fault(c, rng, stats); return; }
  if (r < 0.55 && c.inflight.length > 0) {
    // pick any in-flight message: reordering and arbitrary delay for free
    const i = rng.int(0, c.inflight.length - 1);
    if (rng.bool(dropP)) { c.inflight.splice(i, 1); return; }
    c.deliverAt(i, rng.bool(dupP));
    return;
  }
  if (r < 0.75) {
    const withWrites = up.filter((id) => c.node(id).pending.length > 0);
    if (withWrites.length > 0) { c.completeDisk(rng.pick(withWrites)); return; }
  }
  if (r < 0.92) { if (up.length > 0) c.tick(rng.pick(up)); return; }
  const leaders = c.leaderIds();
  if (leaders.length > 0) c.propose(rng.pick(leaders), rng.int(1, 3));
}

/** The newest leader seen, and how many more chaos steps it may live. */
interface ChurnState { term: number; leader: NodeId; left: number; hwAtElection: bigint; tailKillTried: boolean }

/**
 * Leader churn: make each new leader write at once and die young; force elections when leaderless.
 * Returns true when it took this step's action (else the ordinary chaos step runs).
 */
function churnStep(c: SimCluster, rng: Random, st: ChurnState, stats: SimResult['stats']): boolean {
  const leaders = c.leaderIds();
  for (const l of leaders) {
    const t = c.core(l).term;
    if (t > st.term) {
      st.term = t; st.leader = l; st.left = rng.int(0, 15);
      st.hwAtElection = c.core(l).highWatermark; st.tailKillTried = false;
      const n = rng.int(0, 2);
      for (let i = 0; i < n; i++) c.propose(l, rng.int(1, 2));
      return true;
    }
  }
  const cur = c.node(st.leader);
  if (st.leader >= 0 && cur.up && cur.core.role === 'leader' && cur.core.term === st.term) {
    // the Figure 8 moment: entries of earlier epochs (beyond the HW this leader was elected with)
    // are on a majority, but no entry of its own epoch is. Decided from replica positions only,
    // never from the HW, so a core that wrongly commits here meets the same schedule.
    let tailMoment = false;
    if (!st.tailKillTried) {
      const k = cur.core;
      const own = k.epochStarts().find((e) => e.epoch === k.term);
      const epochStart = own?.startOffset ?? k.logEndOffset;
      // voters only: a learner's copy does not count towards the quorum
      const voterMatches = [...k.followerProgress()].filter(([id]) => k.voters.includes(id)).map(([, p]) => p.match);
      const matches = [k.durableEndOffset, ...voterMatches].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
      const q = matches[Math.floor(k.voters.length / 2)]!;
      if (q > st.hwAtElection && q <= epochStart) { st.tailKillTried = true; tailMoment = rng.bool(0.7); }
    }
    if (!tailMoment && st.left-- > 0) return false;
    if (rng.bool(0.7)) { c.crash(st.leader); stats.crashes++; } else c.isolate(st.leader, 'both');
    stats.churnKills++;
    st.leader = -1;
    return true;
  }
  const electing = c.ids.some((x) => c.node(x).up && (c.core(x).role === 'leader' || c.core(x).role === 'candidate'));
  if (!electing && rng.bool(0.15)) {
    const down = c.ids.filter((x) => !c.node(x).up);
    if (down.length > 0 && rng.bool(0.6)) c.restart(rng.pick(down));
    if (rng.bool(0.3)) c.heal();
    const up = c.ids.filter((x) => c.node(x).up);
    if (up.length > 0) {
      const cand = rng.pick(up);
      c.core(cand).campaign(true);
      c.process(cand);
    }
    return true;
  }
  return false;
}

function fault(c: SimCluster, rng: Random, stats: SimResult['stats']): void {
  const id = rng.pick(c.ids);
  switch (rng.int(0, 4)) {
    case 0: if (c.node(id).up) { c.crash(id); stats.crashes++; } return;
    case 1: c.restart(rng.pick(c.ids.filter((x) => !c.node(x).up).concat([id]))); return;
    case 2: c.isolate(id, rng.pick(['in', 'out', 'both'] as const)); return;
    case 3: {
      // a random split of the nodes into two sides
      const side = new Set(c.ids.filter(() => rng.bool()));
      for (const a of c.ids) for (const b of c.ids) if (a !== b && side.has(a) !== side.has(b)) c.blocked.add(`${a}>${b}`);
      return;
    }
    default: c.heal(); return;
  }
}

/** The reassignment driver's ring of target voter sets, and where it is. */
interface Mover { targets: NodeId[][]; target: number }

/** Voter sets of the group's size sliding over voters and spares: [1,2,3] -> [2,3,4] -> [3,4,5] -> ... -> back. */
function targetRing(voters: readonly NodeId[], spares: readonly NodeId[]): NodeId[][] {
  const all = [...voters, ...spares];
  const out: NodeId[][] = [];
  for (let i = 0; i < all.length; i++) out.push(Array.from({ length: voters.length }, (_, k) => all[(i + k) % all.length]!));
  return out;
}

/** One step of the reassignment driver on the leader, or retention on a node. */
function membershipStep(c: SimCluster, rng: Random, mv: Mover, stats: SimResult['stats']): void {
  if (rng.bool(0.15)) {
    // retention: a node's log loses a committed, durable prefix (sometimes inside a batch)
    const up = c.ids.filter((id) => c.node(id).up);
    if (up.length === 0) return;
    const n = c.node(rng.pick(up));
    const hw = n.core.highWatermark < n.durableEnd ? n.core.highWatermark : n.durableEnd;
    if (hw > n.logStart + 3n) c.deleteBefore(n.id, hw - BigInt(rng.int(0, 2)));
    return;
  }
  const l = c.leaderIds()[0];
  if (l === undefined) return;
  const k = c.core(l);
  const desired = mv.targets[mv.target]!;
  const { voters, learners } = k.membership;
  if (voters.length === desired.length && voters.every((v) => desired.includes(v)) && learners.length === 0 && !k.membershipChangePending) {
    mv.target = (mv.target + 1) % mv.targets.length;
    stats.moves++;
    return;
  }
  const change = ((): Parameters<SimCluster['change']>[1] | undefined => {
    if (learners.length > 0) return desired.includes(learners[0]!) ? { type: 'promote', node: learners[0]! } : { type: 'remove', node: learners[0]! };
    const add = desired.find((d) => !voters.includes(d));
    if (add !== undefined) return { type: 'addLearner', node: add };
    const extra = voters.find((v) => !desired.includes(v));
    if (extra === undefined) return undefined;
    if (extra === l) {
      // the leader must go: it hands leadership over first
      const to = voters.find((v) => v !== l && desired.includes(v));
      if (to !== undefined) { k.transferLeadership(to); c.process(l); }
      return undefined;
    }
    return { type: 'remove', node: extra };
  })();
  if (change !== undefined && c.change(l, change).ok) stats.changes++;
}

/** Heal and restart everything; return the rounds it took to elect, commit and converge. */
function liveness(c: SimCluster, maxRounds: number): number {
  c.heal();
  for (const id of c.ids) c.restart(id);
  let proposedAt = -1;
  let target = -1n;
  for (let round = 1; round <= maxRounds; round++) {
    for (const id of c.ids) c.tick(id);
    c.stabilize();
    c.checkLogs();
    const leaders = c.leaderIds();
    if (leaders.length !== 1) continue;
    const l = leaders[0]!;
    const lc = c.core(l);
    // the members of the leader's configuration (every node, without membership changes)
    const members = [...lc.voters, ...lc.learners];
    if (!members.every((id) => c.core(id).leaderId === l && c.core(id).term === lc.term)) continue;
    if (proposedAt < 0) {
      if (c.propose(l, 1)) { proposedAt = round; target = lc.logEndOffset; }
      continue;
    }
    if (members.every((id) => c.core(id).highWatermark >= target && c.core(id).logEndOffset === lc.logEndOffset)) {
      for (const id of members) c.checkAckedIn(id);
      return round;
    }
  }
  const state = c.ids.map((id) => {
    const k = c.core(id);
    return `n${id}:${k.role} t${k.term} leader=${k.leaderId} end=${k.logEndOffset} hw=${k.highWatermark}`;
  }).join(', ');
  throw new InvariantError(`liveness: no converged leader within ${maxRounds} rounds after heal (${state})`);
}
