/**
 * The seeded Raft simulation: one seed decides every fault, delivery order and timing.
 *
 * Phase 1 (chaos): a random scheduler delivers messages in random order (reorder and delay),
 * drops and duplicates some, completes disk writes late, ticks nodes unevenly, proposes on
 * leaders, crashes nodes (unsynced writes are lost), restarts them, and partitions the network
 * (also one way). Safety invariants are checked after every event (see cluster.ts).
 * Phase 2 (liveness): heal everything, restart everyone, then within a bounded number of rounds
 * a single leader must be known by all, a new proposal must commit everywhere, and every
 * acknowledged write must be on every node.
 */
import { Random } from '../../src/util/random.js';
import { InvariantError, SimCluster } from './cluster.js';

export interface SimOptions {
  nodes: number;
  steps: number;
  /** Rounds allowed for phase 2 (each round: every node ticks once, everything is delivered). */
  livenessRounds: number;
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  nodes: number;
  ok: boolean;
  error?: string;
  trace?: string[];
  stats: { committedOffsets: bigint; acked: number; leadersElected: number; crashes: number; livenessRounds: number };
}

export const defaultSimOptions: SimOptions = { nodes: 3, steps: 1500, livenessRounds: 300 };

export function runSeed(seed: number, options: Partial<SimOptions> = {}): SimResult {
  const opts = { ...defaultSimOptions, ...options };
  const rng = new Random(seed);
  const cluster = new SimCluster({
    size: opts.nodes,
    seed,
    config: {
      electionTimeoutTicks: 10,
      maxInflight: rng.int(1, 8),
      maxAppendBytes: rng.pick([1, 8, 64, 1 << 20]),
      maxWindowBytes: rng.pick([1, 64, 1 << 20]),
    },
  });
  cluster.traceEnabled = opts.trace ?? false;
  const dropP = rng.pick([0, 0.02, 0.1, 0.3]);
  const dupP = rng.pick([0, 0.02, 0.1]);
  const faultP = rng.pick([0.002, 0.01, 0.03]);
  const stats = { committedOffsets: 0n, acked: 0, leadersElected: 0, crashes: 0, livenessRounds: 0 };
  try {
    for (let step = 0; step < opts.steps; step++) {
      chaosStep(cluster, rng, dropP, dupP, faultP, stats);
      cluster.checkLogs();
    }
    stats.livenessRounds = liveness(cluster, opts.livenessRounds);
    stats.committedOffsets = cluster.committedEnd;
    stats.acked = cluster.acked.length;
    stats.leadersElected = cluster.leaders.size;
    return { seed, nodes: opts.nodes, ok: true, stats };
  } catch (err) {
    const message = err instanceof InvariantError ? `invariant: ${err.message}` : err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    const result: SimResult = { seed, nodes: opts.nodes, ok: false, error: message, stats };
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
    if (!c.ids.every((id) => c.core(id).leaderId === l && c.core(id).term === lc.term)) continue;
    if (proposedAt < 0) {
      if (c.propose(l, 1)) { proposedAt = round; target = lc.logEndOffset; }
      continue;
    }
    if (c.ids.every((id) => c.core(id).highWatermark >= target && c.core(id).logEndOffset === lc.logEndOffset)) {
      for (const id of c.ids) c.checkAckedIn(id);
      return round;
    }
  }
  const state = c.ids.map((id) => {
    const k = c.core(id);
    return `n${id}:${k.role} t${k.term} leader=${k.leaderId} end=${k.logEndOffset} hw=${k.highWatermark}`;
  }).join(', ');
  throw new InvariantError(`liveness: no converged leader within ${maxRounds} rounds after heal (${state})`);
}
