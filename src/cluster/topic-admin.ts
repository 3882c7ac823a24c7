/**
 * Validation and record planning for the controller's admin operations (delete topics, add
 * partitions, alter configs, preferred leader election). Pure functions of the metadata image:
 * the Controller runs them inside its serialised queue and commits the records they return.
 */
import { ErrorCode } from '../kafka/errors.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import type { Random } from '../util/random.js';
import type { MetadataImage, PartitionState } from './image.js';
import type { MetadataRecord } from './records.js';
import { assignReplicasForBrokers } from './assigner.js';
import { TOPIC_CONFIG_DEFAULTS, validateTopicConfig } from './topic-config.js';
import { isKnownBrokerConfig } from '../config.js';


/** Kafka's ConfigResource.Type ids. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export interface DeleteTopicRequest {
  /** Null when the topic is named by id (DeleteTopics v6+). */
  readonly name: string | null;
  /** Null or the zero uuid when the topic is named by name. */
  readonly topicId: string | null;
}

export interface DeleteTopicResult {
  readonly name: string | null;
  readonly topicId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** Resolves each request against the image; a topic named twice is INVALID_REQUEST for both. */
export function planDeleteTopics(image: MetadataImage, requests: readonly DeleteTopicRequest[]): { results: DeleteTopicResult[]; records: MetadataRecord[] } {
  const results: DeleteTopicResult[] = [];
  const records: MetadataRecord[] = [];
  const seen = new Map<string, number>();
  for (const r of requests) {
    const byId = r.topicId !== null && r.topicId !== ZERO_UUID;
    const fail = (errorCode: number, errorMessage: string): void => {
      results.push({ name: r.name, topicId: byId ? r.topicId! : ZERO_UUID, errorCode, errorMessage });
    };
    if (byId && r.name !== null) { fail(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'); continue; }
    if (!byId && r.name === null) { fail(ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'); continue; }
    const topic = byId ? image.topicById(r.topicId!) : image.topics.get(r.name!);
    if (topic === undefined) {
      if (byId) fail(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
      else fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
      continue;
    }
    const earlier = seen.get(topic.name);
    if (earlier !== undefined) {
      const dup = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' };
      results[earlier] = { ...results[earlier]!, ...dup };
      results.push({ name: r.name, topicId: byId ? topic.topicId : ZERO_UUID, ...dup });
      continue;
    }
    seen.set(topic.name, results.length);
    results.push({ name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const r of results) {
    if (r.errorCode !== ErrorCode.NONE) continue;
    records.push({ type: 'RemoveTopic', data: { topicId: r.topicId } });
  }
  return { results, records };
}

export interface CreatePartitionsRequest {
  readonly name: string;
  /** The new total partition count. */
  readonly count: number;
  /** Replicas of each new partition, or null to let the controller assign them. */
  readonly assignments: readonly (readonly number[])[] | null;
}

export interface CreatePartitionsResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** Kafka's ReplicationControlManager.createPartitions validation, then the new PartitionRecords. */
export function planCreatePartitions(image: MetadataImage, r: CreatePartitionsRequest, random: Random): { result: CreatePartitionsResult; records: MetadataRecord[] } {
  const fail = (errorCode: number, errorMessage: string): { result: CreatePartitionsResult; records: MetadataRecord[] } => ({
    result: { name: r.name, errorCode, errorMessage }, records: [],
  });
  const topic = image.topics.get(r.name);
  if (topic === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${r.name}' does not exist.`);
  const current = topic.partitions.length;
  if (r.count < current) return fail(ErrorCode.INVALID_PARTITIONS, `The topic ${r.name} currently has ${current} partition(s); ${r.count} would not be an increase.`);
  if (r.count === current) return fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
  const additional = r.count - current;
  const rf = topic.partitions[0]?.replicas.length ?? 1;
  let assignment: number[][];
  if (r.assignments !== null) {
    if (r.assignments.length !== additional) {
      return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${additional} additional partition(s), but only ${r.assignments.length} assignment(s) were specified.`);
    }
    for (const a of r.assignments) {
      if (a.length === 0) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
      if (new Set(a).size !== a.length) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${a.find((b, i) => a.indexOf(b) !== i)} more than once.`);
      const unknown = a.find((b) => !image.brokers.has(b));
      if (unknown !== undefined) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`);
      if (a.length !== rf) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes a partition with ${a.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`);
    }
    assignment = r.assignments.map((a) => [...a]);
  } else {
    const live = [...image.brokers.values()].filter((b) => !b.fenced);
    if (rf > live.length) {
      return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`);
    }
    assignment = assignReplicasForBrokers(live, additional, rf, random);
  }
  const records: MetadataRecord[] = assignment.map((replicas, i) => partitionRecord(topic.topicId, {
    topic: r.name, partition: current + i, replicas, isr: replicas, leader: -1, leaderEpoch: -1, partitionEpoch: 0,
  }));
  return { result: { name: r.name, errorCode: ErrorCode.NONE, errorMessage: null }, records };
}

export function partitionRecord(topicId: string, p: PartitionState): MetadataRecord {
  return {
    type: 'Partition',
    data: {
      partitionId: p.partition, topicId, replicas: [...p.replicas], isr: [...p.isr],
      removingReplicas: [...(p.removingReplicas ?? [])], addingReplicas: [...(p.addingReplicas ?? [])],
      leader: p.leader, leaderRecoveryState: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch,
      directories: [], eligibleLeaderReplicas: null, lastKnownElr: null,
    },
  };
}

/** IncrementalAlterConfigs' OpType ids. */
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ConfigResourceChange {
  readonly resourceType: number;
  readonly resourceName: string;
  /** true: AlterConfigs (the given set replaces every dynamic config); false: IncrementalAlterConfigs. */
  readonly replace: boolean;
  readonly ops: readonly { readonly name: string; readonly op: number; readonly value: string | null }[];
}

export interface ConfigChangeResult {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** Topic configs whose values are lists (APPEND and SUBTRACT are allowed only on these). */
const LIST_CONFIGS = new Set(['cleanup.policy']);

type PlannedChange = { result: ConfigChangeResult; records: MetadataRecord[] };

/** A config change refused: the resource's error code and message. */
class ConfigPlanError extends Error {
  constructor(readonly errorCode: number, message: string) { super(message); }
}

/**
 * Validates a config change and returns the ConfigRecords that make it (topic configs; broker
 * configs in planBrokerConfigChange).
 */
export function planConfigChange(image: MetadataImage, c: ConfigResourceChange): PlannedChange {
  const done = (errorCode: number, errorMessage: string | null, records: MetadataRecord[] = []): PlannedChange => ({
    result: { resourceType: c.resourceType, resourceName: c.resourceName, errorCode, errorMessage }, records,
  });
  const names = new Set<string>();
  for (const o of c.ops) {
    if (names.has(o.name)) return done(ErrorCode.INVALID_REQUEST, `Error due to duplicate config keys`);
    names.add(o.name);
  }
  try {
    if (c.resourceType === ResourceType.BROKER) return done(ErrorCode.NONE, null, planBrokerConfigChange(image, c));
    if (c.resourceType !== ResourceType.TOPIC) return done(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${c.resourceType}`);
    const topic = image.topics.get(c.resourceName);
    if (topic === undefined) return done(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${c.resourceName} does not exist`);
    const next = applyConfigOps(topic.configs, c, {
      checkName(name) {
        if (!TOPIC_CONFIG_DEFAULTS.has(name)) throw new ConfigPlanError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
      },
      listOp(o, current) {
        if (!LIST_CONFIGS.has(o.name)) throw new ConfigPlanError(ErrorCode.INVALID_CONFIG, `Config value append is not allowed for config key: ${o.name}`);
        const items = (current ?? TOPIC_CONFIG_DEFAULTS.get(o.name)!).split(',').map((s) => s.trim()).filter((s) => s !== '');
        const given = (o.value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const result = o.op === ConfigOp.APPEND
          ? [...items, ...given.filter((g) => !items.includes(g))]
          : items.filter((i) => !given.includes(i));
        return result.join(',');
      },
    });
    for (const [name, value] of next) {
      const err = validateTopicConfig(name, value);
      if (err !== null) return done(ErrorCode.INVALID_CONFIG, err);
    }
    return done(ErrorCode.NONE, null, configRecords(ResourceType.TOPIC, topic.name, topic.configs, next));
  } catch (err) {
    if (err instanceof ConfigPlanError) return done(err.errorCode, err.message);
    throw err;
  }
}

/** A config change the image already shows: planning it again is valid and writes nothing. */
export function configChangeVisible(image: MetadataImage, c: ConfigResourceChange): boolean {
  const plan = planConfigChange(image, c);
  return plan.result.errorCode === ErrorCode.NONE && plan.records.length === 0;
}

/**
 * The configs after a change's ops (AlterConfigs: its set replaces every dynamic config; else
 * IncrementalAlterConfigs' SET, DELETE, and APPEND/SUBTRACT through `rules.listOp`, given the
 * current value if set). Throws ConfigPlanError for the first op refused.
 */
function applyConfigOps(
  current: ReadonlyMap<string, string>,
  c: ConfigResourceChange,
  rules: { checkName(name: string): void; listOp(o: ConfigResourceChange['ops'][number], current: string | undefined): string },
): Map<string, string> {
  const next = new Map(c.replace ? [] : current);
  for (const o of c.ops) {
    rules.checkName(o.name);
    switch (c.replace ? ConfigOp.SET : o.op) {
      case ConfigOp.SET:
        if (o.value === null) throw new ConfigPlanError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${o.name}`);
        next.set(o.name, o.value);
        break;
      case ConfigOp.DELETE:
        next.delete(o.name);
        break;
      case ConfigOp.APPEND:
      case ConfigOp.SUBTRACT:
        next.set(o.name, rules.listOp(o, next.get(o.name)));
        break;
      default:
        throw new ConfigPlanError(ErrorCode.INVALID_REQUEST, `Unknown alter configs operation type ${o.op}`);
    }
  }
  return next;
}

/** One ConfigRecord per config whose value differs between `before` and `after` (null: deleted). */
function configRecords(resourceType: number, resourceName: string, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const value = after.get(name);
    if (before.get(name) === value) continue;
    records.push({ type: 'Config', data: { resourceType, resourceName, name, value: value ?? null } });
  }
  return records;
}

/**
 * A broker (or, with the name '', cluster default) config change, as Kafka's ConfigAdminManager
 * validates it and its controller stores it: a config Kafka (here: raftka) cannot change at runtime
 * fails with INVALID_REQUEST (Kafka's ConfigException becomes InvalidRequestException, KAFKA-13609);
 * a name the broker does not know is stored as a BROKER ConfigRecord and otherwise ignored, as Kafka
 * does. raftka has no dynamic broker configs, so every config it knows is refused. Returns the
 * records; throws ConfigPlanError.
 */
function planBrokerConfigChange(image: MetadataImage, c: ConfigResourceChange): MetadataRecord[] {
  if (c.resourceName !== '' && !/^\d+$/.test(c.resourceName)) throw new ConfigPlanError(ErrorCode.INVALID_REQUEST, 'Unable to parse broker name as a base 10 number.');
  const nulls = c.replace ? c.ops.filter((o) => o.value === null).map((o) => o.name) : [];
  if (nulls.length > 0) throw new ConfigPlanError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  const current = image.brokerConfigs.get(c.resourceName) ?? new Map<string, string>();
  const next = applyConfigOps(current, c, {
    checkName() { /* any name: unknown ones are stored */ },
    // Only list-typed configs take APPEND/SUBTRACT; an unknown name has no type.
    listOp(o) { throw new ConfigPlanError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${o.name}`); },
  });
  const touched = [...next.keys()].filter((name) => isKnownBrokerConfig(name));
  if (touched.length > 0) throw new ConfigPlanError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: Set(${touched.join(', ')})`);
  return configRecords(ResourceType.BROKER, c.resourceName, current, next);
}

/** Kafka's ElectionType ids. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

export type ElectionDecision =
  | { readonly kind: 'error'; readonly errorCode: number; readonly errorMessage: string }
  | { readonly kind: 'transfer'; readonly to: number };

/**
 * What an election of one partition needs. Leadership is decided by the partition's Raft group,
 * so a preferred election asks the current leader to transfer to the preferred replica. UNCLEAN
 * keeps Kafka's codes: ELECTION_NOT_NEEDED while a live leader exists, else
 * ELIGIBLE_LEADERS_NOT_AVAILABLE. Raft elects a leader by itself whenever a majority of the
 * replicas is up, and never one that may lack committed data; with a majority permanently gone
 * there is no replica Raft may elect, and raftka does not force one (see README, "Unclean leader
 * election").
 */
export function decideElection(image: MetadataImage, topic: string, partition: number, electionType: number): ElectionDecision {
  const p = image.partition(topic, partition);
  if (p === undefined) return { kind: 'error', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The partition ${topic}-${partition} does not exist.` };
  const preferred = p.replicas[0]!;
  const live = (id: number): boolean => image.brokers.get(id)?.fenced === false;
  if (electionType === ElectionType.UNCLEAN) {
    if (p.leader !== -1 && live(p.leader)) return { kind: 'error', errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
    return { kind: 'error', errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: `Unclean election is not possible for ${topic}-${partition}: its Raft group elects a leader as soon as a majority of its replicas is up.` };
  }
  if (electionType !== ElectionType.PREFERRED) return { kind: 'error', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown election type ${electionType}` };
  if (p.leader === preferred) return { kind: 'error', errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
  if (!live(preferred) || !p.isr.includes(preferred)) {
    return { kind: 'error', errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `Failed to elect leader for partition ${topic}-${partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy` };
  }
  return { kind: 'transfer', to: preferred };
}
