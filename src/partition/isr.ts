import type { FollowerProgress } from '../raft/core.js';

/**
 * Who is in sync with a partition leader, for min.insync.replicas. The leader is always in its
 * own ISR. The default reads the Raft leader's follower progress; a multi-broker controller that
 * keeps the ISR in the metadata can feed its own source instead (Partition.setIsrSource).
 */
export interface IsrSource {
  /** Node ids of the in-sync replicas, the leader included. Only asked on the leader. */
  inSyncReplicas(): readonly number[];
}

/** replica.lag.time.max.ms (30 s) in Raft ticks of 100 ms. */
export const DEFAULT_MAX_LAG_TICKS = 300;

/**
 * The ISR from Raft progress: the leader, and every follower that held the leader's whole log
 * within the last `maxLagTicks` leader ticks (Kafka's replica.lag.time.max.ms rule).
 */
export function raftIsr(
  leaderId: number, leaderTick: number, progress: ReadonlyMap<number, Pick<FollowerProgress, 'lastCaughtUpTick'>>, maxLagTicks = DEFAULT_MAX_LAG_TICKS,
): number[] {
  const isr = [leaderId];
  for (const [id, p] of progress) {
    if (id !== leaderId && leaderTick - p.lastCaughtUpTick <= maxLagTicks) isr.push(id);
  }
  return isr;
}
