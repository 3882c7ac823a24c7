import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './sim.js';

// A bounded, fixed set of seeds for `npm test`; `npm run sim -- --seeds N` runs many more.
// RAFTKA_SIM_SEEDS=N raises the count here too.
const seeds = Number(process.env.RAFTKA_SIM_SEEDS ?? '200');

for (const nodes of [3, 5]) {
  test(`raft simulation: ${seeds} seeds on ${nodes} nodes keep every invariant and elect after heal`, () => {
    const count = seeds;
    const failures: string[] = [];
    let committed = 0n;
    for (let seed = 1; seed <= count; seed++) {
      const r = runSeed(seed, { nodes });
      if (!r.ok) failures.push(`seed ${seed}: ${r.error ?? ''} (replay: npm run sim -- --seed ${seed} --nodes ${nodes})`);
      committed += r.stats.committedOffsets;
    }
    assert.deepEqual(failures, []);
    // the runs must actually commit data, or the invariants are checked on nothing
    assert.ok(committed > BigInt(count) * 10n, `only ${committed} offsets committed over ${count} seeds`);
  });
}
