import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { HardStateStore } from '../../src/storage/hard-state.js';
import { RaftGroup, splitByEpoch, type RaftTransport } from '../../src/raft/group.js';
import { encodeSingleRecordBatch } from '../../src/raft/leader-change.js';
import { membershipBatch, membershipOfBatch } from '../../src/raft/membership.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/raft/wire.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import type { MembershipChange, NodeId, RaftMessage } from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

function batch(value: string): Buffer {
  return encodeSingleRecordBatch({ baseOffset: 0n, epoch: 0, timestamp: 1n, key: null, value: Buffer.from(value), control: false });
}

function waitFor(groups: RaftGroup[], pred: () => boolean, what: string, ms = 10000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => { if (pred()) { done(); resolve(); } };
    const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const poll = setInterval(check, 5);
    const done = (): void => {
      clearTimeout(timer); clearInterval(poll);
      for (const g of groups) { g.off('role', check); g.off('highWatermark', check); }
    };
    for (const g of groups) { g.on('role', check); g.on('highWatermark', check); }
    check();
  });
}

test('a membership batch round-trips through the log reader and the wire', () => {
  const b = membershipBatch(7n, 3, { voters: [2, 3, 4], learners: [5] }, 1n);
  assert.deepEqual(membershipOfBatch(b, 0, b.length), { voters: [2, 3, 4], learners: [5] });
  const plain = batch('x');
  assert.equal(membershipOfBatch(plain, 0, plain.length), undefined);
  const entries = splitByEpoch(Buffer.concat([plain, b, plain]));
  assert.deepEqual(entries.map((e) => e.config), [undefined, { voters: [2, 3, 4], learners: [5] }, undefined]);
  const w = new Writer();
  const msgs: RaftMessage[] = [
    { type: 'append', term: 3, from: 1, to: 2, prevOffset: 6n, prevEpoch: 3, highWatermark: 5n, entries: [{ baseOffset: 7n, lastOffset: 7n, epoch: 3, data: b }] },
    { type: 'logStart', term: 3, from: 1, to: 2, logStartOffset: 40n, logStartEpoch: 2, prevEpoch: 2, membership: { voters: [1, 2, 3], learners: [4] } },
  ];
  encodeEnvelope(w, { v: 1, from: 1, quiesce: [], messages: msgs.map((message) => ({ groupId: 't-0', message })) });
  const back = decodeEnvelope(new Reader(w.toBuffer()));
  const app = back.messages[0]!.message;
  assert.equal(app.type, 'append');
  assert.deepEqual(app.type === 'append' && app.entries[0]!.config, { voters: [2, 3, 4], learners: [5] });
  assert.deepEqual(back.messages[1]!.message, msgs[1]);
});

test('real logs: [1,2,3] -> [2,3,4] with a new replica behind the log start; configuration and log survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-membership-'));
  const groups = new Map<NodeId, RaftGroup>();
  const logs = new Map<NodeId, PartitionLog>();
  const stores = new Map<NodeId, HardStateStore>();
  // every message goes through the wire encoding, as between brokers
  const transport = (from: NodeId): RaftTransport => ({
    send: (to: NodeId, groupId: string, m: RaftMessage) => {
      const w = new Writer();
      encodeEnvelope(w, { v: 1, from, quiesce: [], messages: [{ groupId, message: m }] });
      const decoded = decodeEnvelope(new Reader(w.toBuffer())).messages[0]!.message;
      setImmediate(() => groups.get(to)?.receive(from, decoded));
    },
  });
  const open = async (id: NodeId, voters: number[], learners: number[]): Promise<RaftGroup> => {
    const log = await PartitionLog.open(join(dir, `n${id}`, 't-0'));
    const hs = await HardStateStore.open(join(dir, `n${id}`, 'raft-state'));
    logs.set(id, log); stores.set(id, hs);
    const g = new RaftGroup({
      groupId: 't-0', nodeId: id, voters, log, hardStateStore: hs, transport: transport(id),
      random: new Random(200 + id), core: { campaignOnFirstTick: id === 1, electionTimeoutTicks: 20, learners },
    });
    groups.set(id, g);
    return g;
  };
  const stop = async (id: NodeId): Promise<void> => {
    await groups.get(id)!.close(); groups.delete(id);
    await logs.get(id)!.close(); logs.delete(id);
    await stores.get(id)!.close(); stores.delete(id);
  };
  const ticker = setInterval(() => { for (const g of groups.values()) g.tick(); }, 5);
  try {
    for (const id of [1, 2, 3]) await open(id, [1, 2, 3], []);
    const all = (): RaftGroup[] => [...groups.values()];
    await waitFor(all(), () => all().some((g) => g.isLeader), 'a leader').catch((e: unknown) => { throw new Error(`${String(e)} ${all().map((g) => `${g.role}/${g.leaderId}/${g.leaderEpoch}`).join(" ")}`); });
    let leader = all().find((g) => g.isLeader)!;
    if (leader !== groups.get(1)) {
      leader.transferLeadership(1);
      await waitFor(all(), () => groups.get(1)!.isLeader, 'leader 1');
      leader = groups.get(1)!;
    }
    for (let i = 0; i < 30; i++) await leader.propose(batch(`m${i}`));
    // DeleteRecords on the leader: what a new replica would need from 0 is gone
    await logs.get(1)!.deleteRecordsBefore(20n);
    const change = async (g: RaftGroup, c: MembershipChange): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        if (!g.membershipChangePending) {
          const r = g.changeMembership(c);
          if (r.ok) { await waitFor(all(), () => !g.membershipChangePending, 'the change commits'); return; }
          if (r.reason !== 'term_not_committed' && r.reason !== 'learner_behind') assert.fail(`${r.reason}: ${r.message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.fail(`change ${JSON.stringify(c)} never went through`);
    };
    await open(4, [1, 2, 3], [4]);
    await change(leader, { type: 'addLearner', node: 4 });
    await change(leader, { type: 'promote', node: 4 });
    assert.equal(logs.get(4)!.logStartOffset, 20n, 'the new replica restarted its log at the leader\'s log start');
    leader.transferLeadership(2);
    await waitFor(all(), () => groups.get(2)!.isLeader, 'leadership moves to 2');
    await change(groups.get(2)!, { type: 'remove', node: 1 });
    assert.deepEqual([...groups.get(2)!.membership.voters].sort(), [2, 3, 4]);
    await waitFor(all(), () => groups.get(1)!.membership.voters.includes(1) === false, 'node 1 learns it is out');
    await stop(1);
    const r = await groups.get(2)!.propose(batch('after the move'));
    await waitFor(all(), () => groups.get(4)!.highWatermark > r.lastOffset, 'node 4 commits');
    // node 4 restarts: its configuration comes from the hard-state store (its group was created as a learner)
    await stop(4);
    const g4 = await open(4, [1, 2, 3], [4]);
    assert.deepEqual([...g4.membership.voters].sort(), [2, 3, 4]);
    assert.deepEqual(g4.membership.learners, []);
    assert.equal(logs.get(4)!.logStartOffset, 20n);
    await groups.get(2)!.propose(batch('after the restart'));
    // with 3 down too, 2 and 4 are a majority of [2,3,4]
    await stop(3);
    const last = await groups.get(2)!.propose(batch('with 3 down'));
    await waitFor(all(), () => g4.highWatermark > last.lastOffset, 'commit with 2 of 3');
    const read = await logs.get(4)!.read(20n, 1 << 20);
    assert.equal(read.records.readBigInt64BE(0), 20n);
  } finally {
    clearInterval(ticker);
    for (const id of [...groups.keys()]) await stop(id);
    rmSync(dir, { recursive: true, force: true });
  }
});
