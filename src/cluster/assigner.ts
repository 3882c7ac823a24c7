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

/**
 * Kafka's rack-aware assignment: the brokers are listed alternating between racks (the first
 * broker of each rack, then the second of each...), partition p's first replica walks that list
 * from a random start, and each further replica takes the next broker (walking with a shift, as
 * the rack-unaware assignment does) on a rack that has no replica of the partition yet, as long
 * as such a rack exists, and on a broker without one. Replicas of a partition thus spread over
 * min(replication factor, racks) racks, and leaders and followers spread over brokers and racks.
 */
export function assignReplicasRackAware(brokers: readonly { id: number; rack: string }[], numPartitions: number, replicationFactor: number, random: Random): number[][] {
  const byRack = new Map<string, number[]>();
  for (const b of [...brokers].sort((x, y) => x.id - y.id)) {
    const list = byRack.get(b.rack) ?? [];
    list.push(b.id);
    byRack.set(b.rack, list);
  }
  const rackNames = [...byRack.keys()].sort();
  const arranged: number[] = [];
  for (let i = 0; arranged.length < brokers.length; i++) {
    for (const r of rackNames) { const id = byRack.get(r)![i]; if (id !== undefined) arranged.push(id); }
  }
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
  const n = arranged.length;
  const numRacks = rackNames.length;
  const start = random.int(0, n - 1);
  let shift = random.int(0, n - 1);
  const out: number[][] = [];
  for (let p = 0; p < numPartitions; p++) {
    if (p > 0 && p % n === 0) shift++;
    const first = (start + p) % n;
    const leader = arranged[first]!;
    const replicas = [leader];
    const racks = new Set([rackOf.get(leader)!]);
    const used = new Set([leader]);
    let k = 0;
    for (let j = 0; j < replicationFactor - 1; j++) {
      for (;;) {
        const broker = arranged[(first + 1 + ((shift * numRacks + k) % (n - 1))) % n]!;
        k++;
        const rack = rackOf.get(broker)!;
        if ((!racks.has(rack) || racks.size === numRacks) && (!used.has(broker) || used.size === n)) {
          replicas.push(broker); racks.add(rack); used.add(broker);
          break;
        }
      }
    }
    out.push(replicas);
  }
  return out;
}

/**
 * The assignment for live brokers: rack-aware when every one of them has `broker.rack` set (as
 * Kafka, which refuses a mix unless told to ignore racks; raftka then falls back to rack-unaware).
 */
export function assignReplicasForBrokers(brokers: readonly { nodeId: number; rack: string | null }[], numPartitions: number, replicationFactor: number, random: Random): number[][] {
  const sorted = [...brokers].sort((a, b) => a.nodeId - b.nodeId);
  if (sorted.length > 1 && sorted.every((b) => b.rack !== null && b.rack !== '')) {
    return assignReplicasRackAware(sorted.map((b) => ({ id: b.nodeId, rack: b.rack! })), numPartitions, replicationFactor, random);
  }
  return assignReplicas(sorted.map((b) => b.nodeId), numPartitions, replicationFactor, random);
}
