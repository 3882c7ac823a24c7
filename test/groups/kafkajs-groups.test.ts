import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { JoinGroupResponse } from '../../protocol/generated/join-group.js';
import type { SyncGroupResponse } from '../../protocol/generated/sync-group.js';
import type { HeartbeatResponse } from '../../protocol/generated/heartbeat.js';
import type { FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import type { ApiVersionsResponse } from '../../protocol/generated/api-versions.js';

const ENV = {
  RAFTKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
  // Not 0: members of a new group that join together (the static-member test sends two joins at
  // once) must land in one generation, as group.initial.rebalance.delay.ms exists to ensure.
  RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '500',
  RAFTKA_GROUP_MIN_SESSION_TIMEOUT_MS: '1000',
};

type Assignment = Record<string, number[]>;

/** A kafkajs consumer that records what it consumed and the assignment of its latest join. */
class TrackedConsumer {
  readonly seen: string[] = [];
  assignment: Assignment = {};
  generation = -1;
  private joinWaiters: (() => void)[] = [];
  constructor(readonly consumer: Consumer, readonly name: string) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.assignment = e.payload.memberAssignment as Assignment;
      this.generation++;
      if (process.env.GROUPS_DEBUG) process.stderr.write(`${this.name} joined: ${JSON.stringify(e.payload)}\n`);
      for (const w of this.joinWaiters.splice(0)) w();
    });
  }
  nextJoin(): Promise<void> { return new Promise((resolve) => this.joinWaiters.push(resolve)); }
  partitions(topic: string): number[] { return [...(this.assignment[topic] ?? [])].sort((a, b) => a - b); }
}

/** ConsumerProtocolSubscription v0 for a raw member (what kafkajs' assigner decodes). */
function subscription(...topics: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const t of topics) { const l = Buffer.alloc(2); l.writeInt16BE(Buffer.byteLength(t)); parts.push(l, Buffer.from(t)); }
  parts.push(Buffer.from([0, 0, 0, 0]));
  return Buffer.concat(parts);
}

async function call<T>(c: RawClient, apiKey: number, version: number, body: unknown): Promise<T> {
  c.send(apiKey, version, body);
  return (await c.receive()).body as T;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('consumer groups with kafkajs', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  const kafka = (): Kafka => new Kafka({ clientId: 'groups-e2e', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
  const consumers: Consumer[] = [];
  const track = async (groupId: string, name: string, topic: string, extra: Record<string, number> = {}): Promise<TrackedConsumer> => {
    // kafkajs heartbeats between fetches, so the fetch wait must stay well below the session timeout.
    const consumer = kafka().consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 200, ...extra });
    consumers.push(consumer);
    const t = new TrackedConsumer(consumer, name);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const joined = t.nextJoin();
    await consumer.run({ eachMessage: async ({ message }) => { t.seen.push(message.value!.toString()); } });
    await joined;
    return t;
  };
  const produce = async (topic: string, from: number, count: number): Promise<void> => {
    const p = kafka().producer();
    await p.connect();
    await p.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `${from + i}` })) });
    await p.disconnect();
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, env: ENV });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: ['shared', 'resume', 'crash', 'admin'].map((topic) => ({ topic, numPartitions: 6 })) });
    await admin.disconnect();
  });
  after(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    if (process.env.GROUPS_DEBUG) process.stderr.write(broker.output());
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('two then three consumers share a topic: each partition owned once, every message consumed once', async () => {
    const a = await track('sharing', 'a', 'shared');
    const b = await track('sharing', 'b', 'shared');
    await waitFor('two members with disjoint assignments covering 6 partitions', () => {
      const all = [...a.partitions('shared'), ...b.partitions('shared')].sort((x, y) => x - y);
      return a.partitions('shared').length > 0 && b.partitions('shared').length > 0 && all.join() === '0,1,2,3,4,5';
    });
    await produce('shared', 0, 300);
    await waitFor('300 messages', () => a.seen.length + b.seen.length >= 300);
    const c = await track('sharing', 'c', 'shared');
    await waitFor('three members with disjoint assignments covering 6 partitions', () => {
      const parts = [a, b, c].map((t) => t.partitions('shared'));
      const all = parts.flat().sort((x, y) => x - y);
      return parts.every((p) => p.length === 2) && all.join() === '0,1,2,3,4,5';
    });
    await produce('shared', 300, 300);
    await waitFor('600 messages', () => a.seen.length + b.seen.length + c.seen.length >= 600);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for any duplicate to show up
    const seen = [...a.seen, ...b.seen, ...c.seen].map(Number).sort((x, y) => x - y);
    assert.deepEqual(seen, Array.from({ length: 600 }, (_, i) => i));
    assert.ok(c.seen.length > 0, 'the third member consumed its share');
  });

  it('DescribeGroups, ListGroups (state filter) and DeleteGroups', async () => {
    const t = await track('admin-group', 'x', 'admin');
    const admin = kafka().admin();
    await admin.connect();
    try {
      const { groups: [d] } = await admin.describeGroups(['admin-group']);
      assert.equal(d!.state, 'Stable');
      assert.equal(d!.protocolType, 'consumer');
      assert.equal(d!.members.length, 1);
      assert.ok(d!.members[0]!.memberId.startsWith('groups-e2e-'));
      const listed = (await admin.listGroups()).groups.map((g) => g.groupId);
      assert.ok(listed.includes('admin-group') && listed.includes('sharing'));
      const t0 = Date.now();
      const step = (what: string): void => { if (process.env.GROUPS_DEBUG) process.stderr.write(`${what} at ${Date.now() - t0} ms\n`); };
      await assert.rejects(admin.deleteGroups(['admin-group']), (err: { groups?: { error?: { type?: string } }[] }) => err.groups?.[0]?.error?.type === 'NON_EMPTY_GROUP');
      step('deleteGroups refused');
      await t.consumer.disconnect();
      step('disconnected');
      await admin.setOffsets({ groupId: 'admin-group', topic: 'admin', partitions: [{ partition: 0, offset: '5' }] });
      assert.deepEqual(await admin.deleteGroups(['admin-group']), [{ groupId: 'admin-group', errorCode: 0 }]);
      const offsets = await admin.fetchOffsets({ groupId: 'admin-group', topics: ['admin'] });
      assert.ok(offsets[0]!.partitions.every((p) => p.offset === '-1'));
    } finally {
      await admin.disconnect();
    }
    // ListGroups v4 state filter, over the wire.
    const raw = await RawClient.connect(broker.port);
    try {
      const stable = await call<{ errorCode: number; groups: { groupId: string; groupState: string }[] }>(raw, ApiKey.ListGroups, 4, { statesFilter: ['stable'], typesFilter: [] });
      assert.ok(stable.groups.every((g) => g.groupState === 'Stable'));
      assert.ok(stable.groups.some((g) => g.groupId === 'sharing'));
      const dead = await call<{ groups: unknown[] }>(raw, ApiKey.ListGroups, 4, { statesFilter: ['Dead'], typesFilter: [] });
      assert.deepEqual(dead.groups, []);
    } finally {
      raw.close();
    }
  });

  it('a member that stops heartbeating is evicted after its session timeout', async () => {
    const survivor = await track('crashy', 'survivor', 'crash', { sessionTimeout: 3000 });
    // The member that will "crash" is a raw client: it joins, syncs, then goes silent.
    const raw = await RawClient.connect(broker.port);
    const base = { groupId: 'crashy', sessionTimeoutMs: 1500, rebalanceTimeoutMs: 10_000, groupInstanceId: null, protocolType: 'consumer', reason: null };
    const protocols = [{ name: 'RoundRobinAssigner', metadata: subscription('crash') }];
    const first = await call<JoinGroupResponse>(raw, ApiKey.JoinGroup, 5, { ...base, memberId: '', protocols });
    assert.equal(first.errorCode, 79, 'MEMBER_ID_REQUIRED');
    const rejoined = survivor.nextJoin();
    const joined = await call<JoinGroupResponse>(raw, ApiKey.JoinGroup, 5, { ...base, memberId: first.memberId, protocols });
    assert.equal(joined.errorCode, 0);
    const synced = await call<SyncGroupResponse>(raw, ApiKey.SyncGroup, 3, { groupId: 'crashy', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.equal(synced.errorCode, 0);
    await rejoined;
    assert.equal(survivor.partitions('crash').length, 3, 'the partitions are shared while the raw member lives');
    const silentSince = Date.now();
    const afterEviction = survivor.nextJoin();
    await afterEviction;
    assert.ok(Date.now() - silentSince >= 1000, 'evicted only after the session timeout');
    assert.deepEqual(survivor.partitions('crash'), [0, 1, 2, 3, 4, 5]);
    const hb = await call<HeartbeatResponse>(raw, ApiKey.Heartbeat, 3, { groupId: 'crashy', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null });
    assert.equal(hb.errorCode, 25, 'UNKNOWN_MEMBER_ID after eviction');
    raw.close();
  });

  it('a static member restarts without a rebalance (KIP-345)', async () => {
    const join = (c: RawClient, instance: string): Promise<JoinGroupResponse> => call<JoinGroupResponse>(c, ApiKey.JoinGroup, 9, {
      groupId: 'static', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: instance,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription('crash') }], reason: null,
    });
    const [c1, c2] = await Promise.all([RawClient.connect(broker.port), RawClient.connect(broker.port)]);
    const [j1, j2] = await Promise.all([join(c1, 'one'), join(c2, 'two')]);
    assert.equal(j1.generationId, j2.generationId);
    const leader = j1.members.length > 0 ? j1 : j2;
    const sync = (c: RawClient, j: JoinGroupResponse, instance: string): Promise<SyncGroupResponse> => call<SyncGroupResponse>(c, ApiKey.SyncGroup, 5, {
      groupId: 'static', generationId: j.generationId, memberId: j.memberId, groupInstanceId: instance, protocolType: 'consumer', protocolName: 'range',
      assignments: j === leader ? [{ memberId: j1.memberId, assignment: Buffer.from('one') }, { memberId: j2.memberId, assignment: Buffer.from('two') }] : [],
    });
    const [s1, s2] = await Promise.all([sync(c1, j1, 'one'), sync(c2, j2, 'two')]);
    assert.deepEqual([s1.assignment.toString(), s2.assignment.toString()], ['one', 'two']);
    // Instance "two" restarts: a new connection, no member id.
    c2.close();
    const c2b = await RawClient.connect(broker.port);
    const again = await join(c2b, 'two');
    assert.equal(again.errorCode, 0);
    assert.equal(again.generationId, j2.generationId, 'same generation: no rebalance');
    assert.notEqual(again.memberId, j2.memberId);
    const s2b = await sync(c2b, again, 'two');
    assert.equal(s2b.assignment.toString(), 'two', 'keeps its assignment');
    const hb = await call<HeartbeatResponse>(c1, ApiKey.Heartbeat, 4, { groupId: 'static', generationId: j1.generationId, memberId: j1.memberId, groupInstanceId: 'one' });
    assert.equal(hb.errorCode, 0, 'the other member never sees a rebalance');
    const fenced = await call<HeartbeatResponse>(c2b, ApiKey.Heartbeat, 4, { groupId: 'static', generationId: j2.generationId, memberId: j2.memberId, groupInstanceId: 'two' });
    assert.equal(fenced.errorCode, 82, 'FENCED_INSTANCE_ID for the old incarnation');
    c1.close(); c2b.close();
  });

  it('FindCoordinator: batched v4 keys; transaction keys find the transaction coordinator; ConsumerGroupHeartbeat is not advertised', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      const r = await call<FindCoordinatorResponse>(raw, ApiKey.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['a', 'b'] });
      assert.deepEqual(r.coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.port]), [['a', 0, 1, broker.port], ['b', 0, 1, broker.port]]);
      // The first lookup may create __transaction_state and answer COORDINATOR_NOT_AVAILABLE meanwhile, as Kafka does.
      let txn = await call<FindCoordinatorResponse>(raw, ApiKey.FindCoordinator, 3, { key: 'tx', keyType: 1, coordinatorKeys: [] });
      for (let i = 0; i < 100 && txn.errorCode === 15; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        txn = await call<FindCoordinatorResponse>(raw, ApiKey.FindCoordinator, 3, { key: 'tx', keyType: 1, coordinatorKeys: [] });
      }
      assert.deepEqual([txn.errorCode, txn.nodeId, txn.port], [0, 1, broker.port]);
      const versions = await call<ApiVersionsResponse>(raw, ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
      const keys = new Set(versions.apiKeys.map((k) => k.apiKey));
      // groups, then transactions (partition side: WriteTxnMarkers 27, TxnOffsetCommit 28, DescribeProducers 61)
      for (const k of [10, 11, 12, 13, 14, 8, 9, 15, 16, 42, 47, 27, 28, 61]) assert.ok(keys.has(k), `api ${k} advertised`);
      assert.ok(!keys.has(68), 'ConsumerGroupHeartbeat not advertised');
    } finally {
      raw.close();
    }
  });

  it('commit, restart the broker, and resume from the committed offset', async () => {
    await produce('resume', 0, 100);
    const first = await track('resumer', 'first', 'resume');
    await waitFor('100 messages', () => first.seen.length >= 100);
    const admin = kafka().admin();
    await admin.connect();
    await waitFor('committed offsets', () => false, 0).catch(() => undefined);
    await first.consumer.disconnect(); // commits and leaves
    const committed = await admin.fetchOffsets({ groupId: 'resumer', topics: ['resume'] });
    await admin.disconnect();
    const total = committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    assert.equal(total, 100);

    await broker.kill();
    broker = await startBroker({ dataDir, env: ENV });
    await produce('resume', 100, 50);
    const second = await track('resumer', 'second', 'resume');
    await waitFor('the 50 new messages', () => second.seen.length >= 50);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(second.seen.map(Number).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => 100 + i));
  });
});
