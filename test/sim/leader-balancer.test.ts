import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataImage, type BrokerRegistration, type PartitionState } from '../../src/cluster/image.js';
import { leaderImbalance, preferredLeaderMoves } from '../../src/cluster/publisher.js';
import { DEFAULT_BROKER_CONFIG, loadBrokerConfig } from '../../src/config.js';

// The leader balancer's decision (src/cluster/publisher.ts), Kafka's auto.leader.rebalance.*
// semantics: a broker's partitions move back to it only when its imbalance ratio exceeds
// leader.imbalance.per.broker.percentage, and only to a live, in-sync preferred replica.

function broker(nodeId: number, extra: Partial<BrokerRegistration> = {}): BrokerRegistration {
  return { nodeId, host: '127.0.0.1', port: 9000 + nodeId, endpoints: [], rack: null, fenced: false, inControlledShutdown: false, epoch: 1n, incarnationId: `incarnation-${nodeId}`, ...extra };
}

/** Topic t with `n` partitions: partition i has replicas [pref(i), ...] and leader lead(i). */
function image(n: number, pref: (i: number) => number[], lead: (i: number) => number, brokers = [broker(1), broker(2), broker(3)], isr?: (i: number) => number[]): MetadataImage {
  let img = MetadataImage.EMPTY;
  for (const b of brokers) img = img.withBroker(b, 0n);
  const partitions: PartitionState[] = Array.from({ length: n }, (_, i) => ({
    topic: 't', partition: i, replicas: pref(i), isr: isr?.(i) ?? pref(i), leader: lead(i), leaderEpoch: 3, partitionEpoch: 1,
  }));
  return img.withTopic({ name: 't', topicId: 'id-t', partitions, configs: new Map() }, 1n);
}

/** The partitions `node` leads in the image (what the balancer on that broker iterates over). */
const ledBy = (img: MetadataImage, node: number): { topic: string; partition: number }[] =>
  img.topics.get('t')!.partitions.filter((p) => p.leader === node).map((p) => ({ topic: 't', partition: p.partition }));
const alive = (): boolean => true;

test('imbalance per broker: partitions it is preferred for, and how many of them it does not lead', () => {
  // 10 partitions, all preferring broker 2; broker 1 leads partitions 0 and 1
  const img = image(10, () => [2, 1, 3], (i) => (i < 2 ? 1 : 2));
  assert.deepEqual(leaderImbalance(img).get(2), { preferred: 10, notLeading: 2 });
});

test('at or under leader.imbalance.per.broker.percentage nothing moves; over it, every partition of that broker led here moves back', () => {
  // 1 of 10 off its preferred leader: 10%, not over 10%
  let img = image(10, () => [2, 1, 3], (i) => (i === 0 ? 1 : 2));
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 1), 1, 10, alive), []);
  // 2 of 10: 20% > 10%: broker 1 moves what it leads (partitions 0 and 1); broker 3 leads none
  img = image(10, () => [2, 1, 3], (i) => (i < 2 ? 1 : 2));
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 1), 1, 10, alive),
    [{ topic: 't', partition: 0, to: 2 }, { topic: 't', partition: 1, to: 2 }]);
  // a threshold of 25% keeps them where they are; 0% moves even one
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 1), 1, 25, alive), []);
  img = image(10, () => [2, 1, 3], (i) => (i === 0 ? 1 : 2));
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 1), 1, 0, alive), [{ topic: 't', partition: 0, to: 2 }]);
});

test('a broker that returned after a failure gets its leaderships back (100% imbalance), unless it is not live or not in sync', () => {
  // 6 partitions, preferred leaders rotate over 1..3; broker 2 was down, its two partitions are led by 3
  const pref = (i: number): number[] => [[1, 2, 3], [2, 3, 1], [3, 1, 2]][i % 3]!;
  const lead = (i: number): number => (i % 3 === 1 ? 3 : pref(i)[0]!);
  const img = image(6, pref, lead);
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 3), 3, 10, alive), [{ topic: 't', partition: 1, to: 2 }, { topic: 't', partition: 4, to: 2 }]);
  // partitions led by their preferred replica never move
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 1), 1, 10, alive), []);
  for (const [what, b] of [['fenced', broker(2, { fenced: true })], ['in controlled shutdown', broker(2, { inControlledShutdown: true })]] as const) {
    const i2 = image(6, pref, lead, [broker(1), b, broker(3)]);
    assert.deepEqual(preferredLeaderMoves(i2, ledBy(i2, 3), 3, 10, alive), [], what);
  }
  const gone = image(6, pref, lead, [broker(1), broker(3)]);
  assert.deepEqual(preferredLeaderMoves(gone, ledBy(gone, 3), 3, 10, alive), [], 'not registered');
  assert.deepEqual(preferredLeaderMoves(img, ledBy(img, 3), 3, 10, (id) => id !== 2), [], 'not heard from lately');
  const outOfSync = image(6, pref, lead, undefined, (i) => pref(i).filter((r) => r !== 2));
  assert.deepEqual(preferredLeaderMoves(outOfSync, ledBy(outOfSync, 3), 3, 10, alive), [], 'not in the ISR');
});

test('the balancer settings: Kafka names and defaults, set from server.properties names or RAFTKA_ environment variables', () => {
  assert.equal(DEFAULT_BROKER_CONFIG.autoLeaderRebalanceEnable, true);
  assert.equal(DEFAULT_BROKER_CONFIG.leaderImbalanceCheckIntervalSeconds, 300);
  assert.equal(DEFAULT_BROKER_CONFIG.leaderImbalancePerBrokerPercentage, 10);
  assert.equal(DEFAULT_BROKER_CONFIG.leaderRebalanceImmediateEnable, true);
  const c = loadBrokerConfig({ env: {
    RAFTKA_AUTO_LEADER_REBALANCE_ENABLE: 'false', RAFTKA_LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: '5', RAFTKA_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '0',
    RAFTKA_LEADER_REBALANCE_IMMEDIATE_ENABLE: 'false',
  } });
  assert.deepEqual([c.autoLeaderRebalanceEnable, c.leaderImbalanceCheckIntervalSeconds, c.leaderImbalancePerBrokerPercentage, c.leaderRebalanceImmediateEnable], [false, 5, 0, false]);
});
