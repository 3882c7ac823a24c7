import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './sim.js';

// A bounded, fixed set of seeds for `npm test`; `node dist/test/sim/main.js --seeds N` runs many
// more. RAFTKA_SIM_SEEDS=N raises the count here too (RAFTKA_SIM_LEARNER_SEEDS for learner groups).
const seeds = Number(process.env.RAFTKA_SIM_SEEDS ?? '200');
const learnerSeeds = Number(process.env.RAFTKA_SIM_LEARNER_SEEDS ?? '100');
const membershipSeeds = Number(process.env.RAFTKA_SIM_MEMBERSHIP_SEEDS ?? '100');

function runMany(nodes: number, learners: number, count: number): void {
  const failures: string[] = [];
  let committed = 0n;
  for (let seed = 1; seed <= count; seed++) {
    const r = runSeed(seed, { nodes, learners });
    const l = learners > 0 ? ` --learners ${learners}` : '';
    if (!r.ok) failures.push(`seed ${seed}: ${r.error ?? ''} (replay: node dist/test/sim/main.js --seed ${seed} --nodes ${nodes}${l})`);
    committed += r.stats.committedOffsets;
  }
  assert.deepEqual(failures, []);
  // the runs must actually commit data, or the invariants are checked on nothing
  assert.ok(committed > BigInt(count) * 10n, `only ${committed} offsets committed over ${count} seeds`);
}

for (const nodes of [3, 5]) {
  test(`raft simulation: ${seeds} seeds on ${nodes} nodes keep every invariant and elect after heal`, () => {
    runMany(nodes, 0, seeds);
  });
}

// Learners take every fault a voter does; they must converge after heal like everyone else. The
// 1-voter case is the broker's small-cluster metadata log (one controller, the others observers).
for (const [nodes, learners] of [[1, 2], [2, 1], [3, 2]] as const) {
  test(`raft simulation: ${learnerSeeds} seeds on ${nodes} voters + ${learners} learners keep every invariant, learners never lead or vote, all converge`, () => {
    runMany(nodes, learners, learnerSeeds);
  });
}

// Membership changes under the same faults: two spare nodes, a reassignment driver moving the
// voter set around a ring by single-server changes (the leader hands over before it is removed),
// and retention (followers behind the log start are reset to it). Learners never vote or count.
// Proposals span several offsets (multi-record entries), so the high watermark and every
// acknowledgement must stay on entry boundaries (the regression seeds below).
for (const nodes of [3, 5]) {
  test(`raft simulation: ${membershipSeeds} seeds on ${nodes} voters + 2 spares with membership changes and retention keep every invariant, the final members converge`, () => {
    const failures: string[] = [];
    let committed = 0n; let changes = 0; let moves = 0;
    for (let seed = 1; seed <= membershipSeeds; seed++) {
      const r = runSeed(seed, { nodes, learners: 0, membership: true });
      if (!r.ok) failures.push(`seed ${seed}: ${r.error ?? ''} (replay: node dist/test/sim/main.js --seed ${seed} --nodes ${nodes} --membership)`);
      committed += r.stats.committedOffsets; changes += r.stats.changes; moves += r.stats.moves;
    }
    assert.deepEqual(failures, []);
    assert.ok(committed > BigInt(membershipSeeds) * 10n, `only ${committed} offsets committed`);
    // the driver must actually move the group around, or the changes are checked on nothing
    assert.ok(changes > membershipSeeds / 3, `only ${changes} membership changes over ${membershipSeeds} seeds`);
    assert.ok(moves > 0, `no target voter set reached over ${membershipSeeds} seeds`);
  });
}

// Regression seeds (fixed core bugs found by the membership simulation; deterministic replays).
test('raft simulation regression: seed 451 on 3 voters with membership changes (a follower emptied at the leader\'s log start keeps the epoch below it and refuses a stale candidate)', () => {
  // Before the fix the follower forgot every epoch at the reset and granted its vote to a node
  // whose log ended at 5: it won term 4 without the committed entries 5..13.
  const r = runSeed(451, { nodes: 3, learners: 0, membership: true, membershipBatches: false });
  assert.equal(r.error, undefined);
  assert.ok(r.ok);
  assert.ok(r.stats.committedOffsets > 0n);
});

test('raft simulation regression: seeds 25 and 592 on 3 voters with multi-record entries (acknowledgements, and so the high watermark, stay on entry boundaries)', () => {
  // 25: a follower holding the entry at the leader's log start acknowledged start + 1 (as did a
  // probe at the log start), inside a multi-record entry, and the leader committed up to there.
  // 592: a probe placed by a divergence hint (a boundary of the follower's log) inside one of the
  // leader's multi-record entries was acknowledged there; the follower's HW split its entry.
  for (const seed of [25, 592]) {
    const r = runSeed(seed, { nodes: 3, learners: 0, membership: true, membershipBatches: true });
    assert.equal(r.error, undefined, `seed ${seed}`);
    assert.ok(r.ok);
  }
});

// Regression seeds for the entries the broker reads back (runs of batches of one epoch merged into
// one entry, from the batch holding the offset asked for; the simulator reads that way too).
// Before the fix they failed: a follower truncating below its HW (2: 'truncation to 0 below the
// high watermark 33', the short fault schedule's failure) or truncating a committed entry it held
// a prefix of (3), a follower skipping an entry across its log start and acknowledging a diverging
// tail (1177 on 5 voters with membership changes: another entry committed at offset 26), and a
// follower restarting its log below its HW at the base of such an entry (652).
test('raft simulation regression: entries read back merged across batches (seeds 2, 3 on 3 nodes; 1177, 652 on 5 voters with membership changes)', () => {
  for (const [seed, nodes, membership] of [[2, 3, false], [3, 3, false], [1177, 5, true], [652, 5, true]] as const) {
    const r = runSeed(seed, { nodes, learners: 0, membership, membershipBatches: true });
    assert.equal(r.error, undefined, `seed ${seed} nodes ${nodes}${membership ? ' --membership' : ''}`);
    assert.ok(r.ok);
    assert.ok(r.stats.committedOffsets > 0n);
  }
});
