import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftHost, type HostEnvelope } from '../../src/raft/host.js';
import { MemHardState, MemLog } from './mem-log.js';
import { encodeSingleRecordBatch } from '../../src/raft/leader-change.js';
import type { NodeId } from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a host coalesces traffic per peer, quiesces idle groups, and wakes them when a broker dies', async () => {
  const GROUPS = 30;
  const dead = new Set<NodeId>();
  const hosts = new Map<NodeId, RaftHost>();
  for (const id of [1, 2, 3]) {
    hosts.set(id, new RaftHost({
      nodeId: id,
      transport: { send: (to: NodeId, e: HostEnvelope) => { if (!dead.has(to) && !dead.has(id)) setImmediate(() => hosts.get(to)!.receive(e)); } },
      quiesceAfterTicks: 5,
      peerTimeoutTicks: 10,
    }));
  }
  const groupIds = Array.from({ length: GROUPS }, (_, i) => `t-${i}`);
  for (const [id, host] of hosts) {
    const hs = new MemHardState();
    groupIds.forEach((g, i) => host.addGroup({
      groupId: g, voters: [1, 2, 3], log: new MemLog(), hardStateStore: hs, random: new Random(id * 1000 + i),
      core: { electionTimeoutTicks: 10, campaignOnFirstTick: (i % 3) + 1 === id },
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

  await tickAll(5);
  // the preferred replica of each brand-new group won its election
  groupIds.forEach((g, i) => assert.equal(leaderOf(g), (i % 3) + 1, `leader of ${g}`));

  await tickAll(15);
  for (const h of hosts.values()) assert.equal(h.stats().quiesced, GROUPS, `all groups quiesced on node ${h.nodeId}`);
  // idle traffic: exactly one envelope per peer per tick, no Raft messages at all
  const before = [...hosts.values()].map((h) => h.stats());
  await tickAll(20);
  [...hosts.values()].forEach((h, i) => {
    const s = h.stats();
    assert.equal(s.envelopesSent - before[i]!.envelopesSent, 20 * 2);
    assert.equal(s.messagesSent - before[i]!.messagesSent, 0);
  });

  // a write wakes its group, commits, and the group quiesces again
  const l = leaderOf('t-4')!;
  const a = hosts.get(l)!.append('t-4', encodeSingleRecordBatch({ baseOffset: 0n, epoch: 0, timestamp: 0n, key: null, value: Buffer.from('v'), control: false }));
  assert.equal(hosts.get(l)!.isQuiesced('t-4'), false);
  const ticking = tickAll(3);
  await a.committed;
  await ticking;
  await tickAll(10);
  assert.equal(hosts.get(l)!.isQuiesced('t-4'), true);

  // broker 1 dies: the quiesced groups it led wake up on the others and elect new leaders
  dead.add(1);
  await tickAll(60);
  for (const g of groupIds) {
    const nl = leaderOf(g);
    assert.ok(nl === 2 || nl === 3, `group ${g} has a live leader (got ${String(nl)})`);
  }
  for (const h of hosts.values()) await h.close();
});
