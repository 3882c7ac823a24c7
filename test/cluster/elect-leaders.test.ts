import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/cluster/controller.js';
import { ElectionType } from '../../src/cluster/topic-admin.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';
import { metadata, startCluster, type Cluster } from '../../compat/harness.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import { raftka } from '../cli/run-cli.js';

async function controllerWithTopic(): Promise<{ log: MemoryMetadataLog; controller: Controller }> {
  const log = new MemoryMetadataLog();
  const controller = new Controller(log, { numPartitions: 1, defaultReplicationFactor: 3 }, new Random(5), () => performance.now(), silentLogger);
  for (const id of [1, 2, 3]) await controller.registerBroker(id, '127.0.0.1', 9000 + id, null, `00000000-0000-4000-8000-00000000000${id}`);
  log.afterAppend = (image) => {
    for (const t of image.topics.values()) for (const p of t.partitions) {
      if (p.leader === -1) void controller.recordLeader(p.topic, p.partition, p.replicas[0]!, 1);
    }
  };
  await controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 3, assignments: [], configs: new Map() }], 5000, false);
  return { log, controller };
}

describe('ElectLeaders: the controller asks the leader named in its image', () => {
  it('asks the current leader, asks the next one when leadership moved elsewhere meanwhile, and answers once the preferred replica leads', async () => {
    const { log, controller } = await controllerWithTopic();
    const p = log.image().partition('t', 0)!;
    const [preferred, second, third] = p.replicas as [number, number, number];
    await controller.recordLeader('t', 0, second, 2);
    const asked: [number, number][] = [];
    const results = await controller.electLeaders([{ topic: 't', partition: 0 }], ElectionType.PREFERRED, 10_000, (_topic, _partition, to, leader) => {
      asked.push([leader, to]);
      // the first leader loses leadership to the third replica before it can transfer; the third hands over
      if (asked.length === 1) setTimeout(() => { void controller.recordLeader('t', 0, third, 3); }, 5);
      else setTimeout(() => { void controller.recordLeader('t', 0, to, 4); }, 5);
    });
    assert.deepEqual(asked, [[second, preferred], [third, preferred]]);
    assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE]);
    assert.equal(log.image().partition('t', 0)!.leader, preferred);
  });

  it('answers PREFERRED_LEADER_NOT_AVAILABLE when the preferred replica is fenced during the election', async () => {
    const { log, controller } = await controllerWithTopic();
    const p = log.image().partition('t', 0)!;
    await controller.recordLeader('t', 0, p.replicas[1]!, 2);
    const results = await controller.electLeaders([{ topic: 't', partition: 0 }], ElectionType.PREFERRED, 10_000, () => {
      setTimeout(() => { void controller.heartbeat(p.replicas[0]!, false, true); }, 5); // fenced instead of taking over
      setTimeout(() => { void controller.recordLeader('t', 0, p.replicas[2]!, 3); }, 10);
    });
    assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]);
  });
});

describe('ElectLeaders UNCLEAN: Kafka\'s codes, nothing forced', () => {
  it('ELECTION_NOT_NEEDED with a live leader, ELIGIBLE_LEADERS_NOT_AVAILABLE without one; never asks for a transfer', async () => {
    const { log, controller } = await controllerWithTopic();
    const never = (): void => assert.fail('an unclean election moves nothing');
    let [r] = await controller.electLeaders([{ topic: 't', partition: 0 }], ElectionType.UNCLEAN, 1000, never);
    assert.equal(r!.errorCode, ErrorCode.ELECTION_NOT_NEEDED);
    const leader = log.image().partition('t', 0)!.leader;
    await controller.heartbeat(leader, false, true); // fenced: the partition has no leader until its group elects one
    assert.equal(log.image().partition('t', 0)!.leader, -1);
    [r] = await controller.electLeaders([{ topic: 't', partition: 0 }], ElectionType.UNCLEAN, 1000, never);
    assert.equal(r!.errorCode, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);
  });
});

const notPreferred = (md: MetadataResponse, topic: string) =>
  md.topics.find((t) => t.name === topic)!.partitions.filter((p) => p.leaderId !== p.replicaNodes[0]);

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Kafka's leader balancing only (no at-once hand-back), so leaderships stay where the failover put
 * them until `raftka leader-election` moves them, wherever they are led: on the controller's broker
 * or (the case this is about) on another broker, through the LeaderTransfer RPC.
 */
describe('ElectLeaders on three broker processes without the at-once hand-back', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ size: 3, config: {
      'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'leader.rebalance.immediate.enable': false,
    } });
  });
  after(async () => { await cluster?.destroy(); });

  it('moves every partition back to its preferred replica, including those led by a broker other than the controller', async () => {
    const bs = ['--bootstrap-server', cluster.bootstrap];
    let r = await raftka(['topics', ...bs, '--create', '--topic', 'elect', '--partitions', '24', '--replication-factor', '3']);
    assert.equal(r.code, 0, r.stderr);
    const first = cluster.brokers[0]!;
    const { controllerId } = await metadata(first.port, []);
    const victim = cluster.brokers.find((b) => b.nodeId !== controllerId)!;
    const survivor = cluster.brokers.find((b) => b.nodeId !== victim.nodeId)!;
    await victim.kill();
    await until('new leaders for the victim\'s partitions', async () => {
      const md = await metadata(survivor.port, ['elect']);
      return md.topics[0]!.partitions.every((p) => p.leaderId !== -1 && p.leaderId !== victim.nodeId) ? md : undefined;
    });
    await victim.restart();
    // back in every ISR, and still not leading (no at-once hand-back; the periodic check is 300 s away)
    const settled = await until('the victim back in sync', async () => {
      const md = await metadata(survivor.port, ['elect']);
      return md.brokers.length === 3 && md.topics[0]!.partitions.every((p) => p.isrNodes.length === 3) ? md : undefined;
    });
    const moved = notPreferred(settled, 'elect');
    assert.ok(moved.length > 0, 'some partitions are away from their preferred replica');
    const ledElsewhere = moved.filter((p) => p.leaderId !== settled.controllerId).length;
    r = await raftka(['leader-election', ...bs, '--election-type', 'preferred', '--all-topic-partitions']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.lines.join('\n'), /^Successfully completed leader election \(PREFERRED\) for partitions /);
    for (const b of cluster.brokers) assert.deepEqual(notPreferred(await metadata(b.port, ['elect']), 'elect').map((p) => p.partitionIndex), [], `broker ${b.nodeId}`);
    // (with 8 partitions preferred on the victim, their new leaders are all on the controller once in 256 runs)
    if (ledElsewhere === 0) process.stderr.write('note: every moved partition was led by the controller this time\n');
  });
});
