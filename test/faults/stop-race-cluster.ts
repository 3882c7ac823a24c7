import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { FaultCluster } from './cluster.js';
import { guardKafkajsStopRace, kafkajsStopRaceHits } from './kafkajs-stop-race.js';

/**
 * The kafkajs consumer stop/rebalance spin (kafkajs-stop-race.ts) against real brokers, by hand:
 *
 *   node dist/test/faults/stop-race-cluster.js [--unguarded] [--iterations 20]
 *
 * Each iteration runs a consumer on a 3-broker FaultCluster, black-holes the clients' link to one
 * broker (a fetch to it hangs until the request timeout) and resets the link to another (kafkajs
 * drops that broker: its fetchers rebalance), then calls `disconnect()`. Guarded (the default),
 * every disconnect completes; `--unguarded` (plain kafkajs 2.2.4) usually spins within a few
 * iterations: the line "disconnect..." is never finished and the process sits at 100% CPU (end it
 * with SIGUSR1 + an inspector, or kill it; its brokers are killed when it exits normally only).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { unguarded: { type: 'boolean', default: false }, iterations: { type: 'string', default: '20' } } });
  if (!values.unguarded) guardKafkajsStopRace();
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const cluster = await FaultCluster.start({
    size: 3, workDir: join(tmpdir(), `raftka-stop-race-${process.pid}`),
    env: { RAFTKA_CLUSTER_ID: 'stop-race', RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', RAFTKA_BROKER_SESSION_TIMEOUT_MS: '3000', RAFTKA_BROKER_HEARTBEAT_INTERVAL_MS: '500', RAFTKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3', RAFTKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3' },
  });
  try {
    const kafka = new Kafka({ clientId: 'stop-race', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 4, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't', numPartitions: 3, replicationFactor: 3 }] });
    await admin.disconnect();
    for (let i = 0; i < Number(values.iterations); i++) {
      const consumer = kafka.consumer({ groupId: `g${i}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: () => Promise.resolve(false) } });
      await consumer.connect();
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      await sleep(1500);
      const x = 1 + (i % 3);
      const y = 1 + ((i + 1) % 3);
      cluster.clientProxy(x).set('both', 'drop');
      await sleep(300);
      cluster.clientProxy(y).set('both', 'cut');
      await sleep(50 + ((i * 37) % 400));
      const t0 = Date.now();
      const hitsBefore = kafkajsStopRaceHits();
      process.stdout.write(`iteration ${i}: clients black-holed from broker ${x}, reset from ${y}; disconnect...`);
      await consumer.disconnect();
      const hit = kafkajsStopRaceHits() - hitsBefore;
      process.stdout.write(` done in ${Date.now() - t0} ms${values.unguarded ? '' : hit > 0 ? ` (raced: the guard ended ${hit} fetcher${hit > 1 ? 's' : ''})` : ' (no race)'}\n`);
      cluster.healNetwork();
      await sleep(500);
    }
  } finally {
    await cluster.destroy(true);
  }
  process.exit(0);
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
