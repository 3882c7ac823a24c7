/**
 * Partition reassignment (AlterPartitionReassignments / ListPartitionReassignments), as Kafka's
 * controller keeps it: a PartitionRecord with the union of the current and target replicas (the
 * target first), `addingReplicas` and `removingReplicas`. The replicas actually move by Raft
 * membership changes driven by the partition's Raft leader (nextMembershipStep): each new replica
 * joins as a learner, catches up and is promoted; then each old one is removed, one change at a
 * time; a leader that is being removed hands leadership to a target replica first. The leader
 * reports in sync only the Raft voters, so once its ISR is exactly the target the controller
 * completes the reassignment (completeReassignment): final replica list, removed replicas gone
 * (their brokers stop the groups and delete the data).
 */
import { ErrorCode } from '../kafka/errors.js';
import type { MetadataImage, PartitionState } from './image.js';
import type { MetadataRecord } from './records.js';
import { partitionRecord } from './topic-admin.js';

export interface ReassignmentRequest {
  readonly topic: string;
  readonly partition: number;
  /** The target replicas, or null to cancel the reassignment in progress. */
  readonly replicas: readonly number[] | null;
}

export interface ReassignmentResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface OngoingReassignment {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

export function isReassigning(p: PartitionState): boolean {
  return (p.addingReplicas?.length ?? 0) > 0 || (p.removingReplicas?.length ?? 0) > 0;
}

/** The voters the partition's Raft group should converge to: the target during a reassignment, else the replicas. */
export function targetReplicas(p: PartitionState): number[] {
  const removing = p.removingReplicas ?? [];
  return p.replicas.filter((r) => !removing.includes(r));
}

/** The replicas before the reassignment started (what a cancellation goes back to). */
export function originalReplicas(p: PartitionState): number[] {
  const adding = p.addingReplicas ?? [];
  return p.replicas.filter((r) => !adding.includes(r));
}

/**
 * Validates each request against the image (Kafka's ReplicationControlManager rules and error
 * codes) and returns the PartitionRecords that start, change, cancel or (when nothing needs to
 * move) directly complete each reassignment. A partition named twice: the last request wins, as
 * Kafka's map of requests does.
 */
export function planReassignments(image: MetadataImage, requests: readonly ReassignmentRequest[]): { results: ReassignmentResult[]; records: MetadataRecord[] } {
  const results: ReassignmentResult[] = [];
  const records: MetadataRecord[] = [];
  for (const r of requests) {
    const done = (errorCode: number, errorMessage: string | null): void => { results.push({ topic: r.topic, partition: r.partition, errorCode, errorMessage }); };
    const topic = image.topics.get(r.topic);
    const p = topic?.partitions[r.partition];
    if (topic === undefined || p === undefined) { done(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${r.topic}-${r.partition}.`); continue; }
    if (r.replicas === null) {
      if (!isReassigning(p)) { done(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `No ongoing reassignment for partition ${r.topic}-${r.partition}.`); continue; }
      const original = originalReplicas(p);
      records.push(partitionRecord(topic.topicId, {
        ...p, replicas: original, isr: keepIsr(p.isr, original), addingReplicas: [], removingReplicas: [], partitionEpoch: p.partitionEpoch + 1,
      }));
      done(ErrorCode.NONE, null);
      continue;
    }
    const target = [...r.replicas];
    if (target.length === 0) { done(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.'); continue; }
    const dup = target.find((b, i) => target.indexOf(b) !== i);
    if (dup !== undefined) { done(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${dup} more than once.`); continue; }
    const unknown = target.find((b) => !image.brokers.has(b));
    if (unknown !== undefined) { done(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`); continue; }
    if (target.some((b) => b < 0)) { done(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an invalid broker id.'); continue; }
    // As Kafka: the new target is taken against the current replica set (the union, if a
    // reassignment is already in progress).
    const current = p.replicas;
    const adding = target.filter((b) => !current.includes(b));
    const removing = current.filter((b) => !target.includes(b));
    const replicas = [...target, ...removing];
    let next: PartitionState;
    if (adding.length === 0 && removing.length === 0) {
      // nothing to move: the target (maybe reordered) is final at once
      next = { ...p, replicas: target, addingReplicas: [], removingReplicas: [], partitionEpoch: p.partitionEpoch + 1 };
    } else {
      next = { ...p, replicas, addingReplicas: adding, removingReplicas: removing, partitionEpoch: p.partitionEpoch + 1 };
    }
    records.push(partitionRecord(topic.topicId, next));
    done(ErrorCode.NONE, null);
  }
  return { results, records };
}

/**
 * The record completing a reassignment once the leader reports an ISR holding every target
 * replica and no removed one (its Raft configuration is the target), or undefined.
 */
export function completeReassignment(topicId: string, p: PartitionState, isr: readonly number[]): MetadataRecord | undefined {
  if (!isReassigning(p)) return undefined;
  const target = targetReplicas(p);
  const removing = p.removingReplicas ?? [];
  if (!target.every((r) => isr.includes(r)) || removing.some((r) => isr.includes(r))) return undefined;
  return partitionRecord(topicId, {
    ...p, replicas: target, isr: keepIsr(isr, target), addingReplicas: [], removingReplicas: [], partitionEpoch: p.partitionEpoch + 1,
  });
}

/** Reassignments in progress, for the partitions asked about (null: all). Unknown topics are skipped, as Kafka does. */
export function listReassignments(image: MetadataImage, topics: readonly { name: string; partitions: readonly number[] }[] | null): OngoingReassignment[] {
  const out: OngoingReassignment[] = [];
  const wanted = topics ?? [...image.topics.values()].map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partition) }));
  for (const w of wanted) {
    const t = image.topics.get(w.name);
    if (t === undefined) continue;
    for (const i of w.partitions) {
      const p = t.partitions[i];
      if (p === undefined || !isReassigning(p)) continue;
      out.push({ topic: t.name, partition: i, replicas: [...p.replicas], addingReplicas: [...(p.addingReplicas ?? [])], removingReplicas: [...(p.removingReplicas ?? [])] });
    }
  }
  return out;
}

function keepIsr(isr: readonly number[], replicas: readonly number[]): number[] {
  const kept = isr.filter((r) => replicas.includes(r));
  return kept.length > 0 ? kept : [...isr];
}

export type MembershipStep =
  | { readonly kind: 'none' }
  | { readonly kind: 'change'; readonly change: { readonly type: 'addLearner' | 'promote' | 'remove'; readonly node: number } }
  | { readonly kind: 'transfer'; readonly to: number };

/**
 * The next single-server change that brings a Raft configuration to `target` voters (learners
 * that are not in the target are removed first; then every target replica is added as a learner;
 * each learner is promoted once caught up; then each extra voter is removed, the leader last,
 * after handing leadership to a target voter). One step per committed change.
 */
export function nextMembershipStep(
  membership: { readonly voters: readonly number[]; readonly learners: readonly number[] },
  pending: boolean,
  target: readonly number[],
  self: number,
  alive: (node: number) => boolean = () => true,
): MembershipStep {
  if (pending || target.length === 0) return { kind: 'none' };
  const { voters, learners } = membership;
  const strayLearner = learners.find((l) => !target.includes(l));
  if (strayLearner !== undefined) return { kind: 'change', change: { type: 'remove', node: strayLearner } };
  const missing = target.find((t) => !voters.includes(t) && !learners.includes(t));
  if (missing !== undefined) return { kind: 'change', change: { type: 'addLearner', node: missing } };
  const learner = learners[0];
  if (learner !== undefined) return { kind: 'change', change: { type: 'promote', node: learner } };
  const extra = voters.filter((v) => !target.includes(v));
  const other = extra.find((v) => v !== self);
  if (other !== undefined) return { kind: 'change', change: { type: 'remove', node: other } };
  if (extra.includes(self)) {
    const to = target.find((t) => t !== self && voters.includes(t) && alive(t)) ?? target.find((t) => t !== self && voters.includes(t));
    if (to !== undefined) return { kind: 'transfer', to };
  }
  return { kind: 'none' };
}
