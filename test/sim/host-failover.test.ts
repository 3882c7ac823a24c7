import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftHost, type HostEnvelope } from '../../src/raft/host.js';
import { MemHardState, MemLog } from '../raft/mem-log.js';
import type { NodeId } from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

// Fast failover in the RaftHost, counted in ticks (no wall-clock assertions): three hosts, many
// groups with rotating preferred leaders, real RaftGroups over an in-memory log.

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const GROUPS = 24;
const ELECTION = 10;
const PEER_TIMEOUT = 10;

async function cluster(): Promise<{
  hosts: Map<NodeId, RaftHost>; dead: Set<NodeId>; groupIds: string[];
  tickAll: (n: number) => Promise<void>; leaderOf: (g: string) => NodeId | undefined; termOf: (g: string) => number;
}> {
  const dead = new Set<NodeId>();
  const hosts = new Map<NodeId, RaftHost>();
  for (const id of [1, 2, 3]) {
    hosts.set(id, new RaftHost({
      nodeId: id,
      transport: { send: (to: NodeId, e: HostEnvelope) => { if (!dead.has(to) && !dead.has(id)) setImmediate(() => hosts.get(to)!.receive(e)); } },
      quiesceAfterTicks: 5,
      peerTimeoutTicks: PEER_TIMEOUT,
    }));
  }
  const groupIds = Array.from({ length: GROUPS }, (_, i) => `g-${i}`);
  for (const [id, host] of hosts) {
    const hs = new MemHardState();
    groupIds.forEach((g, i) => host.addGroup({
      groupId: g, voters: [1, 2, 3], log: new MemLog(), hardStateStore: hs, random: new Random(id * 1000 + i),
      core: { electionTimeoutTicks: ELECTION, campaignOnFirstTick: (i % 3) + 1 === id },
    }));
  }
  const tickAll = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      for (const [id, h] of hosts) if (!dead.has(id)) h.tick();
      for (let k = 0; k < 4; k++) await turn();
    }
  };
  const leaderOf = (g: string): NodeId | undefined => {
    for (const [id, h] of hosts) if (!dead.has(id) && h.group(g)!.isLeader) return id;
    return undefined;
  };
  const termOf = (g: string): number => Math.max(...[...hosts].filter(([id]) => !dead.has(id)).map(([, h]) => h.group(g)!.leaderEpoch));
  await tickAll(5);
  groupIds.forEach((g, i) => assert.equal(leaderOf(g), (i % 3) + 1, `preferred leader of ${g}`));
  await tickAll(15); // every group quiesces
  for (const h of hosts.values()) assert.equal(h.stats().quiesced, GROUPS);
  return { hosts, dead, groupIds, tickAll, leaderOf, termOf };
}

test('a reset connection to a dead leader\'s broker elects new leaders for its groups within 2 ticks, far inside an election timeout', async () => {
  const c = await cluster();
  const led = c.groupIds.filter((g) => c.leaderOf(g) === 1);
  const others = new Map(c.groupIds.filter((g) => c.leaderOf(g) !== 1).map((g) => [g, [c.leaderOf(g), c.termOf(g)]]));
  c.dead.add(1);
  // the survivors' connections to broker 1 are reset: the transport reports it
  c.hosts.get(2)!.peerUnreachable(1);
  c.hosts.get(3)!.peerUnreachable(1);
  // ... and counts it dead at once: no leadership is handed back to it (a transfer to a dead
  // preferred replica would refuse writes until abandoned)
  assert.equal(c.hosts.get(2)!.peerAlive(1), false);
  await c.tickAll(2);
  for (const g of led) {
    const l = c.leaderOf(g);
    assert.ok(l === 2 || l === 3, `group ${g} has a new leader after 2 ticks (got ${String(l)})`);
  }
  // groups led elsewhere are untouched
  for (const [g, [l, t]] of others) assert.deepEqual([c.leaderOf(g), c.termOf(g)], [l, t], `group ${g}`);
  assert.ok(c.hosts.get(2)!.stats().fastElections > 0);
  for (const h of c.hosts.values()) await h.close();
});

test('a broker that goes silent (no reset seen) loses its groups one peer timeout later, without waiting an election timeout more', async () => {
  const c = await cluster();
  const led = c.groupIds.filter((g) => c.leaderOf(g) === 2);
  c.dead.add(2);
  await c.tickAll(PEER_TIMEOUT + 2);
  for (const g of led) {
    const l = c.leaderOf(g);
    assert.ok(l === 1 || l === 3, `group ${g} has a new leader within the peer timeout + 2 ticks (got ${String(l)})`);
  }
  for (const h of c.hosts.values()) await h.close();
});

test('a spurious unreachable notice on one broker while the leaders are alive changes no leader and no term', async () => {
  const c = await cluster();
  const before = new Map(c.groupIds.map((g) => [g, [c.leaderOf(g), c.termOf(g)]]));
  // broker 2 sees its connections to brokers 1 and 3 reset, but both are alive
  c.hosts.get(2)!.peerUnreachable(1);
  c.hosts.get(2)!.peerUnreachable(3);
  await c.tickAll(3 * ELECTION);
  assert.equal(c.hosts.get(2)!.peerAlive(1), true, 'alive again once heard from');
  for (const [g, v] of before) assert.deepEqual([c.leaderOf(g), c.termOf(g)], v, `group ${g}`);
  for (const h of c.hosts.values()) await h.close();
});
