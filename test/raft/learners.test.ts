import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError, SimCluster, entryKey } from '../sim/cluster.js';
import { NO_NODE } from '../../src/raft/types.js';

// Voters are nodes 1..size, learners size+1.. (here 3 voters: 1, 2, 3; learners 4 and 5).

function elect(c: SimCluster, id: number): void {
  c.core(id).campaign(false);
  c.stabilize();
  assert.equal(c.core(id).role, 'leader');
}

function keys(c: SimCluster, id: number): string[] { return c.node(id).log.map(entryKey); }

/** Cut every link between a and each of others, both ways. */
function cut(c: SimCluster, a: number, others: number[]): void {
  for (const b of others) { c.blocked.add(`${a}>${b}`); c.blocked.add(`${b}>${a}`); }
}

test('learners receive every committed entry and learn the high watermark; they are followers of the leader', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 101, syncDisk: true });
  assert.deepEqual(c.voterIds, [1, 2, 3]);
  assert.deepEqual(c.learnerIds, [4, 5]);
  elect(c, 1);
  assert.deepEqual([...c.core(1).followerProgress().keys()].sort(), [2, 3, 4, 5], 'the leader tracks voters and learners');
  for (let i = 0; i < 5; i++) assert.ok(c.propose(1, 2));
  c.stabilize();
  assert.equal(c.core(1).highWatermark, 10n);
  for (const l of c.learnerIds) {
    const k = c.core(l);
    assert.equal(k.role, 'follower');
    assert.equal(k.leaderId, 1);
    assert.equal(k.term, c.core(1).term);
    assert.equal(k.highWatermark, 10n, `learner ${l} HW`);
    assert.equal(c.node(l).durableHard.commitOffset, 10n, `learner ${l} persisted HW`);
    assert.deepEqual(keys(c, l), keys(c, 1), `learner ${l} log`);
    c.checkAckedIn(l);
  }
  // a learner cut off for a while catches up on everything it missed once it is reachable again
  c.isolate(4);
  for (let i = 0; i < 20; i++) c.propose(1, 1);
  c.stabilize();
  assert.equal(c.core(4).logEndOffset, 10n);
  assert.equal(c.core(1).highWatermark, 30n, 'a cut-off learner does not hold up commits');
  c.heal();
  for (let i = 0; i < 5; i++) { c.tick(1); c.stabilize(); }
  assert.deepEqual(keys(c, 4), keys(c, 1));
  assert.equal(c.core(4).highWatermark, 30n);
  c.checkLogs();
});

test('3 voters + 2 learners: commits with both learners down, not with 1 voter + 2 learners up', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 102, syncDisk: true });
  elect(c, 1);
  assert.ok(c.propose(1, 1));
  c.stabilize();
  const hw0 = c.core(1).highWatermark;
  assert.equal(hw0, 1n);

  // both learners down: the voters are a full quorum
  c.crash(4); c.crash(5);
  assert.ok(c.propose(1, 1));
  c.stabilize();
  assert.equal(c.core(1).highWatermark, 2n);
  assert.equal(c.core(2).highWatermark, 2n);
  c.restart(4); c.restart(5);
  // appends lost while they were down: the leader falls back to probing after a few heartbeats
  for (let i = 0; i < 10; i++) { c.tick(1); c.stabilize(); }
  for (const l of c.learnerIds) assert.equal(c.core(l).highWatermark, 2n, `restarted learner ${l} catches up`);

  // only the leader and the two learners up: 3 of 5 members hold the entry, but 1 of 3 voters
  c.crash(2); c.crash(3);
  assert.ok(c.propose(1, 1));
  c.stabilize();
  for (const l of c.learnerIds) assert.equal(c.core(l).logEndOffset, 3n, `learner ${l} holds the entry`);
  assert.equal(c.core(1).highWatermark, 2n, 'learners do not count towards the commit quorum');
  for (const l of c.learnerIds) assert.equal(c.core(l).highWatermark, 2n);
  // one voter back: 2 of 3 voters, and the entry commits
  c.restart(2);
  for (let i = 0; i < 3 && c.core(1).highWatermark < 3n; i++) { c.tick(1); c.stabilize(); }
  assert.equal(c.core(1).role, 'leader');
  assert.equal(c.core(1).highWatermark, 3n);
  for (const l of c.learnerIds) assert.equal(c.core(l).highWatermark, 3n);
  c.checkLogs();
});

test('a learner never campaigns, however long it goes without a leader', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 103, syncDisk: true });
  // a brand-new group, only the learners tick (even campaignOnFirstTick is ignored by them)
  for (let i = 0; i < 1000; i++) { for (const l of c.learnerIds) c.tick(l); c.stabilize(); }
  for (const l of c.learnerIds) {
    assert.equal(c.core(l).role, 'follower');
    assert.equal(c.core(l).term, 0);
    assert.equal(c.core(l).votedForId, NO_NODE);
  }
  assert.equal(c.inflight.length, 0, 'no message at all');
  // asked to campaign directly, or told to by a (forged) TimeoutNow, it still does not
  c.core(4).campaign(false);
  c.core(4).campaign(true);
  c.core(4).step({ type: 'timeoutNow', term: 0, from: 1, to: 4 });
  c.process(4);
  assert.equal(c.core(4).role, 'follower');
  assert.equal(c.core(4).term, 0);
  assert.equal(c.inflight.length, 0);

  // with a leader that then dies (all voters down), the learners still never campaign
  elect(c, 1);
  assert.ok(c.propose(1, 1));
  c.stabilize();
  const term = c.core(1).term;
  for (const v of c.voterIds) c.crash(v);
  for (let i = 0; i < 1000; i++) for (const l of c.learnerIds) c.tick(l);
  c.stabilize();
  for (const l of c.learnerIds) {
    assert.equal(c.core(l).role, 'follower');
    assert.equal(c.core(l).term, term);
    assert.equal(c.core(l).highWatermark, 1n);
  }
  assert.equal(c.inflight.length, 0);
  // a single voter with learners: the voter alone elects itself; learners never do
  const single = new SimCluster({ size: 1, learners: 2, seed: 104, syncDisk: true });
  for (let i = 0; i < 100; i++) { for (const l of single.learnerIds) single.tick(l); single.stabilize(); }
  assert.deepEqual(single.leaderIds(), []);
  for (let i = 0; i < 30 && single.leaderIds().length === 0; i++) { single.tickAll(); single.stabilize(); }
  assert.deepEqual(single.leaderIds(), [1]);
  assert.ok(single.propose(1, 1));
  single.stabilize();
  for (const id of single.ids) assert.equal(single.core(id).highWatermark, 1n, `node ${id} HW`);
});

test('vote responses from learners are ignored: a candidate needs a quorum of voters', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 105, syncDisk: true, config: { preVote: false } });
  c.core(1).campaign(false);
  c.process(1);
  assert.equal(c.core(1).role, 'candidate');
  const term = c.core(1).term;
  for (const f of c.inflight) if (f.msg.type === 'vote') assert.ok(c.voterIds.includes(f.to), `vote request sent to ${f.to}`);
  // only the request to voter 2 stays in flight, held back for now
  c.inflight = c.inflight.filter((f) => f.to === 2);
  for (const l of c.learnerIds) c.core(1).step({ type: 'voteResponse', term, from: l, to: 1, pre: false, granted: true });
  c.process(1);
  assert.equal(c.core(1).role, 'candidate', 'two forged learner votes do not make a quorum');
  // a real vote of voter 2 (durable before it is sent: the simulator checks the election's votes)
  c.deliverAt(0);
  assert.equal(c.inflight.length, 1);
  c.deliverAt(0);
  assert.equal(c.core(1).role, 'leader', 'one voter\'s vote does');
});

test('check-quorum: a leader that hears only from learners steps down', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 106, syncDisk: true });
  elect(c, 1);
  cut(c, 1, [2, 3]);
  for (let i = 0; i < 40 && c.core(1).role === 'leader'; i++) { c.tick(1); c.stabilize(); }
  assert.equal(c.core(1).role, 'follower');
  assert.equal(c.core(1).leaderId, NO_NODE);

  // the control: a leader that hears from the voters but not the learners stays
  const d = new SimCluster({ size: 3, learners: 2, seed: 107, syncDisk: true });
  elect(d, 1);
  cut(d, 1, [4, 5]);
  for (let i = 0; i < 40; i++) { d.tick(1); d.stabilize(); }
  assert.equal(d.core(1).role, 'leader');
});

test('transferLeadership to a learner is refused', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 108, syncDisk: true });
  elect(c, 1);
  c.core(1).transferLeadership(4);
  assert.equal(c.core(1).leadTransferee, NO_NODE);
  c.process(1);
  assert.ok(!c.inflight.some((f) => f.msg.type === 'timeoutNow'), 'no TimeoutNow');
  assert.ok(c.propose(1, 1), 'proposals are still taken');
  for (let i = 0; i < 30; i++) { c.tickAll(); c.stabilize(); }
  assert.deepEqual(c.leaderIds(), [1]);
  assert.equal(c.core(4).role, 'follower');
  for (const id of c.ids) assert.equal(c.core(id).highWatermark, 1n);
});

test('a learner\'s stale log is repaired by a new leader like a follower\'s', () => {
  const c = new SimCluster({ size: 3, learners: 2, seed: 109, syncDisk: true });
  elect(c, 1);
  for (let i = 0; i < 3; i++) c.propose(1, 2);
  c.stabilize();
  assert.equal(c.core(4).highWatermark, 6n);
  // the leader loses the voters but still reaches the learners: its new entries land only there
  cut(c, 1, [2, 3]);
  for (let i = 0; i < 20; i++) c.propose(1, 1);
  c.stabilize();
  for (const l of c.learnerIds) {
    assert.equal(c.core(l).logEndOffset, 26n);
    assert.equal(c.core(l).highWatermark, 6n, 'nothing past 6 committed');
  }
  const oldEpoch = c.core(1).term;
  // node 1 goes away; the other voters move on in a later epoch
  c.crash(1);
  for (let i = 0; i < 60 && c.leaderIds().length === 0; i++) { c.tick(2); c.tick(3); c.stabilize(); }
  const l2 = c.leaderIds()[0]!;
  assert.ok(l2 === 2 || l2 === 3);
  assert.ok(c.core(l2).term > oldEpoch);
  for (let i = 0; i < 4; i++) c.propose(l2, 3);
  c.stabilize();
  for (let i = 0; i < 5; i++) { c.tick(l2); c.stabilize(); }
  const hw = c.core(l2).highWatermark;
  assert.equal(hw, c.core(l2).logEndOffset);
  assert.ok(hw >= 18n);
  for (const l of c.learnerIds) {
    assert.deepEqual(keys(c, l), keys(c, l2), `learner ${l} log repaired`);
    assert.equal(c.core(l).highWatermark, hw);
    assert.equal(c.core(l).leaderId, l2);
    assert.ok(!c.node(l).log.some((e) => e.baseOffset >= 6n && e.epoch === oldEpoch), `learner ${l} dropped the uncommitted tail`);
    c.checkAckedIn(l);
  }
  // the old leader rejoins and is repaired too
  c.heal();
  c.restart(1);
  for (let i = 0; i < 5; i++) { c.tick(l2); c.stabilize(); }
  assert.deepEqual(keys(c, 1), keys(c, l2));
  c.checkLogs();
});

test('the simulator catches a leader whose election or commit counted something other than a quorum of voters', () => {
  // an election won with a vote voter 2 never cast (as if a learner's vote had counted)
  const v = new SimCluster({ size: 3, learners: 1, seed: 109, syncDisk: true, config: { preVote: false } });
  v.core(1).campaign(false);
  v.process(1);
  const term = v.core(1).term;
  v.core(1).step({ type: 'voteResponse', term, from: 2, to: 1, pre: false, granted: true });
  assert.throws(() => v.process(1), (e: unknown) => e instanceof InvariantError && /leads term 1 with 1 durable votes of voters 1,2,3/.test(e.message));
  // a commit counted from an acknowledgement voter 2 never sent (as if a learner's copy had counted)
  const c = new SimCluster({ size: 3, learners: 1, seed: 108, syncDisk: true });
  elect(c, 1);
  c.crash(2); c.crash(3);
  assert.ok(c.propose(1, 1));
  c.stabilize();
  const end = c.core(1).logEndOffset;
  assert.equal(c.node(4).durableEnd, end, 'the learner holds the entry');
  c.core(1).step({ type: 'appendResponse', term: c.core(1).term, from: 2, to: 1, success: true, matchOffset: end, prevOffset: end - 1n });
  assert.throws(() => c.process(1), (e: unknown) => e instanceof InvariantError && /held durably by 1 of voters 1,2,3/.test(e.message));
});
