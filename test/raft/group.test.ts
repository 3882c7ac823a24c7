import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { PartitionLog } from '../../src/storage/log.js';
import { HardStateStore } from '../../src/storage/hard-state.js';
import { NotLeaderError, RaftGroup, countOffsets, splitByEpoch, type RaftTransport } from '../../src/raft/group.js';
import { encodeSingleRecordBatch } from '../../src/raft/leader-change.js';
import type { NodeId, RaftMessage } from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';
import { pino } from 'pino';

function batch(value: string): Buffer {
  return encodeSingleRecordBatch({ baseOffset: 0n, epoch: 0, timestamp: 1n, key: null, value: Buffer.from(value), control: false });
}

/** Resolve once pred() holds, re-checking on every role / HW event of the given groups. */
function waitFor(groups: RaftGroup[], pred: () => boolean, what: string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => { if (pred()) { done(); resolve(); } };
    const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const done = (): void => {
      clearTimeout(timer);
      for (const g of groups) { g.off('role', check); g.off('highWatermark', check); }
    };
    for (const g of groups) { g.on('role', check); g.on('highWatermark', check); }
    check();
  });
}

test('countOffsets and splitByEpoch read batch headers', () => {
  const a = batch('a'); a.writeBigInt64BE(5n, 0); a.writeInt32BE(1, 12);
  const b = batch('b'); b.writeBigInt64BE(6n, 0); b.writeInt32BE(1, 12);
  const c = batch('c'); c.writeBigInt64BE(7n, 0); c.writeInt32BE(2, 12);
  const all = Buffer.concat([a, b, c]);
  assert.equal(countOffsets(all), 3);
  const entries = splitByEpoch(Buffer.concat([all, c.subarray(0, 30)]));
  assert.deepEqual(entries.map((e) => [e.baseOffset, e.lastOffset, e.epoch, e.data.length]), [[5n, 6n, 1, a.length + b.length], [7n, 7n, 2, c.length]]);
});

test('a single-voter group on a real log: propose commits, and the HW survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-'));
  try {
    const transport: RaftTransport = { send: () => { throw new Error('a single voter sends nothing'); } };
    const open = async (): Promise<{ g: RaftGroup; log: PartitionLog; hs: HardStateStore }> => {
      const log = await PartitionLog.open(join(dir, 't-0'));
      const hs = await HardStateStore.open(join(dir, 'raft-state'));
      const g = new RaftGroup({ groupId: 't-0', nodeId: 1, voters: [1], log, hardStateStore: hs, transport, random: new Random(1), core: { campaignOnFirstTick: true } });
      return { g, log, hs };
    };
    let { g, log, hs } = await open();
    g.tick();
    await waitFor([g], () => g.isLeader, 'leadership');
    assert.equal(g.leaderEpoch, 1);
    assert.equal(g.logEndOffset, 0n, 'a new partition gets no LeaderChange batch');
    const r1 = await g.propose(Buffer.concat([batch('x'), batch('y')]));
    assert.deepEqual(r1, { baseOffset: 0n, lastOffset: 1n }); // a new partition's first record is at offset 0
    const a = g.append(batch('z'));
    assert.equal(a.baseOffset, 2n);
    await a.committed;
    assert.equal(g.highWatermark, 3n);
    assert.ok(log.flushedOffset >= 3n);
    const read = await log.read(0n, 1 << 20);
    assert.equal(countOffsets(read.records), 3);
    assert.equal(read.records.readBigInt64BE(0), 0n);
    assert.equal(read.records.readInt32BE(12), 1, 'leader epoch patched into the batch');
    await g.close(); await log.close(); await hs.close();

    ({ g, log, hs } = await open());
    assert.equal(g.highWatermark, 3n, 'HW restored from the hard state');
    assert.equal(g.logEndOffset, 3n);
    assert.equal(g.leaderEpoch, 1);
    for (let i = 0; i < 30 && !g.isLeader; i++) { g.tick(); await sleepMs(1); }
    await waitFor([g], () => g.isLeader, 'leadership after restart');
    assert.equal(g.leaderEpoch, 2);
    const r2 = await g.propose(batch('after restart'));
    assert.equal(r2.baseOffset, 3n);
    await g.close(); await log.close(); await hs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('three replicas over an in-process transport: replicate, commit, transfer leadership', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-'));
  const groups = new Map<NodeId, RaftGroup>();
  const logs: PartitionLog[] = [];
  const stores: HardStateStore[] = [];
  try {
    const transport = (from: NodeId): RaftTransport => ({
      send: (to: NodeId, _groupId: string, m: RaftMessage) => { setImmediate(() => groups.get(to)?.receive(from, m)); },
    });
    for (const id of [1, 2, 3]) {
      const log = await PartitionLog.open(join(dir, `n${id}`, 't-0'));
      const hs = await HardStateStore.open(join(dir, `n${id}`, 'raft-state'));
      logs.push(log); stores.push(hs);
      groups.set(id, new RaftGroup({
        groupId: 't-0', nodeId: id, voters: [1, 2, 3], log, hardStateStore: hs, transport: transport(id),
        random: new Random(100 + id), core: { campaignOnFirstTick: id === 2, electionTimeoutTicks: 20 },
      }));
    }
    const all = [...groups.values()];
    const leaderOf = (): RaftGroup | undefined => all.find((g) => g.isLeader);
    const ticker = setInterval(() => { for (const g of all) g.tick(); }, 5);
    try {
      await waitFor(all, () => leaderOf() !== undefined && all.every((g) => g.leaderId === leaderOf()!.leaderId), 'a leader known by all');
      const leader = leaderOf()!;
      assert.equal(leader.leaderId, 2, 'the preferred replica campaigned first and won');
      assert.equal(leader.logEndOffset, 0n, 'a new partition gets no LeaderChange batch');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => leader.propose(batch(`m${i}`))));
      assert.deepEqual(results.map((r) => r.baseOffset), Array.from({ length: 20 }, (_, i) => BigInt(i)));
      const last = results[results.length - 1]!.lastOffset;
      await waitFor(all, () => all.every((g) => g.highWatermark > last), 'HW on every replica');
      for (const log of logs) {
        const r = await log.read(0n, 1 << 20);
        assert.equal(countOffsets(r.records), 20);
        assert.equal(r.records.readBigInt64BE(0), 0n);
      }
      // a follower refuses writes and names the leader
      const follower = groups.get(1)!;
      assert.throws(() => follower.append(batch('no')), (e: unknown) => e instanceof NotLeaderError && e.leaderId === 2);
      // move leadership to node 3
      leader.transferLeadership(3);
      await waitFor(all, () => groups.get(3)!.isLeader && all.every((g) => g.leaderId === 3), 'transfer to node 3');
      assert.throws(() => leader.append(batch('old leader')), (e: unknown) => e instanceof NotLeaderError && e.leaderId === 3);
      const r = await groups.get(3)!.propose(batch('on the new leader'));
      assert.ok(r.baseOffset > last);
    } finally {
      clearInterval(ticker);
    }
  } finally {
    for (const g of groups.values()) await g.close();
    for (const l of logs) await l.close();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** [baseOffset, lastOffset, epoch, isControl] of every batch in a buffer read from the log. */
function batchHeaders(records: Buffer): [bigint, bigint, number, boolean][] {
  const out: [bigint, bigint, number, boolean][] = [];
  for (let pos = 0; pos + 61 <= records.length;) {
    const base = records.readBigInt64BE(pos);
    out.push([base, base + BigInt(records.readInt32BE(pos + 23)), records.readInt32BE(pos + 12), (records.readInt16BE(pos + 21) & 0x20) !== 0]);
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return out;
}

test('a single voter restarted with its whole log committed becomes leader without appending; with an uncommitted tail it appends one LeaderChange batch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-'));
  try {
    const transport: RaftTransport = { send: () => { throw new Error('a single voter sends nothing'); } };
    const open = async (): Promise<{ g: RaftGroup; log: PartitionLog; hs: HardStateStore }> => {
      const log = await PartitionLog.open(join(dir, 't-0'));
      const hs = await HardStateStore.open(join(dir, 'raft-state'));
      const g = new RaftGroup({ groupId: 't-0', nodeId: 1, voters: [1], log, hardStateStore: hs, transport, random: new Random(7), core: { campaignOnFirstTick: true } });
      return { g, log, hs };
    };
    const becomeLeader = async (g: RaftGroup): Promise<void> => {
      for (let i = 0; i < 30 && !g.isLeader; i++) { g.tick(); await sleepMs(1); }
      await waitFor([g], () => g.isLeader, 'leadership');
    };
    let { g, log, hs } = await open();
    await becomeLeader(g);
    await g.propose(Buffer.concat([batch('a'), batch('b')]));
    await g.close(); await log.close(); await hs.close();

    // 1. HW persisted == log end: the new leader appends nothing, its HW stays put
    ({ g, log, hs } = await open());
    assert.equal(hs.get('t-0')?.commitOffset, '2');
    assert.equal(g.logEndOffset, 2n);
    assert.equal(g.highWatermark, 2n);
    await becomeLeader(g);
    assert.equal(g.leaderEpoch, 2);
    // the core appends a LeaderChange entry (if any) as it becomes leader, so this is final
    assert.equal(g.logEndOffset, 2n, 'no LeaderChange entry');
    assert.equal(g.highWatermark, 2n);
    // the next write follows the old epoch's records directly, and the log holds no control batch
    assert.equal((await g.propose(batch('c'))).baseOffset, 2n);
    assert.equal(g.highWatermark, 3n);
    assert.deepEqual(batchHeaders((await log.read(0n, 1 << 20)).records), [[0n, 0n, 1, false], [1n, 1n, 1, false], [2n, 2n, 2, false]]);
    await g.close(); await log.close(); await hs.close();

    // 2. HW persisted < log end (a crash between the log flush and the hard-state write): the new
    //    leader appends exactly one LeaderChange control batch of its epoch, and the tail commits with it
    const stored = (await HardStateStore.open(join(dir, 'raft-state')));
    const prev = stored.get('t-0')!;
    await stored.set('t-0', { ...prev, commitOffset: '1' });
    await stored.close();
    ({ g, log, hs } = await open());
    assert.equal(g.highWatermark, 1n);
    assert.equal(g.logEndOffset, 3n);
    await becomeLeader(g);
    assert.equal(g.leaderEpoch, 3);
    assert.equal(g.logEndOffset, 4n, 'exactly one LeaderChange entry');
    await waitFor([g], () => g.highWatermark === 4n, 'the old tail and the LeaderChange batch commit');
    assert.deepEqual(batchHeaders((await log.read(0n, 1 << 20)).records),
      [[0n, 0n, 1, false], [1n, 1n, 1, false], [2n, 2n, 2, false], [3n, 3n, 3, true]]);
    assert.equal((await g.propose(batch('d'))).baseOffset, 4n);
    await g.close(); await log.close(); await hs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flush policy: by default every append is fsync\'d before it commits; flush.messages / flush.ms let commits run ahead of the fsync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-flush-'));
  try {
    const transport: RaftTransport = { send: () => { throw new Error('a single voter sends nothing'); } };
    const log = await PartitionLog.open(join(dir, 't-0'));
    const hs = await HardStateStore.open(join(dir, 'raft-state'));
    const g = new RaftGroup({ groupId: 't-0', nodeId: 1, voters: [1], log, hardStateStore: hs, transport, random: new Random(3), core: { campaignOnFirstTick: true } });
    g.tick();
    await waitFor([g], () => g.isLeader, 'leadership');
    await g.propose(batch('durable'));
    assert.equal(log.flushedOffset, log.logEndOffset, 'default: committed means fsync\'d');

    g.setFlushPolicy({ messages: 3n, ms: 2 ** 62 });
    const before = log.flushedOffset;
    await g.propose(batch('a'));
    await g.propose(batch('b'));
    assert.equal(g.highWatermark, before + 2n, 'committed without an fsync');
    assert.equal(log.flushedOffset, before, 'two appends: below flush.messages, not fsync\'d');
    await g.propose(batch('c'));
    assert.equal(log.flushedOffset, before + 3n, 'the third unflushed offset triggers the fsync');

    g.setFlushPolicy({ messages: 1000n, ms: 20 });
    await g.propose(batch('d'));
    assert.equal(log.flushedOffset, before + 3n, 'not fsync\'d at commit');
    const deadline = Date.now() + 5000;
    while (log.flushedOffset < log.logEndOffset && Date.now() < deadline) await sleepMs(5);
    assert.equal(log.flushedOffset, log.logEndOffset, 'fsync\'d by flush.ms');
    assert.equal(BigInt(hs.get('t-0')?.commitOffset ?? '0') <= log.flushedOffset, true, 'the stored commit offset never exceeds the durable log');
    await g.close(); await log.close(); await hs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a commit-offset-only hard state is not waited for: written once within a second or on close, while term and vote are written before the group acts on them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-'));
  try {
    const transport: RaftTransport = { send: () => { throw new Error('a single voter sends nothing'); } };
    const log = await PartitionLog.open(join(dir, 't-0'));
    const hs = await HardStateStore.open(join(dir, 'raft-state'));
    const writes: { term: number; votedFor: number; commitOffset?: string }[] = [];
    const counting = { get: (g: string) => hs.get(g), set: (g: string, s: { term: number; votedFor: number; commitOffset?: string }) => { writes.push({ ...s }); return hs.set(g, s); } };
    const g = new RaftGroup({ groupId: 't-0', nodeId: 1, voters: [1], log, hardStateStore: counting, transport, random: new Random(3), core: { campaignOnFirstTick: true } });
    for (let i = 0; i < 30 && !g.isLeader; i++) { g.tick(); await sleepMs(1); }
    await waitFor([g], () => g.isLeader, 'leadership');
    assert.ok(writes.some((w) => w.term === 1 && w.votedFor === 1), 'the vote for itself was written before it led');
    const before = writes.length;
    const started = performance.now();
    for (let i = 0; i < 20; i++) await g.propose(batch(`v${i}`));
    // one write per second at most, however long a loaded machine takes for the 20 (before: one per commit)
    const allowed = Math.ceil((performance.now() - started) / 1000) + 1;
    assert.ok(writes.length - before <= allowed, `20 commits wrote the hard state ${writes.length - before} times in ${allowed - 1} s`);
    await g.close();
    assert.equal(hs.get('t-0')?.commitOffset, String(log.logEndOffset), 'close writes the last commit offset');
    await log.close(); await hs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message the core refuses is dropped and logged once a second; the group goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-raft-'));
  try {
    const lines: { msg: string; refused: number; type: string }[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg: string; refused: number; type: string }); } });
    const transport: RaftTransport = { send: () => undefined };
    const log = await PartitionLog.open(join(dir, 't-0'));
    const hs = await HardStateStore.open(join(dir, 'raft-state'));
    const g = new RaftGroup({ groupId: 't-0', nodeId: 1, voters: [1, 2], log, hardStateStore: hs, transport, random: new Random(3), logger });
    const core = (g as unknown as { core: { step(m: RaftMessage): void } }).core;
    const step = core.step.bind(core);
    let refuse = true;
    const stepped: string[] = [];
    core.step = (m) => { stepped.push(m.type); if (refuse) throw new Error('invariant: refused for the test'); step(m); };
    const heartbeat: RaftMessage = { type: 'heartbeat', term: 1, from: 2, to: 1, highWatermark: 0n };
    for (let i = 0; i < 3; i++) assert.doesNotThrow(() => g.receive(2, heartbeat));
    assert.equal(lines.length, 1, 'three refusals within a second: one line');
    assert.equal(lines[0]!.msg, 'raft: message refused by the core; dropped');
    assert.equal(lines[0]!.type, 'heartbeat');
    refuse = false;
    g.receive(2, heartbeat);
    assert.equal(stepped.length, 4, 'later messages still reach the core');
    await waitFor([g], () => g.leaderId === 2, 'the heartbeat taken after the refusals');
    await g.close(); await log.close(); await hs.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit across an event-loop turn: entries queued after the persist worker started, within the same turn, share its write and fsync', async () => {
  const { MemLog, MemHardState } = await import('./mem-log.js');
  class CountingLog extends MemLog {
    flushes = 0;
    override flush(): Promise<bigint> { this.flushes++; return super.flush(); }
  }
  const log = new CountingLog();
  const transport: RaftTransport = { send: () => { throw new Error('a single voter sends nothing'); } };
  const g = new RaftGroup({ groupId: 'g', nodeId: 1, voters: [1], log, hardStateStore: new MemHardState(), transport, random: new Random(3), core: { campaignOnFirstTick: true } });
  g.tick();
  await waitFor([g], () => g.isLeader, 'leadership');
  await sleepMs(5); // the election's own writes are done
  const before = log.flushes;
  const a = g.append(batch('a'));
  // The pump runs in a microtask and starts the persist worker; b is appended after that, in the
  // same event-loop turn (before setImmediate callbacks run).
  await Promise.resolve();
  await Promise.resolve();
  const b = g.append(batch('b'));
  await Promise.all([a.committed, b.committed]);
  assert.equal(log.flushes - before, 1, 'one fsync for both entries');
  assert.equal(log.logEndOffset, b.lastOffset + 1n);
  await g.close();
});
