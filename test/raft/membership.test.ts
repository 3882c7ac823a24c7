import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MembershipCluster, entryKey } from './membership-harness.js';

function elect(c: MembershipCluster, id: number): void {
  c.core(id).campaign(false);
  c.stabilize();
  assert.equal(c.core(id).role, 'leader');
}

function writes(c: MembershipCluster, leader: number, n: number, recordCount = 1): void {
  for (let i = 0; i < n; i++) assert.ok(c.propose(leader, recordCount), 'proposal accepted');
  c.stabilize();
}

/** Retry a change while the leader is not ready for it (its own term not committed yet). */
function change(c: MembershipCluster, leader: number, ch: Parameters<MembershipCluster['change']>[1]): void {
  let r = c.change(leader, ch);
  if (!r.ok && r.reason === 'term_not_committed') { c.stabilize(); r = c.change(leader, ch); }
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.message}`);
  c.stabilize();
}

test('move a group from [1,2,3] to [2,3,4]: learner, catch-up, promotion, removals one at a time, leader hands over first', () => {
  const c = new MembershipCluster({ seed: 1 }, [1, 2, 3]);
  elect(c, 1);
  writes(c, 1, 10);
  // the new replica starts knowing the current configuration, itself a learner
  c.addNode(4, { voters: [1, 2, 3], learners: [4] });
  c.isolate(4);
  change(c, 1, { type: 'addLearner', node: 4 });
  assert.deepEqual(c.core(1).membership, { voters: [1, 2, 3], learners: [4] });
  // a member added now is not in sync (ISR) until it has held the whole log once
  assert.ok(c.core(1).followerProgress().get(4)!.lastCaughtUpTick < 0);
  // not caught up: not promoted
  const behind = c.change(1, { type: 'promote', node: 4 });
  assert.equal(behind.ok, false);
  assert.equal(!behind.ok && behind.reason, 'learner_behind');
  // a learner does not count towards commits
  writes(c, 1, 2);
  assert.equal(c.core(1).highWatermark, c.core(1).logEndOffset);
  c.heal();
  c.until(() => c.core(4).highWatermark === c.core(1).highWatermark && c.core(4).logEndOffset === c.core(1).logEndOffset);
  assert.equal(c.core(4).role, 'follower');
  assert.ok(c.core(1).followerProgress().get(4)!.lastCaughtUpTick >= 0, 'in sync once caught up');
  change(c, 1, { type: 'promote', node: 4 });
  for (const id of [1, 2, 3, 4]) assert.deepEqual(c.core(id).membership, { voters: [1, 2, 3, 4], learners: [] }, `node ${id}`);
  // one change at a time
  assert.ok(c.propose(1));
  const first = c.core(1).changeMembership({ type: 'remove', node: 2 });
  assert.ok(first.ok);
  const second = c.core(1).changeMembership({ type: 'remove', node: 3 });
  assert.equal(!second.ok && second.reason, 'change_pending');
  c.stabilize();
  assert.deepEqual(c.core(1).membership.voters, [1, 3, 4]);
  // put 2 back (as a learner, then a voter) to finish the planned move
  change(c, 1, { type: 'addLearner', node: 2 });
  c.until(() => c.core(2).logEndOffset === c.core(1).logEndOffset);
  change(c, 1, { type: 'promote', node: 2 });
  // the leader leaves last: it must transfer first
  const self = c.core(1).changeMembership({ type: 'remove', node: 1 });
  assert.equal(!self.ok && self.reason, 'remove_leader');
  c.core(1).transferLeadership(2);
  c.stabilize();
  assert.equal(c.core(2).role, 'leader');
  change(c, 2, { type: 'remove', node: 1 });
  assert.deepEqual([...c.core(2).membership.voters].sort(), [2, 3, 4]);
  // 1 is out: the group commits without it, and 1 never campaigns
  c.crash(1);
  writes(c, 2, 3);
  assert.equal(c.core(2).highWatermark, c.core(2).logEndOffset);
  for (const id of [3, 4]) { assert.equal(c.core(id).highWatermark, c.core(2).highWatermark); c.checkAckedIn(id); }
  c.restart(1);
  for (let i = 0; i < 50; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(2).role, 'leader', 'a removed node does not disrupt the group');
  assert.deepEqual(c.core(1).membership.voters.includes(1), false, 'the removed node learnt of its removal');
  assert.notEqual(c.core(1).role, 'leader');
  c.checkLogs();
});

test('a new leader commits an entry of its own term before it changes the configuration', () => {
  const c = new MembershipCluster({ seed: 2 }, [1, 2, 3]);
  elect(c, 1);
  writes(c, 1, 3);
  // leader 2 takes over with a fully committed log: it appended no LeaderChange entry
  c.core(1).transferLeadership(2);
  c.stabilize();
  assert.equal(c.core(2).role, 'leader');
  const end = c.core(2).logEndOffset;
  c.addNode(4, { voters: [1, 2, 3], learners: [4] });
  const r = c.change(2, { type: 'addLearner', node: 4 });
  assert.equal(!r.ok && r.reason, 'term_not_committed');
  assert.equal(c.core(2).logEndOffset, end + 1n, 'it appended its LeaderChange entry');
  c.stabilize();
  assert.ok(c.change(2, { type: 'addLearner', node: 4 }).ok);
  c.stabilize();
  assert.deepEqual(c.core(3).membership.learners, [4]);
});

test('an uncommitted configuration is undone by truncation; a committed one survives restarts of every node', () => {
  const c = new MembershipCluster({ seed: 3 }, [1, 2, 3]);
  elect(c, 1);
  writes(c, 1, 2);
  c.addNode(4, { voters: [1, 2, 3], learners: [4] });
  // leader 1 cut off: its change stays in its own log only
  c.isolate(1);
  const r = c.change(1, { type: 'addLearner', node: 4 });
  assert.ok(r.ok);
  assert.deepEqual(c.core(1).membership.learners, [4], 'in force on append, before commit');
  // crash and restart 1: the change is recovered from its stored configurations
  c.crash(1);
  c.restart(1);
  assert.deepEqual(c.core(1).membership.learners, [4], 'recovered after a crash');
  c.isolate(1);
  // the others elect 2, which commits its own entries
  c.until(() => c.leaderIds().includes(2) || c.leaderIds().includes(3));
  const leader = c.leaderIds().find((id) => id !== 1)!;
  writes(c, leader, 2);
  change(c, leader, { type: 'remove', node: 3 === leader ? 2 : 3 });
  c.heal();
  c.until(() => c.core(1).logEndOffset === c.core(leader).logEndOffset && c.core(1).highWatermark === c.core(leader).highWatermark);
  assert.deepEqual(c.core(1).membership, c.core(leader).membership, 'the truncated change is undone on 1');
  assert.deepEqual(c.core(1).membership.learners, []);
  // restart everyone: the committed configuration comes back from storage and the log
  const before = c.core(leader).membership;
  for (const id of [1, 2, 3]) { c.crash(id); c.restart(id); }
  for (const id of [1, 2, 3]) assert.deepEqual(c.core(id).membership, before, `node ${id} after restart`);
  c.until(() => c.leaderIds().length === 1);
  const l2 = c.leaderIds()[0]!;
  assert.ok(before.voters.includes(l2), 'only a voter of the recovered configuration leads');
  writes(c, l2, 1);
  c.checkLogs();
});

test('crash of the leader in the middle of a change: the new leader finishes it or drops it, never two at once', () => {
  for (let seed = 10; seed < 30; seed++) {
    const c = new MembershipCluster({ seed, syncDisk: false }, [1, 2, 3]);
    elect(c, 1);
    writes(c, 1, 2);
    c.addNode(4, { voters: [1, 2, 3], learners: [4] });
    change(c, 1, { type: 'addLearner', node: 4 });
    c.until(() => c.core(4).logEndOffset === c.core(1).logEndOffset);
    const r = c.core(1).changeMembership({ type: 'promote', node: 4 });
    assert.ok(r.ok);
    c.process(1);
    // deliver a seed-dependent part of the traffic, then crash the leader
    for (let i = 0; i < seed % 7 && c.inflight.length > 0; i++) c.deliver(0);
    if (seed % 2 === 0) c.completeDisk(2);
    c.crash(1);
    c.until(() => c.leaderIds().length === 1 && c.core(c.leaderIds()[0]!).highWatermark === c.core(c.leaderIds()[0]!).logEndOffset, 400);
    const leader = c.leaderIds()[0]!;
    const m = c.core(leader).membership;
    assert.ok(
      (m.voters.length === 4 && m.learners.length === 0) || (m.voters.length === 3 && m.learners[0] === 4),
      `seed ${seed}: ${JSON.stringify(m)}`,
    );
    c.restart(1);
    c.until(() => c.ids.every((id) => c.core(id).logEndOffset === c.core(leader).logEndOffset), 400);
    for (const id of c.ids) assert.deepEqual(c.core(id).membership, c.core(leader).membership, `seed ${seed} node ${id}`);
    for (const id of c.ids) c.checkAckedIn(id);
    c.checkLogs();
  }
});

test('a follower behind the leader\'s log start restarts its log there instead of being stuck', () => {
  const c = new MembershipCluster({ seed: 4 }, [1, 2, 3]);
  elect(c, 1);
  writes(c, 1, 5);
  c.isolate(3);
  writes(c, 1, 20);
  const hw = c.core(1).highWatermark;
  // retention on the leader and on 2 deletes what 3 still needs
  c.deleteBefore(1, 15n);
  c.deleteBefore(2, 15n);
  assert.equal(c.core(1).logStartOffset, 15n);
  c.heal();
  c.until(() => c.core(3).logEndOffset === c.core(1).logEndOffset && c.core(3).highWatermark === hw);
  assert.equal(c.node(3).logStart, 15n, 'node 3 restarted its log at the leader\'s log start');
  assert.equal(c.core(3).logStartOffset, 15n);
  assert.deepEqual(c.node(3).log.map(entryKey), c.node(1).log.map(entryKey));
  // and it takes part as before: new writes commit with 1 down
  c.crash(1);
  c.until(() => c.leaderIds().length === 1);
  const leader = c.leaderIds()[0]!;
  writes(c, leader, 3);
  assert.equal(c.core(3).highWatermark, c.core(leader).highWatermark);
  // its restart recovers the restarted log
  c.crash(3); c.restart(3);
  assert.equal(c.core(3).logStartOffset, 15n);
  c.restart(1);
  c.until(() => c.core(1).logEndOffset === c.core(leader).logEndOffset);
  c.checkLogs();
});

test('a new learner joins a group whose log start is past 0; a log start inside a batch restarts at the batch', () => {
  const c = new MembershipCluster({ seed: 5 }, [1, 2, 3]);
  elect(c, 1);
  writes(c, 1, 10, 3); // batches of 3 offsets
  const lastBatch = c.node(1).log.find((e) => e.baseOffset <= 20n && e.lastOffset >= 20n)!;
  assert.ok(lastBatch.baseOffset < 20n, 'offset 20 is inside a batch');
  c.deleteBefore(1, 20n); // DeleteRecords at 20: log start inside a batch
  c.addNode(4, { voters: [1, 2, 3], learners: [4] });
  change(c, 1, { type: 'addLearner', node: 4 });
  c.until(() => c.core(4).logEndOffset === c.core(1).logEndOffset && c.core(4).highWatermark === c.core(1).highWatermark);
  assert.equal(c.node(4).logStart, lastBatch.baseOffset, 'the learner\'s log starts at the batch holding the leader\'s log start');
  change(c, 1, { type: 'promote', node: 4 });
  assert.deepEqual(c.core(4).membership.voters, [1, 2, 3, 4]);
  c.checkAckedIn(4);
});

/** RAFTKA_MEMBERSHIP_SEEDS=N runs N seeds (default 40), from RAFTKA_MEMBERSHIP_FIRST_SEED (default 100). */
const SEEDS = Number(process.env.RAFTKA_MEMBERSHIP_SEEDS ?? 40);
const FIRST_SEED = Number(process.env.RAFTKA_MEMBERSHIP_FIRST_SEED ?? 100);

test(`simulation: random faults, retention and membership changes keep every invariant (${SEEDS} seeds)`, () => {
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    try {
      runSim(seed);
    } catch (err) {
      throw new Error(`seed ${seed}: ${(err as Error).message} (replay: RAFTKA_MEMBERSHIP_SEEDS=1 RAFTKA_MEMBERSHIP_FIRST_SEED=${seed})`);
    }
  }
});

function runSim(seed: number): void {
  let state = seed;
  const rnd = (n: number): number => { state = (state * 1103515245 + 12345) & 0x7fffffff; return state % n; };
  const c = new MembershipCluster({ seed, syncDisk: false }, [1, 2, 3]);
  for (const id of [4, 5]) c.addNode(id, { voters: [1, 2, 3], learners: [] });
  const desiredSets = [[1, 2, 3], [2, 3, 4], [3, 4, 5], [1, 4, 5], [1, 2, 3]];
  let target = 0;
  for (let step = 0; step < 3000; step++) {
    const roll = rnd(100);
    const ids = c.ids;
    if (roll < 45 && c.inflight.length > 0) {
      const i = rnd(c.inflight.length);
      if (rnd(20) === 0) c.inflight.splice(i, 1); else c.deliver(i);
    } else if (roll < 70) {
      c.completeDisk(ids[rnd(ids.length)]!);
    } else if (roll < 85) {
      c.tick(ids[rnd(ids.length)]!);
    } else if (roll < 92) {
      const l = c.leaderIds()[0];
      if (l !== undefined) c.propose(l, 1 + rnd(2));
    } else if (roll < 94) {
      // retention on one node: its log loses a committed prefix (sometimes inside an entry)
      const id = ids[rnd(ids.length)]!;
      const n = c.node(id);
      const hw = n.up ? c.core(id).highWatermark : 0n;
      if (hw > n.logStart + 3n) c.deleteBefore(id, hw - BigInt(rnd(3)));
    } else if (roll < 97) {
      // the reassignment driver: one step towards the target voter set
      const l = c.leaderIds()[0];
      if (l !== undefined) stepTowards(c, l, desiredSets[target]!);
      if (l !== undefined && sameSet(c.core(l).membership.voters, desiredSets[target]!) && c.core(l).membership.learners.length === 0 && !c.core(l).membershipChangePending) {
        target = (target + 1) % desiredSets.length;
      }
    } else {
      const id = ids[rnd(ids.length)]!;
      if (c.node(id).up && c.ids.filter((x) => !c.node(x).up).length === 0) c.crash(id);
      else for (const x of ids) if (!c.node(x).up) c.restart(x);
    }
  }
  // heal: everyone up, all messages flow, a leader appears and everybody converges
  for (const x of c.ids) if (!c.node(x).up) c.restart(x);
  // a leader that takes writes (a transfer started by the driver may still be running)
  c.until(() => c.leaderIds().length === 1 && c.propose(c.leaderIds()[0]!), 400);
  const l = c.leaderIds()[0]!;
  c.stabilize();
  const members = [...c.core(l).membership.voters, ...c.core(l).membership.learners];
  c.until(() => members.every((id) => c.core(id).highWatermark === c.core(l).highWatermark), 400);
  for (const id of members) c.checkAckedIn(id);
  c.checkLogs();
}

function sameSet(a: readonly number[], b: readonly number[]): boolean { return a.length === b.length && a.every((x) => b.includes(x)); }

/** What the partition layer does on the leader: add a learner, promote it, remove an old voter. */
function stepTowards(c: MembershipCluster, leader: number, desired: readonly number[]): void {
  const { voters, learners } = c.core(leader).membership;
  const addable = desired.find((d) => !voters.includes(d) && !learners.includes(d));
  if (learners.length > 0 && learners.every((x) => desired.includes(x))) { c.change(leader, { type: 'promote', node: learners[0]! }); return; }
  if (learners.length > 0) { c.change(leader, { type: 'remove', node: learners[0]! }); return; }
  if (addable !== undefined) { c.change(leader, { type: 'addLearner', node: addable }); return; }
  const extra = voters.find((v) => !desired.includes(v));
  if (extra === undefined) return;
  if (extra === leader) { const to = voters.find((v) => v !== leader && desired.includes(v)); if (to !== undefined) c.core(leader).transferLeadership(to); c.process(leader); return; }
  c.change(leader, { type: 'remove', node: extra });
}
