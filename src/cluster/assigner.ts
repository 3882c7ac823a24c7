import type { Random } from '../util/random.js';

/**
 * Kafka's rack-unaware assignment: partition p's replicas start at broker (start + p) and the
 * followers are shifted so that preferred leaders and followers both spread evenly.
 * `brokers` must be sorted; the result's first replica of each partition is its preferred leader.
 */
export function assignReplicas(brokers: readonly number[], numPartitions: number, replicationFactor: number, random: Random): number[][] {
  const n = brokers.length;
  const start = random.int(0, n - 1);
  let shift = random.int(0, n - 1);
  const out: number[][] = [];
  for (let p = 0; p < numPartitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (start + p) % n;
    const replicas = [brokers[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) {
      const offset = 1 + ((shift + j) % (n - 1));
      replicas.push(brokers[(first + offset) % n]!);
    }
    out.push(replicas);
  }
  return out;
}
