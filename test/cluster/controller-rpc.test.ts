import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metadata, startCluster, type Cluster } from '../../compat/harness.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { CreateTopicsResponse } from '../../protocol/generated/create-topics.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import { RawClient } from '../helpers/raw-client.js';
import { EventEmitter } from 'node:events';
import { ControllerClient } from '../../src/cluster/controller-client.js';
import type { Controller } from '../../src/cluster/controller.js';
import type { Partition } from '../../src/partition/partition.js';
import type { PeerClient } from '../../src/server/peer-client.js';
import { silentLogger } from '../../src/util/log.js';

/** The metadata partition as the ControllerClient sees it: who leads, and 'leadership' events. */
class FakeMetadataPartition extends EventEmitter {
  leaderId = 2;
  moveTo(id: number): void { this.leaderId = id; this.emit('leadership'); }
}

describe('ControllerClient: a report to a controller that does not answer', () => {
  it('is sent again to the new active controller as soon as the metadata quorum names it', async () => {
    const metadataPartition = new FakeMetadataPartition();
    const sent: number[] = [];
    const peer = (id: number, answer: boolean): PeerClient => ({
      request: () => { sent.push(id); return answer ? Promise.resolve({ throttleTimeMs: 0, errorCode: 0, topics: [] }) : new Promise(() => undefined); },
    }) as unknown as PeerClient;
    const control = new Map([[2, peer(2, false)], [3, peer(3, true)]]);
    const client = new ControllerClient(1, metadataPartition as unknown as Partition, {} as Controller, new Map(), { waitForImage: async () => undefined },
      () => performance.now(), silentLogger, control);
    const report = client.recordLeaders([{ topic: 't', partition: 0, leader: 1, leaderEpoch: 2, isr: [1, 3] }]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [2]); // the paused controller got it, and never answers
    metadataPartition.moveTo(3);
    await report; // resolved by controller 3, long before the 5 s attempt timeout or the call's 10 s deadline
    assert.deepEqual(sent, [2, 3]);
  });
});

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function createTopic(port: number, name: string, assignment: number[], timeoutMs: number, partitions = 1): Promise<CreateTopicsResponse> {
  const client = await RawClient.connect(port);
  try {
    client.send(ApiKey.CreateTopics, 7, {
      topics: [{
        name, numPartitions: -1, replicationFactor: -1, configs: [],
        assignments: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, brokerIds: assignment })),
      }],
      timeoutMs, validateOnly: false,
    });
    return (await client.receive()).body as CreateTopicsResponse;
  } finally {
    client.close();
  }
}

/** The leader of every partition of `topic`, -1 where there is none. */
const leadersOf = (md: MetadataResponse, topic: string): number[] => md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.leaderId) ?? [];

/**
 * The brokers' controller RPCs (leader reports above all) must not wait on a controller that
 * cannot answer, nor behind a long request to it: (1) SIGSTOP of the active controller, which
 * also leads a partition; (2) a forwarded CreateTopics that waits on the same controller.
 * Fencing is kept out of the way (a long session timeout), so only the reports bring leaders.
 */
describe('controller RPCs on three broker processes', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ size: 3, config: { 'broker.session.timeout.ms': 60000, 'broker.heartbeat.interval.ms': 500 } });
  });
  after(async () => {
    for (const b of cluster?.brokers ?? []) if (b.running) { try { process.kill(b.pid, 'SIGCONT'); } catch { /* gone */ } }
    await cluster?.destroy();
  });

  it('a paused active controller that leads partitions: Metadata names live leaders within seconds (the new leaders report to the new controller)', async () => {
    const first = cluster.brokers[0]!;
    const { controllerId } = await until('a controller', async () => { const m = await metadata(first.port, []); return m.controllerId >= 0 ? m : undefined; }, 10_000);
    const others = cluster.brokers.filter((b) => b.nodeId !== controllerId);
    // Twelve partitions led by the controller: their new leaders are elected at random moments,
    // some before the metadata quorum has a new controller (their reports go to the paused one).
    const created = await createTopic(first.port, 'paused', [controllerId, others[0]!.nodeId, others[1]!.nodeId], 10_000, 12);
    assert.equal(created.topics[0]!.errorCode, 0);
    await until('every broker sees the controller lead the partitions', async () => {
      for (const b of cluster.brokers) if (leadersOf(await metadata(b.port, ['paused']), 'paused').some((l) => l !== controllerId)) return undefined;
      return true;
    }, 10_000);
    const paused = cluster.broker(controllerId);
    process.kill(paused.pid, 'SIGSTOP');
    try {
      // a metadata election and the partition elections, each 1-2 s: well within 15 s (it was about 30 s)
      const md = await until('live leaders in Metadata', async () => {
        const m = await metadata(others[0]!.port, ['paused']);
        return m.controllerId !== controllerId && leadersOf(m, 'paused').every((l) => l !== -1 && l !== controllerId) ? m : undefined;
      }, 15_000);
      assert.ok(leadersOf(md, 'paused').every((l) => others.some((b) => b.nodeId === l)));
      // and the other live broker says the same
      assert.deepEqual(leadersOf(await metadata(others[1]!.port, ['paused']), 'paused'), leadersOf(md, 'paused'));
    } finally {
      process.kill(paused.pid, 'SIGCONT');
    }
    await until('the paused broker back as a follower', async () => {
      const m = await metadata(paused.port, ['paused']);
      return m.controllerId !== -1 && leadersOf(m, 'paused').every((l) => l !== -1) ? m : undefined;
    }, 20_000);
  });

  it('a leader report is not held behind a forwarded CreateTopics that waits for leaders (one connection answers in order)', async () => {
    const { controllerId } = await until('a controller', async () => {
      const m = await metadata(cluster.brokers[0]!.port, []);
      return m.controllerId >= 0 && m.brokers.length === 3 ? m : undefined;
    }, 20_000);
    const [forwarder, dead] = cluster.brokers.filter((b) => b.nodeId !== controllerId) as [Cluster['brokers'][number], Cluster['brokers'][number]];
    const controller = cluster.broker(controllerId);
    await dead.kill(); // still registered and unfenced (60 s session): a topic only it hosts never gets its leader
    // forwarded by `forwarder` to the controller, where it waits 12 s for a leader that never comes
    const stuck = createTopic(forwarder.port, 'stuck', [dead.nodeId], 12_000);
    stuck.catch(() => undefined); // awaited below; not unhandled if an assertion fails first
    await until('the forwarded topic committed', async () => {
      const m = await metadata(controller.port, ['stuck']);
      return m.topics[0]?.errorCode === 0 ? m : undefined;
    }, 10_000);
    // `forwarder` is the preferred leader: this answers once its report reaches the controller
    const fresh = await createTopic(controller.port, 'fresh', [forwarder.nodeId, controllerId], 6_000);
    assert.equal(fresh.topics[0]!.errorCode, 0, `fresh: ${fresh.topics[0]!.errorMessage}`);
    assert.equal((await stuck).topics[0]!.errorCode, 7, 'REQUEST_TIMED_OUT for the topic whose only replica is down');
    await dead.restart();
  });
});
