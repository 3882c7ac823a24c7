import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../sim/cluster.js';
import type { RaftMessage } from '../../src/raft/types.js';

function elect(c: SimCluster, id: number): void {
  c.core(id).campaign(false);
  c.stabilize();
  assert.equal(c.core(id).role, 'leader');
}

/** Deliver (in order) only the in-flight messages matching pred; leave the others. */
function deliverWhere(c: SimCluster, pred: (m: RaftMessage) => boolean): number {
  let n = 0;
  for (let i = 0; i < c.inflight.length;) {
    if (pred(c.inflight[i]!.msg)) { c.deliverAt(i); n++; } else i++;
  }
  return n;
}

test('a 3-node group elects one leader, appends nothing to its empty log, and commits a first write at offset 0', () => {
  const c = new SimCluster({ size: 3, seed: 1, syncDisk: true });
  // nobody campaigns before its randomized timeout (>= 10 ticks)
  c.tickAll(9);
  assert.deepEqual(c.leaderIds(), []);
  for (let i = 0; i < 30 && c.leaderIds().length === 0; i++) { c.tickAll(); c.stabilize(); }
  const leaders = c.leaderIds();
  assert.equal(leaders.length, 1);
  const l = leaders[0]!;
  for (const id of c.ids) {
    assert.equal(c.core(id).leaderId, l);
    assert.equal(c.core(id).term, c.core(l).term);
    // the whole (empty) log was committed: no LeaderChange entry, nothing to commit
    assert.equal(c.core(id).logEndOffset, 0n, `node ${id} log end`);
    assert.equal(c.core(id).highWatermark, 0n, `node ${id} HW`);
  }
  assert.ok(c.core(l).quiescable, 'an idle leader of an empty log can quiesce');
  // the partition's first record is at offset 0, in the leader's epoch, and commits everywhere
  assert.ok(c.propose(l, 1));
  assert.deepEqual(c.node(l).log.map((e) => [e.baseOffset, e.lastOffset, e.epoch]), [[0n, 0n, c.core(l).term]]);
  c.stabilize();
  for (const id of c.ids) {
    assert.equal(c.core(id).logEndOffset, 1n, `node ${id} log end`);
    assert.equal(c.core(id).highWatermark, 1n, `node ${id} HW`);
  }
  c.checkLogs();
  for (const id of c.ids) c.checkAckedIn(id);
});

test('a single-voter group commits only once its own write is durable', () => {
  const c = new SimCluster({ size: 1, seed: 2 });
  c.core(1).campaign(false);
  c.process(1);
  assert.equal(c.core(1).role, 'leader');
  assert.equal(c.core(1).logEndOffset, 0n, 'an empty, fully committed log gets no LeaderChange entry');
  while (c.completeDisk(1));
  assert.equal(c.core(1).highWatermark, 0n);
  assert.ok(c.propose(1, 3));
  assert.equal(c.core(1).logEndOffset, 3n);
  assert.equal(c.core(1).highWatermark, 0n, 'the write is not durable yet');
  while (c.completeDisk(1));
  assert.equal(c.core(1).highWatermark, 3n);
  // restart: the HW and the log come back from the durable state
  c.crash(1); c.restart(1);
  assert.equal(c.core(1).highWatermark, 3n);
  assert.equal(c.core(1).logEndOffset, 3n);
});

test('campaignOnFirstTick: the preferred replica of a brand-new group campaigns at once', () => {
  const c = new SimCluster({ size: 3, seed: 3, syncDisk: true });
  const pref = new SimCluster({ size: 3, seed: 3, syncDisk: true, config: { campaignOnFirstTick: true } });
  pref.tick(2);
  pref.stabilize();
  assert.deepEqual(pref.leaderIds(), [2]);
  c.tick(2); c.stabilize();
  assert.deepEqual(c.leaderIds(), []);
});

test('pre-vote: a partitioned node does not inflate its term, and does not disrupt the leader on rejoin', () => {
  const c = new SimCluster({ size: 3, seed: 4, syncDisk: true });
  elect(c, 1);
  const term = c.core(1).term;
  c.isolate(3);
  for (let i = 0; i < 100; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(3).term, term, 'isolated node keeps its term (pre-vote fails)');
  assert.equal(c.core(1).role, 'leader');
  c.heal();
  for (let i = 0; i < 30; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(1).role, 'leader');
  assert.equal(c.core(1).term, term);
  assert.equal(c.core(3).leaderId, 1);
});

test('without pre-vote a rejoining node bumps the term (the control for the test above)', () => {
  const c = new SimCluster({ size: 3, seed: 4, syncDisk: true, config: { preVote: false } });
  elect(c, 1);
  const term = c.core(1).term;
  c.isolate(3);
  for (let i = 0; i < 100; i++) { c.tickAll(); c.stabilize(); }
  assert.ok(c.core(3).term > term);
});

test('check-quorum: a leader cut off from the majority steps down', () => {
  const c = new SimCluster({ size: 3, seed: 5, syncDisk: true });
  elect(c, 1);
  c.isolate(1);
  // the first CheckQuorum round counts the followers active (as at election); the second finds them gone
  for (let i = 0; i < 20; i++) { c.tick(1); c.stabilize(); }
  assert.equal(c.core(1).role, 'follower');
  assert.equal(c.core(1).leaderId, -1);
  // the other two elect a new leader among themselves
  for (let i = 0; i < 60 && c.leaderIds().length === 0; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.leaderIds().length, 1);
  assert.notEqual(c.leaderIds()[0], 1);
});

test('a healthy follower ignores vote requests while it hears from its leader (leader lease)', () => {
  const c = new SimCluster({ size: 3, seed: 6, syncDisk: true, config: { preVote: false } });
  elect(c, 1);
  const term = c.core(1).term;
  c.core(3).campaign(false); // a forced candidate (e.g. a stale timer)
  c.stabilize();
  assert.equal(c.core(2).term, term, 'node 2 did not take the higher term while in lease');
  assert.equal(c.core(1).role, 'leader');
});

test('log repair: a diverging follower is truncated and caught up, backtracking by epoch', () => {
  const c = new SimCluster({ size: 3, seed: 7, syncDisk: true });
  elect(c, 1);
  for (let i = 0; i < 3; i++) c.propose(1, 2);
  c.stabilize();
  assert.equal(c.core(2).highWatermark, 6n);
  // node 1 writes 20 entries nobody else sees
  c.isolate(1);
  for (let i = 0; i < 20; i++) c.propose(1, 1);
  c.stabilize();
  assert.equal(c.core(1).logEndOffset, 26n);
  // the others move on in a later epoch
  for (let i = 0; i < 60 && c.leaderIds().length < 2; i++) { c.tick(2); c.tick(3); c.stabilize(); }
  const l2 = c.leaderIds().find((id) => id !== 1)!;
  assert.ok(l2 === 2 || l2 === 3);
  // l2's log [0, 6) was all committed: it appends no LeaderChange entry
  assert.equal(c.core(l2).logEndOffset, 6n);
  for (let i = 0; i < 5; i++) c.propose(l2, 3);
  c.stabilize();
  const hw = c.core(l2).highWatermark;
  assert.equal(hw, 6n + 15n);
  c.heal();
  let rejections = 0;
  const rejectCounter = (m: RaftMessage): boolean => { if (m.type === 'appendResponse' && !m.success && m.to === l2 && m.from === 1) rejections++; return true; };
  for (let i = 0; i < 5; i++) { c.tickAll(); deliverWhere(c, rejectCounter); c.stabilize(); }
  assert.equal(c.core(1).role, 'follower');
  assert.equal(c.core(1).logEndOffset, c.core(l2).logEndOffset);
  assert.equal(c.core(1).highWatermark, hw);
  assert.ok(rejections <= 2, `backtracking took ${rejections} rejections (one per epoch, not per entry)`);
  c.checkLogs();
});

test('previous-term rule: an old-epoch entry on a majority is not committed before an entry of the new epoch', () => {
  // one entry per append so the test can deliver the old entry without the new LeaderChange
  const c = new SimCluster({ size: 3, seed: 8, syncDisk: true, config: { maxAppendBytes: 1 } });
  elect(c, 1);
  assert.equal(c.core(1).logEndOffset, 0n, 'an empty log gets no LeaderChange entry');
  c.propose(1, 1); // offset 0, committed on all
  c.stabilize();
  assert.equal(c.core(1).highWatermark, 1n);
  c.isolate(1);
  c.propose(1, 1); // offset 1, epoch of term 1, only on node 1
  c.stabilize();
  for (let i = 0; i < 20; i++) c.tick(1); // CheckQuorum: node 1 steps down
  c.stabilize();
  assert.equal(c.core(1).role, 'follower');
  c.heal();
  // node 1 (most up-to-date log) wins the next term; forced, as a TimeoutNow would
  c.core(1).campaign(true);
  c.process(1);
  for (let i = 0; i < 5 && c.leaderIds().length === 0; i++) deliverWhere(c, (m) => m.type === 'vote' || m.type === 'voteResponse');
  const l = c.core(1);
  assert.equal(l.role, 'leader');
  // node 1 holds X beyond its HW, so it appends a LeaderChange entry of its new epoch:
  // [A term1][X term1][LC term2]
  assert.equal(l.highWatermark, 1n);
  assert.equal(l.logEndOffset, 3n);
  assert.equal(l.epochAt(1n), 1);
  assert.equal(l.epochAt(2n), l.term);
  assert.ok(l.term > 1);
  // probes: deliver them and their answers, then only the append carrying X (offset 1)
  for (let round = 0; round < 5; round++) {
    deliverWhere(c, (m) => m.type === 'appendResponse' || (m.type === 'append' && (m.entries.length === 0 || m.entries[0]!.baseOffset === 1n)));
  }
  assert.equal(c.core(2).logEndOffset >= 2n || c.core(3).logEndOffset >= 2n, true, 'X reached a follower');
  assert.ok([...l.followerProgress().values()].some((p) => p.match >= 2n), 'the leader knows X is on a majority');
  assert.equal(l.highWatermark, 1n, 'X (previous term) must not commit by counting replicas');
  c.stabilize();
  assert.equal(l.highWatermark, 3n, 'X commits together with the new leader\'s entry');
});

test('a leader elected with its whole log committed appends nothing, and its HW moves only when a proposal commits', () => {
  const c = new SimCluster({ size: 3, seed: 12, syncDisk: true });
  elect(c, 1);
  c.propose(1, 2);
  c.stabilize();
  for (const id of c.ids) assert.equal(c.core(id).highWatermark, 2n, `node ${id} knows [0, 2) is committed`);
  c.crash(1);
  c.core(2).campaign(true); // as a TimeoutNow would (node 3 is still in its leader lease)
  c.stabilize();
  const l = c.core(2);
  assert.equal(l.role, 'leader');
  assert.ok(l.term > 1);
  assert.equal(l.logEndOffset, 2n, 'no LeaderChange entry');
  assert.deepEqual(l.epochStarts(), [{ epoch: 1, startOffset: 0n }], 'the new epoch has no entry in the log');
  assert.equal(c.core(3).logEndOffset, 2n);
  // heartbeats come and go: nothing is appended and the HW stays where it was
  for (let i = 0; i < 20; i++) { c.tick(2); c.tick(3); c.stabilize(); }
  assert.equal(l.role, 'leader');
  assert.equal(c.core(3).leaderId, 2);
  for (const id of [2, 3]) {
    assert.equal(c.core(id).logEndOffset, 2n, `node ${id} log end`);
    assert.equal(c.core(id).highWatermark, 2n, `node ${id} HW`);
  }
  // the crashed node comes back as a follower; still nothing is appended, and the idle leader can quiesce
  c.restart(1);
  for (let i = 0; i < 5; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(1).leaderId, 2);
  for (const id of c.ids) {
    assert.equal(c.core(id).logEndOffset, 2n, `node ${id} log end`);
    assert.equal(c.core(id).highWatermark, 2n, `node ${id} HW`);
  }
  assert.ok(l.quiescable, 'an idle leader with nothing to commit can quiesce');
  // a proposal goes right after the old epoch's entries, and the HW moves once it is on a majority
  assert.ok(c.propose(2, 1));
  assert.equal(l.logEndOffset, 3n);
  assert.equal(l.epochAt(2n), l.term);
  assert.equal(l.highWatermark, 2n, 'not on a majority yet');
  c.stabilize();
  for (const id of c.ids) assert.equal(c.core(id).highWatermark, 3n, `node ${id} HW`);
  c.checkLogs();
  for (const id of c.ids) c.checkAckedIn(id);
});

test('a leader with nothing to commit leaves a follower\'s stale tail uncommitted until its first proposal replaces it', () => {
  const c = new SimCluster({ size: 3, seed: 13, syncDisk: true });
  elect(c, 1);
  c.propose(1, 1);
  c.stabilize();
  // node 1 writes X at offset 1 that nobody else sees, then loses leadership
  c.isolate(1);
  c.propose(1, 1);
  c.stabilize();
  assert.equal(c.core(1).logEndOffset, 2n);
  c.crash(1);
  c.heal();
  c.core(2).campaign(true);
  c.stabilize();
  const l = c.core(2);
  assert.equal(l.role, 'leader');
  assert.equal(l.logEndOffset, 1n, 'node 2 knew [0, 1) committed: no LeaderChange entry');
  // node 1 comes back as a follower: its log agrees with the leader's below 1, X stays uncommitted
  c.restart(1);
  for (let i = 0; i < 5; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(1).role, 'follower');
  assert.equal(c.core(1).leaderId, 2);
  assert.equal(c.core(1).highWatermark, 1n);
  assert.equal(l.highWatermark, 1n);
  assert.equal(c.committedEnd, 1n, 'X was never committed anywhere');
  // the leader's first proposal takes offset 1 in its epoch: node 1 drops X for it
  assert.ok(c.propose(2, 1));
  c.stabilize();
  for (const id of c.ids) {
    assert.equal(c.core(id).logEndOffset, 2n, `node ${id} log end`);
    assert.equal(c.core(id).highWatermark, 2n, `node ${id} HW`);
    assert.equal(c.core(id).epochAt(1n), l.term, `node ${id} holds the new entry at 1`);
  }
  c.checkLogs();
  for (const id of c.ids) c.checkAckedIn(id);
});

test('a leader elected with an uncommitted tail appends exactly one LeaderChange entry of its epoch, and the tail commits with it', () => {
  const c = new SimCluster({
    size: 3, seed: 14, syncDisk: true,
    config: { leaderChangeEntry: (base, epoch, leader) => ({ data: Buffer.from(`LC@${base}/${epoch}/${leader}`), recordCount: 1 }) },
  });
  elect(c, 1);
  assert.equal(c.core(1).logEndOffset, 0n);
  c.propose(1, 1);
  c.stabilize();
  assert.equal(c.core(1).highWatermark, 1n);
  // X (2 offsets) reaches node 2, but node 1 never hears the ack and node 3 never sees X
  c.blocked.add('1>3'); c.blocked.add('2>1');
  c.propose(1, 2);
  c.stabilize();
  assert.equal(c.core(2).logEndOffset, 3n);
  assert.equal(c.core(2).highWatermark, 1n, 'node 2 holds X but does not know it committed');
  c.crash(1);
  c.heal();
  c.core(2).campaign(true);
  c.process(2);
  for (let i = 0; i < 5 && c.leaderIds().length === 0; i++) deliverWhere(c, (m) => m.type === 'vote' || m.type === 'voteResponse');
  const l = c.core(2);
  assert.equal(l.role, 'leader');
  const term = l.term;
  assert.ok(term > 1);
  // exactly one new entry, one record, of the new epoch, right after the tail
  assert.equal(l.logEndOffset, 4n);
  assert.deepEqual(c.node(2).log.filter((e) => e.epoch === term).map((e) => [e.baseOffset, e.lastOffset, e.data.toString()]), [[3n, 3n, `LC@3/${term}/2`]]);
  assert.equal(l.highWatermark, 1n);
  c.stabilize();
  for (const id of [2, 3]) {
    assert.equal(c.core(id).highWatermark, 4n, `node ${id} HW: X commits with the LeaderChange entry`);
    assert.deepEqual(c.node(id).log.map((e) => [e.baseOffset, e.epoch]), [[0n, 1], [1n, 1], [3n, term]]);
  }
  assert.equal(c.committedEnd, 4n);
  c.checkLogs();
});

test('transfer leadership to a lagging replica catches it up first', () => {
  const c = new SimCluster({ size: 3, seed: 9, syncDisk: true });
  elect(c, 1);
  c.isolate(3);
  for (let i = 0; i < 10; i++) c.propose(1, 1);
  c.stabilize();
  assert.equal(c.core(3).logEndOffset, 0n);
  c.heal();
  c.core(1).transferLeadership(3);
  assert.equal(c.propose(1, 1), false, 'proposals are refused while transferring');
  // the probe lost during the partition is retried on the next heartbeat
  for (let i = 0; i < 10 && c.core(3).role !== 'leader'; i++) { c.tickAll(); c.stabilize(); }
  assert.equal(c.core(3).role, 'leader');
  assert.equal(c.core(1).role, 'follower');
  assert.equal(c.core(1).leaderId, 3);
  c.stabilize();
  // node 3 was caught up with all 10 entries and learnt they were committed before it took over,
  // so it holds the whole log and appends no LeaderChange entry
  assert.equal(c.core(3).logEndOffset, 10n);
  assert.equal(c.core(3).highWatermark, 10n);
  c.checkAckedIn(3);
  // and it takes writes at once, right after the old leader's last offset
  assert.ok(c.propose(3, 1));
  c.stabilize();
  for (const id of c.ids) assert.equal(c.core(id).highWatermark, 11n, `node ${id} HW`);
  c.checkLogs();
  for (const id of c.ids) c.checkAckedIn(id);
});

test('a transfer that cannot finish is abandoned after an election timeout', () => {
  const c = new SimCluster({ size: 3, seed: 10, syncDisk: true });
  elect(c, 1);
  c.isolate(3);
  c.core(1).transferLeadership(3);
  assert.equal(c.core(1).leadTransferee, 3);
  for (let i = 0; i < 10; i++) { c.tick(1); c.tick(2); c.stabilize(); }
  assert.equal(c.core(1).role, 'leader');
  assert.equal(c.core(1).leadTransferee, -1);
  assert.ok(c.propose(1, 1));
});

test('a vote is not sent before it is durable, and a crash before that loses it harmlessly', () => {
  const c = new SimCluster({ size: 3, seed: 11 });
  c.core(1).campaign(false);
  c.process(1);
  while (c.completeDisk(1));
  // pre-vote round
  deliverWhere(c, (m) => m.type === 'vote');
  while (c.completeDisk(2)); while (c.completeDisk(3));
  deliverWhere(c, (m) => m.type === 'voteResponse');
  while (c.completeDisk(1));
  // real vote requests now in flight; node 2 handles one but crashes before its disk write
  assert.equal(deliverWhere(c, (m) => m.type === 'vote' && !m.pre && m.to === 2), 1);
  assert.equal(c.inflight.filter((f) => f.msg.type === 'voteResponse' && f.from === 2).length, 0, 'no vote before fsync');
  c.crash(2); c.restart(2);
  assert.equal(c.core(2).votedForId, -1);
  c.stabilize();
  assert.deepEqual(c.leaderIds(), [1]);
});

test('commitNotify: an eager leader sends a heartbeat with each new commit, a lazy one tells followers with its next append or tick', () => {
  const heartbeatsSent = (c: SimCluster, from: number): number => c.inflight.filter((f) => f.msg.type === 'heartbeat' && f.msg.from === from).length;
  for (const mode of ['eager', 'lazy'] as const) {
    const c = new SimCluster({ size: 3, seed: 21, syncDisk: true, config: { commitNotify: mode } });
    elect(c, 1);
    assert.ok(c.propose(1, 1));
    // the appends and their answers only: the leader commits on the first answer
    deliverWhere(c, (m) => m.type === 'append');
    deliverWhere(c, (m) => m.type === 'appendResponse');
    assert.equal(c.core(1).highWatermark, c.core(1).logEndOffset, `${mode}: committed on the leader`);
    const end = c.core(1).logEndOffset;
    if (mode === 'eager') {
      assert.equal(heartbeatsSent(c, 1), 2, 'eager: one heartbeat per follower carries the commit');
      c.stabilize();
      for (const id of [2, 3]) assert.equal(c.core(id).highWatermark, end, `eager: node ${id} learns the commit without a tick`);
      continue;
    }
    assert.equal(heartbeatsSent(c, 1), 0, 'lazy: no message of its own for a commit');
    c.stabilize();
    for (const id of [2, 3]) assert.ok(c.core(id).highWatermark < end, `lazy: node ${id} has not heard of the commit yet`);
    // the next append carries it
    assert.ok(c.propose(1, 1));
    deliverWhere(c, (m) => m.type === 'append');
    for (const id of [2, 3]) assert.equal(c.core(id).highWatermark, end, `lazy: node ${id} learns the commit with the next append`);
    c.stabilize();
    const end2 = c.core(1).logEndOffset;
    assert.equal(c.core(1).highWatermark, end2);
    assert.ok(!c.core(1).quiescable, 'lazy: a leader whose followers have not heard of its last commit does not quiesce');
    // and the tick's heartbeat carries the last one
    c.tick(1);
    c.stabilize();
    for (const id of [2, 3]) assert.equal(c.core(id).highWatermark, end2, `lazy: node ${id} learns the last commit at the leader's tick`);
    assert.ok(c.core(1).quiescable);
  }
});
