import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/util/log.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { ManualScheduler } from '../../src/groups/scheduler.js';
import { GroupShard, type GroupConfig, type JoinGroupInput, type OffsetsWrite } from '../../src/groups/shard.js';
import { decodeOffsetsRecord } from '../../src/groups/records.js';
import type { JoinResult } from '../../src/groups/group.js';

const CONFIG: GroupConfig = {
  groupMinSessionTimeoutMs: 1000, groupMaxSessionTimeoutMs: 60_000, groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 24 * 3600_000, offsetMetadataMaxBytes: 4096,
};

/** A ConsumerProtocolSubscription v0: int16 version, topics, null user data. */
function subscription(...topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) { const len = Buffer.alloc(2); len.writeInt16BE(t.length); parts.push(len, Buffer.from(t)); }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Harness { shard: GroupShard; clock: ManualScheduler; log: OffsetsWrite[]; failWrites: { on: boolean } }

function harness(config: Partial<GroupConfig> = {}): Harness {
  const clock = new ManualScheduler();
  const log: OffsetsWrite[] = [];
  const failWrites = { on: false };
  let n = 0;
  const shard = new GroupShard(0, async (records) => {
    await Promise.resolve();
    if (failWrites.on) throw new Error('write failed');
    log.push(...records);
  }, clock, { ...CONFIG, ...config }, (clientId) => `${clientId}-${++n}`, silentLogger);
  return { shard, clock, log, failWrites };
}

function joinReq(over: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId: 'g', memberId: '', groupInstanceId: null, clientId: 'c', clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t') }], requireKnownMemberId: true, ...over,
  };
}

/** KIP-394 two-step join; returns the pending JoinGroup of the member. */
async function joinNew(h: Harness, over: Partial<JoinGroupInput> = {}): Promise<{ memberId: string; result: Promise<JoinResult> }> {
  const first = await h.shard.join(joinReq(over));
  if (over.groupInstanceId != null) return { memberId: '', result: Promise.resolve(first) };
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  return { memberId: first.memberId, result: h.shard.join(joinReq({ ...over, memberId: first.memberId })) };
}

/** Builds a Stable group of `n` members; returns member ids (leader first) and the generation. */
async function stableGroup(h: Harness, n: number): Promise<{ ids: string[]; generation: number }> {
  const joins = [];
  for (let i = 0; i < n; i++) joins.push(await joinNew(h, { clientId: `c${i}` }));
  h.clock.advance(0);
  const results = await Promise.all(joins.map((j) => j.result));
  const leader = results.find((r) => r.members.length > 0)!;
  const ids = [leader.memberId, ...results.filter((r) => r !== leader).map((r) => r.memberId)];
  const syncs = ids.map((id) => h.shard.sync({
    groupId: 'g', generationId: leader.generationId, memberId: id, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
    assignments: id === leader.memberId ? ids.map((m) => ({ memberId: m, assignment: Buffer.from(`a-${m}`) })) : [],
  }));
  const synced = await Promise.all(syncs);
  for (const [i, s] of synced.entries()) assert.deepEqual([s.errorCode, s.assignment.toString()], [0, `a-${ids[i]}`]);
  return { ids, generation: leader.generationId };
}

describe('group shard: join and sync', () => {
  let h: Harness;
  beforeEach(() => { h = harness(); });

  it('asks a new member for its id first (KIP-394), then completes the first generation', async () => {
    const { memberId, result } = await joinNew(h);
    assert.match(memberId, /^c-\d+$/);
    h.clock.advance(0);
    const r = await result;
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, memberId);
    assert.equal(r.protocolName, 'range');
    assert.deepEqual(r.members.map((m) => m.memberId), [memberId]);
    assert.equal(h.shard.describe('g').state, 'CompletingRebalance');
  });

  it('gives the leader every member, followers none, and each member its own assignment', async () => {
    const { ids, generation } = await stableGroup(h, 3);
    assert.equal(generation, 1);
    const d = h.shard.describe('g');
    assert.equal(d.state, 'Stable');
    assert.deepEqual(d.members.map((m) => m.assignment.toString()).sort(), ids.map((id) => `a-${id}`).sort());
    // The group, with its assignment, is in the log the way Kafka writes it.
    const rec = decodeOffsetsRecord(h.log.at(-1)!.key, h.log.at(-1)!.value);
    assert.ok(rec?.type === 'group' && rec.value !== null);
    assert.equal(rec.value.generation, 1);
    assert.equal(rec.value.members.length, 3);
  });

  it('waits group.initial.rebalance.delay.ms for more members, extending while they arrive', async () => {
    h = harness({ groupInitialRebalanceDelayMs: 3000 });
    const a = await joinNew(h, { clientId: 'a' });
    h.clock.advance(2000);
    const b = await joinNew(h, { clientId: 'b' });
    h.clock.advance(1000); // first delay over; a member arrived meanwhile, so it extends
    let done = false;
    void a.result.then(() => { done = true; });
    await settle();
    assert.equal(done, false);
    h.clock.advance(3000);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    assert.equal(ra.generationId, 1);
    assert.equal(rb.generationId, 1);
  });

  it('selects the protocol every member supports that most prefer', async () => {
    const a = await joinNew(h, { clientId: 'a', protocols: [{ name: 'x', metadata: subscription('t') }, { name: 'y', metadata: subscription('t') }] });
    const b = await joinNew(h, { clientId: 'b', protocols: [{ name: 'y', metadata: subscription('t') }, { name: 'x', metadata: subscription('t') }] });
    const c = await joinNew(h, { clientId: 'c', protocols: [{ name: 'y', metadata: subscription('t') }] });
    h.clock.advance(0);
    for (const r of await Promise.all([a.result, b.result, c.result])) assert.equal(r.protocolName, 'y');
    const bad = await h.shard.join(joinReq({ clientId: 'd', protocols: [{ name: 'z', metadata: Buffer.alloc(0) }] }));
    assert.equal(bad.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('rejects session timeouts outside the broker bounds and unknown member ids', async () => {
    assert.equal((await h.shard.join(joinReq({ sessionTimeoutMs: 10 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await h.shard.join(joinReq({ memberId: 'nobody' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(h.shard.list().length, 0, 'failed joins leave no group behind');
  });

  it('answers SyncGroup with ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and INCONSISTENT_GROUP_PROTOCOL checks', async () => {
    const { ids, generation } = await stableGroup(h, 1);
    const base = { groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] };
    assert.equal((await h.shard.sync({ ...base, generationId: 7 })).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await h.shard.sync({ ...base, memberId: 'x' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await h.shard.sync({ ...base, protocolName: 'other' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await h.shard.sync(base)).assignment.toString(), `a-${ids[0]}`);
  });
});

describe('group shard: membership over time', () => {
  let h: Harness;
  beforeEach(() => { h = harness(); });

  it('heartbeats: NONE when stable, REBALANCE_IN_PROGRESS once a member joins, errors for strangers', async () => {
    const { ids, generation } = await stableGroup(h, 2);
    assert.equal(h.shard.heartbeat('g', ids[0]!, null, generation), ErrorCode.NONE);
    assert.equal(h.shard.heartbeat('g', ids[0]!, null, generation + 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(h.shard.heartbeat('g', 'x', null, generation), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(h.shard.heartbeat('nogroup', 'x', null, generation), ErrorCode.UNKNOWN_MEMBER_ID);
    const third = await joinNew(h, { clientId: 'late' });
    assert.equal(h.shard.heartbeat('g', ids[1]!, null, generation), ErrorCode.REBALANCE_IN_PROGRESS);
    // Everyone rejoins: the next generation completes without waiting for the rebalance timeout.
    const rejoins = ids.map((id) => h.shard.join(joinReq({ memberId: id })));
    const all = await Promise.all([third.result, ...rejoins]);
    assert.ok(all.every((r) => r.generationId === generation + 1 && r.errorCode === 0));
  });

  it('evicts a member whose session expires and rebalances the rest', async () => {
    const { ids, generation } = await stableGroup(h, 2);
    for (let t = 0; t < 12; t++) { h.clock.advance(1000); h.shard.heartbeat('g', ids[0]!, null, generation); }
    assert.deepEqual(h.shard.describe('g').members.map((m) => m.memberId), [ids[0]]);
    assert.equal(h.shard.describe('g').state, 'PreparingRebalance');
    assert.equal(h.shard.heartbeat('g', ids[0]!, null, generation), ErrorCode.REBALANCE_IN_PROGRESS);
    const r = await h.shard.join(joinReq({ memberId: ids[0]! }));
    assert.deepEqual([r.errorCode, r.generationId, r.leader], [0, generation + 1, ids[0]]);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const { ids, generation } = await stableGroup(h, 2);
    // A follower rejoining with the same metadata would just get the current generation back;
    // new metadata (another topic) makes it a rebalance.
    const rejoin = h.shard.join(joinReq({ memberId: ids[1]!, rebalanceTimeoutMs: 5000, protocols: [{ name: 'range', metadata: subscription('t', 'u') }] }));
    h.clock.advance(29_999);
    h.shard.heartbeat('g', ids[0]!, null, generation); // heartbeats do not count as rejoining
    h.clock.advance(1);
    const r = await rejoin;
    assert.deepEqual([r.errorCode, r.generationId, r.leader, r.members.map((m) => m.memberId)], [0, generation + 1, ids[1], [ids[1]]]);
    assert.equal(h.shard.heartbeat('g', ids[0]!, null, generation), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes members that never SyncGroup within the rebalance timeout', async () => {
    const a = await joinNew(h, { clientId: 'a' });
    const b = await joinNew(h, { clientId: 'b' });
    h.clock.advance(0);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    const leader = ra.members.length > 0 ? ra : rb;
    const follower = leader === ra ? rb : ra;
    const sync = h.shard.sync({ groupId: 'g', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.equal((await sync).errorCode, 0);
    for (let t = 0; t < 30; t++) { h.clock.advance(1000); h.shard.heartbeat('g', leader.memberId, null, 1); h.shard.heartbeat('g', follower.memberId, null, 1); }
    assert.deepEqual(h.shard.describe('g').members.map((m) => m.memberId), [leader.memberId]);
  });

  it('LeaveGroup removes members by id and by group.instance.id, per member errors', async () => {
    const { ids } = await stableGroup(h, 2);
    const r = h.shard.leave('g', [{ memberId: ids[1]!, groupInstanceId: null }, { memberId: 'ghost', groupInstanceId: null }, { memberId: '', groupInstanceId: 'nobody' }]);
    assert.deepEqual(r.members.map((m) => m.errorCode), [0, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.equal(h.shard.describe('g').state, 'PreparingRebalance');
    h.shard.leave('g', [{ memberId: ids[0]!, groupInstanceId: null }]);
    assert.equal(h.shard.describe('g').state, 'Empty');
    assert.equal(h.shard.describe('g').members.length, 0);
  });
});

describe('group shard: static membership', () => {
  it('replaces the member id, keeps generation and assignment, fences the old id', async () => {
    const h = harness();
    const ja = h.shard.join(joinReq({ groupInstanceId: 'i-a', clientId: 'a' }));
    const jb = h.shard.join(joinReq({ groupInstanceId: 'i-b', clientId: 'b' }));
    h.clock.advance(0);
    const [ra, rb] = await Promise.all([ja, jb]);
    const leader = ra.members.length > 0 ? ra : rb;
    const other = leader === ra ? rb : ra;
    await Promise.all([ra, rb].map((r) => h.shard.sync({
      groupId: 'g', generationId: 1, memberId: r.memberId, groupInstanceId: r === ra ? 'i-a' : 'i-b', protocolType: null, protocolName: null,
      assignments: r === leader ? [{ memberId: ra.memberId, assignment: Buffer.from('A') }, { memberId: rb.memberId, assignment: Buffer.from('B') }] : [],
    })));
    const otherInstance = other === ra ? 'i-a' : 'i-b';
    const restarted = await h.shard.join(joinReq({ groupInstanceId: otherInstance, clientId: 'again' }));
    assert.equal(restarted.errorCode, 0);
    assert.equal(restarted.generationId, 1, 'no new generation');
    assert.notEqual(restarted.memberId, other.memberId);
    assert.equal(restarted.leader, leader.memberId);
    assert.equal(h.shard.describe('g').state, 'Stable');
    assert.equal(h.shard.heartbeat('g', other.memberId, otherInstance, 1), ErrorCode.FENCED_INSTANCE_ID);
    const s = await h.shard.sync({ groupId: 'g', generationId: 1, memberId: restarted.memberId, groupInstanceId: otherInstance, protocolType: null, protocolName: null, assignments: [] });
    assert.equal(s.assignment.toString(), otherInstance === 'i-a' ? 'A' : 'B');
    assert.equal(h.shard.heartbeat('g', leader.memberId, null, 1), ErrorCode.NONE);
  });
});

describe('group shard: offsets', () => {
  it('commits for members of the current generation only; a non-member may commit to an absent or empty group', async () => {
    const h = harness();
    const { ids, generation } = await stableGroup(h, 1);
    const offsets = [{ topic: 't', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'm', commitTimestamp: -1n }];
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, offsets }), [0]);
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'g', generationId: generation + 1, memberId: ids[0]!, groupInstanceId: null, offsets }), [ErrorCode.ILLEGAL_GENERATION]);
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets }), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'solo', generationId: -1, memberId: '', groupInstanceId: null, offsets }), [0]);
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'other', generationId: 5, memberId: 'm', groupInstanceId: null, offsets }), [ErrorCode.ILLEGAL_GENERATION]);
    const big = [{ ...offsets[0]!, metadata: 'x'.repeat(5000) }];
    assert.deepEqual(await h.shard.commitOffsets({ groupId: 'solo', generationId: -1, memberId: '', groupInstanceId: null, offsets: big }), [ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    const f = h.shard.fetchOffsets('g', [{ name: 't', partitions: [0, 1] }]);
    assert.deepEqual(f.topics[0]!.partitions.map((p) => [p.partition, p.offset, p.leaderEpoch, p.metadata]), [[0, 42n, 3, 'm'], [1, -1n, -1, '']]);
    assert.deepEqual(h.shard.fetchOffsets('solo', null).topics.map((t) => t.name), ['t']);
    assert.deepEqual(h.shard.fetchOffsets('absent', null).topics, []);
  });

  it('a failed write is not acknowledged and leaves the old offset', async () => {
    const h = harness();
    const offsets = (o: bigint) => [{ topic: 't', partition: 0, offset: o, leaderEpoch: -1, metadata: null, commitTimestamp: -1n }];
    await h.shard.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, offsets: offsets(5n) });
    h.failWrites.on = true;
    const codes = await h.shard.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, offsets: offsets(9n) });
    assert.notEqual(codes[0], 0);
    assert.equal(h.shard.fetchOffsets('s', null).topics[0]!.partitions[0]!.offset, 5n);
  });

  it('a new shard replaying the log has the same groups and offsets (failover load)', async () => {
    const h = harness();
    const { ids, generation } = await stableGroup(h, 2);
    await h.shard.commitOffsets({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, offsets: [{ topic: 't', partition: 1, offset: 7n, leaderEpoch: 1, metadata: 'x', commitTimestamp: -1n }] });
    await h.shard.commitOffsets({ groupId: 'gone', generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: 1, metadata: '', commitTimestamp: -1n }] });
    assert.equal(await h.shard.deleteGroup('gone'), 0);
    const h2 = harness();
    for (const w of h.log) h2.shard.replay(decodeOffsetsRecord(w.key, w.value)!);
    h2.shard.finishLoad();
    assert.deepEqual(h2.shard.list().map((g) => [g.groupId, g.state]), [['g', 'Stable']]);
    assert.equal(h2.shard.fetchOffsets('g', null).topics[0]!.partitions[0]!.offset, 7n);
    assert.equal(h2.shard.heartbeat('g', ids[1]!, null, generation), ErrorCode.NONE);
    const s = await h2.shard.sync({ groupId: 'g', generationId: generation, memberId: ids[1]!, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.equal(s.assignment.toString(), `a-${ids[1]}`);
    // Loaded members that stop heartbeating are evicted after their session timeout.
    h2.clock.advance(10_001);
    assert.equal(h2.shard.describe('g').state, 'Empty');
  });

  it('DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, then tombstones for the group and its offsets', async () => {
    const h = harness();
    assert.equal(await h.shard.deleteGroup('g'), ErrorCode.GROUP_ID_NOT_FOUND);
    const { ids, generation } = await stableGroup(h, 1);
    await h.shard.commitOffsets({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: -1n }] });
    assert.equal(await h.shard.deleteGroup('g'), ErrorCode.NON_EMPTY_GROUP);
    h.shard.leave('g', [{ memberId: ids[0]!, groupInstanceId: null }]);
    await settle();
    const before = h.log.length;
    assert.equal(await h.shard.deleteGroup('g'), 0);
    const tombstones = h.log.slice(before).map((w) => decodeOffsetsRecord(w.key, w.value)!);
    assert.deepEqual(tombstones.map((r) => [r.type, r.value]), [['offset', null], ['group', null]]);
    assert.equal(h.shard.describe('g').state, 'Dead');
  });

  it('OffsetDelete refuses topics the members consume and deletes the others', async () => {
    const h = harness();
    const { ids, generation } = await stableGroup(h, 1);
    const o = (topic: string) => ({ topic, partition: 0, offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: -1n });
    await h.shard.commitOffsets({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, offsets: [o('t'), o('old')] });
    const r = await h.shard.deleteOffsets('g', [{ topic: 't', partition: 0 }, { topic: 'old', partition: 0 }]);
    assert.deepEqual(r, { errorCode: 0, codes: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0] });
    assert.deepEqual(h.shard.fetchOffsets('g', null).topics.map((t) => t.name), ['t']);
    assert.equal((await h.shard.deleteOffsets('none', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('expires the offsets of an empty group after offsets.retention.minutes, then the group', async () => {
    const h = harness({ offsetsRetentionMs: 60_000 });
    const { ids, generation } = await stableGroup(h, 1);
    await h.shard.commitOffsets({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: -1n }] });
    h.clock.advance(10_001); // the member's session expires: the group becomes empty now
    h.shard.heartbeat('g', ids[0]!, null, generation);
    assert.equal(h.shard.describe('g').state, 'Empty');
    assert.equal(await h.shard.expireOffsets(), 0, 'retention counts from when the group became empty');
    h.clock.advance(60_000);
    assert.equal(await h.shard.expireOffsets(), 1);
    assert.equal(h.shard.describe('g').state, 'Dead');
    assert.deepEqual(h.shard.list(), []);
  });
});
