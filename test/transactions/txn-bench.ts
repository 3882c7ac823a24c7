/**
 * Transaction latency and rate with kafkajs on three brokers (not a test; run by hand):
 *   node dist/test/transactions/txn-bench.js [transactions=200] [partitions per transaction=1]
 * One transactional producer runs `transactions` transactions one after another, each sending one
 * record to each of `partitions` partitions (acks=all) and committing. Prints p50/p99 of the
 * whole transaction (send + commit) and of the commit alone, and transactions per second.
 */
import { Kafka, logLevel } from 'kafkajs';
import { startCluster } from '../../compat/harness.js';

function percentile(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!; }

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200);
  const partitions = Number(process.argv[3] ?? 1);
  const cluster = await startCluster({ size: 3, config: { 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 10 } });
  try {
    const kafka = new Kafka({ clientId: 'txn-bench', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: Math.max(3, partitions), replicationFactor: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: 'bench-txn', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const whole: number[] = [];
    const commit: number[] = [];
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const t = await producer.transaction();
      await t.send({ topic: 'bench', acks: -1, messages: Array.from({ length: partitions }, (_, p) => ({ partition: p, value: `v-${i}` })) });
      const t1 = performance.now();
      await t.commit();
      const t2 = performance.now();
      whole.push(t2 - t0);
      commit.push(t2 - t1);
    }
    const seconds = (performance.now() - started) / 1000;
    await producer.disconnect();
    whole.sort((a, b) => a - b);
    commit.sort((a, b) => a - b);
    const f = (x: number): string => x.toFixed(1);
    process.stdout.write(`${n} transactions x ${partitions} partition(s): ${f(n / seconds)} txn/s; transaction p50 ${f(percentile(whole, 0.5))} ms p99 ${f(percentile(whole, 0.99))} ms; commit p50 ${f(percentile(commit, 0.5))} ms p99 ${f(percentile(commit, 0.99))} ms\n`);
  } finally {
    await cluster.destroy();
  }
}

await main();
