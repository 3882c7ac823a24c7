import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMultiSeed } from './multi.js';

// Many groups on the same simulated nodes (shared clock, network, crashes), a bounded set of seeds
// for `npm test`; RAFTKA_SIM_MULTI_SEEDS=N raises the count, and
// `node dist/test/sim/main.js --multi --seeds N [--groups G]` runs many more.
const seeds = Number(process.env.RAFTKA_SIM_MULTI_SEEDS ?? '50');

for (const [nodes, groups] of [[3, 12], [5, 6]] as const) {
  test(`multi-group raft simulation: ${seeds} seeds, ${groups} groups on ${nodes} shared nodes keep every group's invariants and all elect after heal`, () => {
    const failures: string[] = [];
    let committed = 0n; let fast = 0; let envelopes = 0; let messages = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = runMultiSeed(seed, { nodes, groups });
      if (!r.ok) failures.push(`seed ${seed}: ${r.error ?? ''} (replay: node dist/test/sim/main.js --multi --seed ${seed} --nodes ${nodes} --groups ${groups})`);
      committed += r.stats.committedOffsets; fast += r.stats.fastCampaigns; envelopes += r.stats.envelopes; messages += r.stats.messages;
    }
    assert.deepEqual(failures, []);
    // the runs must do something: commit data in every group, use the fast failover path, coalesce
    assert.ok(committed > BigInt(seeds * groups) * 5n, `only ${committed} offsets committed over ${seeds} seeds`);
    assert.ok(fast > 0, 'no pre-vote started by a peer-unreachable notice');
    assert.ok(messages > envelopes, `envelopes carry ${messages / envelopes} messages on average`);
  });
}
