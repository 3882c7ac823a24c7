/**
 * Run many simulation seeds, or replay one.
 *   node dist/test/sim/main.js --seed S [--nodes 3|5] [--steps N]     replay one seed (with a trace on failure)
 *   node dist/test/sim/main.js --seeds N [--first-seed S] [--nodes 3|5|both]
 * --churn P sets the share of seeds that run the leader-churn schedule (default 0.5).
 * --learners N adds N non-voting members (Raft learners) to every group (default 0).
 * --membership adds two spare nodes, membership changes (a reassignment driver) and retention;
 *   its proposals span several offsets (--membership-batches, the default), or one offset each
 *   with --membership-single.
 * --multi runs the multi-group simulation instead (many groups sharing nodes, clock and network):
 *   node dist/test/sim/main.js --multi --seed S [--nodes N] [--groups G] [--steps N]
 *   node dist/test/sim/main.js --multi --seeds N [--first-seed S] [--nodes N] [--groups G]
 * Exits non-zero if any seed broke an invariant; each failure prints its replay command.
 */
import { runSeed, type SimResult } from './sim.js';
import { runMultiSeed } from './multi.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function report(r: SimResult): void {
  const l = (r.learners > 0 ? ` --learners ${r.learners}` : '') + (process.argv.includes('--membership') ? ' --membership' : '') +
    (process.argv.includes('--membership-batches') ? ' --membership-batches' : '') + (process.argv.includes('--membership-single') ? ' --membership-single' : '');
  process.stderr.write(`FAIL seed ${r.seed} nodes ${r.nodes}${l}: ${r.error ?? ''}\n  replay: node dist/test/sim/main.js --seed ${r.seed} --nodes ${r.nodes}${l}\n`);
}

const steps = arg('steps') !== undefined ? Number(arg('steps')) : undefined;
const churn = arg('churn') !== undefined ? Number(arg('churn')) : undefined;
const learners = arg('learners') !== undefined ? Number(arg('learners')) : 0;
if (!Number.isInteger(learners) || learners < 0) throw new Error(`--learners must be a non-negative integer, got ${arg('learners') ?? ''}`);
const membership = process.argv.includes('--membership');
const membershipBatches = !process.argv.includes('--membership-single');
const extra = { learners, membership, membershipBatches, ...(steps !== undefined ? { steps } : {}), ...(churn !== undefined ? { churn } : {}) };
const nodesArg = arg('nodes') ?? 'both';
const nodeCounts = nodesArg === 'both' ? [3, 5] : [Number(nodesArg)];
const one = arg('seed');

function bigintJson(x: unknown): string { return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)); }

if (process.argv.includes('--multi')) {
  const nodes = Number(arg('nodes') ?? '3');
  const groups = Number(arg('groups') ?? '12');
  const opts = { nodes, groups, ...(steps !== undefined ? { steps } : {}) };
  const replay = (seed: number): string => `node dist/test/sim/main.js --multi --seed ${seed} --nodes ${nodes} --groups ${groups}${steps !== undefined ? ` --steps ${steps}` : ''}`;
  const seeds = one !== undefined ? [Number(one)] : (() => {
    const count = Number(arg('seeds') ?? '100');
    const first = arg('first-seed') !== undefined ? Number(arg('first-seed')) : Math.floor(Math.random() * 2 ** 31);
    process.stdout.write(`running ${count} multi-group seeds from ${first}: ${groups} groups on ${nodes} nodes\n`);
    return Array.from({ length: count }, (_, i) => first + i);
  })();
  const t0 = performance.now();
  let failures = 0;
  for (const seed of seeds) {
    const r = runMultiSeed(seed, { ...opts, trace: one !== undefined });
    if (r.ok) { if (one !== undefined) process.stdout.write(`ok seed ${seed}: ${bigintJson(r.stats)}\n`); continue; }
    failures++;
    if (r.trace !== undefined) process.stderr.write(r.trace.slice(-80).join('\n') + '\n');
    process.stderr.write(`FAIL seed ${seed}: ${r.error ?? ''}\n  replay: ${replay(seed)}\n`);
  }
  process.stdout.write(`${seeds.length} seeds: ${failures} failed, ${(performance.now() - t0).toFixed(0)} ms\n`);
  process.exit(failures > 0 ? 1 : 0);
}

if (one !== undefined) {
  const seed = Number(one);
  let failed = false;
  for (const nodes of nodeCounts) {
    const r = runSeed(seed, { nodes, trace: true, ...extra });
    if (r.ok) {
      process.stdout.write(`ok seed ${seed} nodes ${nodes} learners ${learners}: ${JSON.stringify(r.stats, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    } else {
      failed = true;
      process.stderr.write((r.trace ?? []).slice(-80).join('\n') + '\n');
      report(r);
    }
  }
  process.exit(failed ? 1 : 0);
} else {
  const count = Number(arg('seeds') ?? '1000');
  const first = arg('first-seed') !== undefined ? Number(arg('first-seed')) : Math.floor(Math.random() * 2 ** 31);
  process.stdout.write(`running ${count} seeds from ${first} on ${nodeCounts.join(' and ')} nodes${learners > 0 ? ` + ${learners} learners` : ''}\n`);
  const t0 = performance.now();
  let failures = 0;
  for (let s = first; s < first + count; s++) {
    for (const nodes of nodeCounts) {
      const r = runSeed(s, { nodes, ...extra });
      if (!r.ok) { failures++; report(r); }
    }
  }
  const ms = performance.now() - t0;
  process.stdout.write(`${count} seeds x ${nodeCounts.length} sizes: ${failures} failed, ${ms.toFixed(0)} ms\n`);
  process.exit(failures > 0 ? 1 : 0);
}
