import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { metadata, startCluster, type Cluster } from '../../compat/harness.js';

/**
 * A restarting broker listens early (peers' Raft traffic shares the client port), but, like a
 * Kafka broker before its initial metadata catch-up, it must not answer clients from an empty or
 * stale image: found by the compat suite's scenario 7, where kafka-python (retries=0) reconnected
 * to the restarted broker and got UNKNOWN_TOPIC_OR_PARTITION for an existing topic, and Metadata
 * listing no brokers, for about 300 ms.
 */
describe('a restarting broker serves clients only once it has caught up', () => {
  let cluster: Cluster;
  before(async () => { cluster = await startCluster({ size: 3 }); });
  after(async () => { await cluster?.destroy(); });

  it('every Metadata answer during the restart lists all brokers and the existing topic', async () => {
    const admin = new Kafka({ clientId: 'restart-serving', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 1, replicationFactor: 3 }] });
    } finally {
      await admin.disconnect();
    }
    const victim = cluster.brokers[2]!;
    await victim.kill();
    let restarted = false;
    const restart = victim.restart().then(() => { restarted = true; });
    const answers: string[] = [];
    // Probe the port from the moment it accepts until the broker says it is ready, and once after.
    for (let last = false; !last;) {
      last = restarted;
      try {
        const md = await metadata(victim.port, ['kept']);
        const t = md.topics[0];
        answers.push(`${md.brokers.length} brokers, topic error ${t?.errorCode}, leader ${t?.partitions[0]?.leaderId}`);
      } catch {
        // not listening yet, or the connection closed while it starts
      }
      if (!last) await new Promise((r) => setTimeout(r, 10));
    }
    await restart;
    assert.ok(answers.length > 0, 'no Metadata answer at all');
    const bad = answers.filter((a) => !a.startsWith('3 brokers, topic error 0,'));
    assert.deepEqual(bad, [], `answers before the broker caught up (of ${answers.length})`);
  });
});
