import type { Logger } from '../util/log.js';
import type { Random } from '../util/random.js';
import { ErrorCode } from '../kafka/errors.js';
import type { BrokerEndpoint, MetadataImage, ScramCredential } from './image.js';
import type { MetadataRecord } from './records.js';
import { ConfigSource, TOPIC_CONFIG_DEFAULTS, validateTopicConfig } from './topic-config.js';
import { planScramAlterations, planScramBootstrap, type ScramAlterationResult, type ScramDeletion, type ScramUpsertion } from '../security/scram-admin.js';
import type { ScramBootstrapEntry } from '../security/scram.js';
import type { Acl, AclFilter } from '../security/acls.js';
import { planCreateAcls, planDeleteAcls, type AclCreateResult, type AclDeleteResult } from '../security/acl-admin.js';
import { assignReplicasForBrokers } from './assigner.js';
import {
  completeReassignment, isReassigning, listReassignments, planReassignments,
  type OngoingReassignment, type ReassignmentRequest, type ReassignmentResult,
} from './reassignment.js';
import {
  planConfigChange, planCreatePartitions, planDeleteTopics, decideElection, partitionRecord,
  type ConfigChangeResult, type ConfigResourceChange, type CreatePartitionsRequest, type CreatePartitionsResult,
  type DeleteTopicRequest, type DeleteTopicResult,
} from './topic-admin.js';

export interface CreateTopicRequest {
  readonly name: string;
  /** -1: the broker default (num.partitions). */
  readonly numPartitions: number;
  /** -1: the broker default (default.replication.factor). */
  readonly replicationFactor: number;
  readonly assignments: readonly { readonly partition: number; readonly brokerIds: readonly number[] }[];
  readonly configs: ReadonlyMap<string, string | null>;
}

export interface CreateTopicResult {
  readonly name: string;
  readonly topicId: string | null;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs: readonly { name: string; value: string | null; source: number }[];
}

/** The controller's view of the metadata log: records go in through the controller's Raft group. */
export interface MetadataWriter {
  /** Appends the records as one batch; resolves with the offset of the last once it is committed. */
  append(records: readonly MetadataRecord[]): Promise<bigint>;
  /** The image as applied so far on this node. */
  image(): MetadataImage;
  /** Resolves when `predicate(image)` holds, or rejects with TimeoutError at `deadline` (monotonic ms). */
  waitForImage(predicate: (image: MetadataImage) => boolean, deadline: number): Promise<void>;
}

export interface ControllerConfig {
  readonly numPartitions: number;             // num.partitions
  readonly defaultReplicationFactor: number;  // default.replication.factor
}

export class TimeoutError extends Error {
  constructor(message: string) { super(message); this.name = 'TimeoutError'; }
}

/** A preferred election asks the leader again after this long without a leader change. */
export const ELECTION_RETRY_MS = 2000;

const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;
const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * The active controller: validates and commits metadata changes. Changes are serialised (one at a
 * time, as KRaft's controller event queue does), so validation always sees the latest image.
 */
export class Controller {
  private queue: Promise<unknown> = Promise.resolve();
  /** When each broker last heartbeated (monotonic ms); kept by the active controller only. */
  private readonly lastHeartbeat = new Map<number, number>();

  constructor(
    private readonly metadata: MetadataWriter,
    private readonly config: ControllerConfig,
    private readonly random: Random,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Hands `brokerId` the next block of producer ids, committed (a ProducerIdsRecord) before it is
   * returned, so no id is ever given out twice, across controller failovers too.
   */
  allocateProducerIds(brokerId: number, blockSize: number): Promise<{ firstProducerId: bigint; size: number }> {
    return this.serialise(async () => {
      const first = this.metadata.image().nextProducerId;
      await this.metadata.append([{
        type: 'ProducerIds', data: { brokerId, brokerEpoch: this.brokerEpoch(brokerId), nextProducerId: first + BigInt(blockSize) },
      }]);
      return { firstProducerId: first, size: blockSize };
    });
  }

  /** The broker's epoch (the offset of its registration), -1 if unknown. */
  brokerEpoch(nodeId: number): bigint { return this.metadata.image().brokers.get(nodeId)?.epoch ?? -1n; }

  /** Called when this node becomes the active controller: every known broker gets a full session to heartbeat. */
  activate(): void {
    const now = this.now();
    this.lastHeartbeat.clear();
    for (const id of this.metadata.image().brokers.keys()) this.lastHeartbeat.set(id, now);
  }

  /**
   * A broker heartbeat: keeps it unfenced, and unfences it if it was fenced. `wantShutDown`
   * starts its controlled shutdown (it stays listed and leading, but no leadership moves to it
   * while it hands its own away); `wantFence` then fences it at once.
   */
  heartbeat(nodeId: number, wantShutDown = false, wantFence = false): Promise<{ known: boolean; fenced: boolean }> {
    this.lastHeartbeat.set(nodeId, this.now());
    return this.serialise(async () => {
      const b = this.metadata.image().brokers.get(nodeId);
      if (b === undefined) return { known: false, fenced: true };
      if (wantFence) {
        if (!b.fenced) {
          this.log.info({ broker: nodeId }, 'fencing broker at its request (end of its controlled shutdown)');
          await this.metadata.append([{ type: 'FenceBroker', data: { id: nodeId, epoch: b.epoch } }]);
        }
        return { known: true, fenced: true };
      }
      if (wantShutDown) {
        if (!b.inControlledShutdown) {
          this.log.info({ broker: nodeId }, 'broker in controlled shutdown: no leadership moves to it');
          await this.metadata.append([{ type: 'BrokerRegistrationChange', data: { brokerId: nodeId, brokerEpoch: b.epoch, fenced: 0, inControlledShutdown: 1, logDirs: [] } }]);
        }
        return { known: true, fenced: b.fenced };
      }
      if (b.fenced) {
        this.log.info({ broker: nodeId }, 'unfencing broker');
        await this.metadata.append([{ type: 'UnfenceBroker', data: { id: nodeId, epoch: b.epoch } }]);
      }
      return { known: true, fenced: false };
    });
  }

  /** Fences every broker whose last heartbeat is older than the session timeout (broker.session.timeout.ms). */
  fenceExpiredBrokers(sessionTimeoutMs: number): Promise<void> {
    return this.serialise(async () => {
      const now = this.now();
      const expired = [...this.metadata.image().brokers.values()]
        .filter((b) => !b.fenced && now - (this.lastHeartbeat.get(b.nodeId) ?? now) > sessionTimeoutMs);
      if (expired.length === 0) return;
      for (const b of expired) this.log.warn({ broker: b.nodeId, sessionTimeoutMs }, 'fencing broker: no heartbeat within the session timeout');
      await this.metadata.append(expired.map((b) => ({ type: 'FenceBroker' as const, data: { id: b.nodeId, epoch: b.epoch } })));
    });
  }

  /**
   * Commits the broker's registration (unfenced) if it is new, a new process of the broker
   * (another incarnation id), or its endpoints changed.
   * `endpoints`: every listener (default: one PLAINTEXT listener at host:port).
   */
  registerBroker(nodeId: number, host: string, port: number, rack: string | null, incarnationId: string,
    endpoints: readonly BrokerEndpoint[] = [{ name: 'PLAINTEXT', host, port, securityProtocol: 0 }]): Promise<void> {
    this.lastHeartbeat.set(nodeId, this.now());
    return this.serialise(async () => {
      const existing = this.metadata.image().brokers.get(nodeId);
      const sameEndpoints = existing !== undefined && existing.endpoints.length === endpoints.length
        && existing.endpoints.every((e, i) => e.name === endpoints[i]!.name && e.host === endpoints[i]!.host && e.port === endpoints[i]!.port && e.securityProtocol === endpoints[i]!.securityProtocol);
      const restarted = existing !== undefined && existing.incarnationId !== incarnationId;
      if (existing !== undefined && !restarted && sameEndpoints && existing.host === host && existing.port === port && !existing.fenced && !existing.inControlledShutdown && existing.rack === rack) return;
      // A new process of a registered broker (as Kafka's controller handles an unclean shutdown,
      // KIP-966): the leaderships the metadata still gives it are stale, since a restarted replica
      // starts as a follower, and the clients would be sent to a broker that refuses. Fencing the
      // old registration first clears them (leader -1) and its ISR places until the partitions'
      // Raft leaders report.
      const fence: MetadataRecord[] = restarted && !existing.fenced ? [{ type: 'FenceBroker', data: { id: nodeId, epoch: existing.epoch } }] : [];
      if (fence.length > 0) this.log.info({ broker: nodeId }, 'broker restarted: fencing its previous registration');
      const epoch = this.metadata.image().offset + 1n + BigInt(fence.length);
      await this.metadata.append([...fence, {
        type: 'RegisterBroker',
        data: {
          brokerId: nodeId, isMigratingZkBroker: false, incarnationId, brokerEpoch: epoch,
          endPoints: endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
          features: [], rack, fenced: false, inControlledShutdown: false, logDirs: [],
        },
      }]);
    });
  }

  /**
   * A partition's Raft group elected `leader` in term `leaderEpoch` (and, optionally, reports the
   * replicas in sync with it): record it in the metadata. Reports of older epochs are ignored.
   */
  recordLeader(topic: string, partition: number, leader: number, leaderEpoch: number, isr?: readonly number[]): Promise<void> {
    return this.recordLeaders([{ topic, partition, leader, leaderEpoch, isr }]);
  }

  /** Many leader reports, committed as one metadata batch (only the partitions that change). */
  recordLeaders(reports: readonly { topic: string; partition: number; leader: number; leaderEpoch: number; isr?: readonly number[] }[]): Promise<void> {
    return this.serialise(async () => {
      const image = this.metadata.image();
      const records: MetadataRecord[] = [];
      for (const r of reports) {
        const t = image.topics.get(r.topic);
        const p = t?.partitions[r.partition];
        if (t === undefined || p === undefined || r.leaderEpoch < p.leaderEpoch) continue;
        // Fenced brokers are never in the ISR, whatever a leader says.
        const newIsr = (r.isr ?? p.isr).filter((id) => p.replicas.includes(id) && image.brokers.get(id)?.fenced === false);
        // A reassignment completes when the leader's in-sync voters are exactly the target (its
        // Raft configuration got there: see reassignment.ts).
        const completed = r.isr !== undefined && isReassigning(p)
          ? completeReassignment(t.topicId, { ...p, leader: r.leader, leaderEpoch: r.leaderEpoch }, newIsr)
          : undefined;
        if (completed !== undefined) {
          this.log.info({ topic: r.topic, partition: r.partition, replicas: newIsr }, 'partition reassignment completed');
          records.push(completed);
          continue;
        }
        if (p.leader === r.leader && p.leaderEpoch === r.leaderEpoch && sameMembers(newIsr, p.isr)) continue;
        records.push(partitionRecord(t.topicId, { ...p, leader: r.leader, leaderEpoch: r.leaderEpoch, isr: newIsr, partitionEpoch: p.partitionEpoch + 1 }));
      }
      if (records.length > 0) await this.metadata.append(records);
    });
  }

  /**
   * Validates, commits the topic and partition records, then waits until every partition of each
   * created topic has its leader on its preferred replica (or on a live replica if the preferred
   * one is fenced). A topic whose leaders are not in place by the deadline gets REQUEST_TIMED_OUT.
   */
  async createTopics(requests: readonly CreateTopicRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreateTopicResult[]> {
    const deadline = this.now() + Math.max(0, timeoutMs);
    const planned = await this.serialise(async () => {
      const image = this.metadata.image();
      const plans = requests.map((r) => this.plan(image, r));
      const records: MetadataRecord[] = [];
      for (const p of plans) if (p.records !== undefined) records.push(...p.records);
      if (!validateOnly && records.length > 0) await this.metadata.append(records);
      return plans;
    });
    return Promise.all(planned.map(async (p) => {
      if (validateOnly || p.result.errorCode !== ErrorCode.NONE) return p.result;
      try {
        await this.metadata.waitForImage((image) => leadersInPlace(image, p.result.name), deadline);
        return p.result;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        this.log.warn({ topic: p.result.name, timeoutMs }, 'topic created but partition leaders not in place before the request timeout');
        return { ...p.result, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `Timed out waiting for the partition leaders of topic '${p.result.name}' after ${timeoutMs} ms.` };
      }
    }));
  }

  /** Commits a RemoveTopicRecord per deletable topic; brokers then stop and delete the replicas. */
  deleteTopics(requests: readonly DeleteTopicRequest[]): Promise<DeleteTopicResult[]> {
    return this.serialise(async () => {
      const { results, records } = planDeleteTopics(this.metadata.image(), requests);
      if (records.length > 0) await this.metadata.append(records);
      return results;
    });
  }

  /** Adds partitions, then waits (as createTopics does) for every partition's preferred leader. */
  async createPartitions(requests: readonly CreatePartitionsRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreatePartitionsResult[]> {
    const deadline = this.now() + Math.max(0, timeoutMs);
    const planned = await this.serialise(async () => {
      const counts = new Map<string, number>();
      for (const r of requests) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
      const image = this.metadata.image();
      const plans = requests.map((r) => counts.get(r.name)! > 1
        ? { result: { name: r.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' }, records: [] }
        : planCreatePartitions(image, r, this.random));
      const records = plans.flatMap((p) => p.records);
      if (!validateOnly && records.length > 0) await this.metadata.append(records);
      return plans;
    });
    return Promise.all(planned.map(async ({ result }) => {
      if (validateOnly || result.errorCode !== ErrorCode.NONE) return result;
      try {
        await this.metadata.waitForImage((image) => leadersInPlace(image, result.name), deadline);
        return result;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        return { ...result, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `Timed out waiting for the leaders of the new partitions of '${result.name}' after ${timeoutMs} ms.` };
      }
    }));
  }

  /**
   * AlterPartitionReassignments: validates, then commits PartitionRecords with the union of the
   * replicas and adding/removing sets (or the original replicas, for a cancellation). Answers once
   * committed, as Kafka does: the move itself runs in the background (ListPartitionReassignments).
   */
  alterPartitionReassignments(requests: readonly ReassignmentRequest[]): Promise<ReassignmentResult[]> {
    return this.serialise(async () => {
      const { results, records } = planReassignments(this.metadata.image(), requests);
      if (records.length > 0) await this.metadata.append(records);
      for (const r of requests) {
        this.log.info({ topic: r.topic, partition: r.partition, target: r.replicas }, r.replicas === null ? 'partition reassignment cancelled' : 'partition reassignment started');
      }
      return results;
    });
  }

  /** ListPartitionReassignments: the reassignments in progress (topics null: all). */
  async listPartitionReassignments(topics: readonly { name: string; partitions: readonly number[] }[] | null): Promise<OngoingReassignment[]> {
    return listReassignments(this.metadata.image(), topics);
  }

  /** AlterConfigs (replace) and IncrementalAlterConfigs: validated per resource, committed as ConfigRecords. */
  alterConfigs(changes: readonly ConfigResourceChange[], validateOnly: boolean): Promise<ConfigChangeResult[]> {
    return this.serialise(async () => {
      const image = this.metadata.image();
      const plans = changes.map((c) => planConfigChange(image, c));
      const records = plans.flatMap((p) => p.records);
      if (!validateOnly && records.length > 0) await this.metadata.append(records);
      return plans.map((p) => p.result);
    });
  }

  /**
   * Preferred (or unclean) leader election. `partitions` null means every partition, and then
   * partitions that need no election are left out of the result (as Kafka does). A preferred
   * election asks the partition's current leader (as this controller's image names it) to hand
   * leadership to the preferred replica with a Raft leadership transfer (`transfer`: a local call
   * or a LeaderTransfer RPC to the leader's broker, see leader-transfer.ts), then waits for the
   * preferred replica to be recorded as leader. It asks again whenever the image names another
   * leader than the one it asked (leadership moved meanwhile), and every ELECTION_RETRY_MS while
   * nothing changes (a transfer that did not complete: the target did not catch up in time, or
   * the request was lost); REQUEST_TIMED_OUT at timeoutMs.
   */
  async electLeaders(
    partitions: readonly { readonly topic: string; readonly partition: number }[] | null,
    electionType: number,
    timeoutMs: number,
    transfer: (topic: string, partition: number, to: number, leader: number) => void,
  ): Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]> {
    const deadline = this.now() + Math.max(0, timeoutMs);
    const image = this.metadata.image();
    const all = partitions === null;
    const targets = partitions ?? [...image.topics.values()].flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
    const results = await Promise.all(targets.map(async ({ topic, partition }) => {
      const decision = decideElection(image, topic, partition, electionType);
      if (decision.kind === 'error') return { topic, partition, errorCode: decision.errorCode, errorMessage: decision.errorMessage as string | null };
      for (;;) {
        // the image now: the preferred replica may lead already, or have been fenced meanwhile
        const latest = this.metadata.image();
        const again = decideElection(latest, topic, partition, electionType);
        if (again.kind === 'error') {
          return again.errorCode === ErrorCode.ELECTION_NOT_NEEDED
            ? { topic, partition, errorCode: ErrorCode.NONE as number, errorMessage: null }
            : { topic, partition, errorCode: again.errorCode, errorMessage: again.errorMessage as string | null };
        }
        const asked = latest.partition(topic, partition)!.leader;
        transfer(topic, partition, decision.to, asked);
        try {
          await this.metadata.waitForImage((i) => {
            const p = i.partition(topic, partition);
            return p === undefined || p.leader !== asked;
          }, Math.min(deadline, this.now() + ELECTION_RETRY_MS));
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
          if (this.now() >= deadline) {
            return { topic, partition, errorCode: ErrorCode.REQUEST_TIMED_OUT as number, errorMessage: `Timed out waiting for ${decision.to} to lead ${topic}-${partition}.` };
          }
        }
      }
    }));
    return all ? results.filter((r) => r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED) : results;
  }

  /** CreateAcls: validated, and committed as AccessControlEntryRecords (Kafka's AclControlManager). */
  createAcls(creations: readonly Acl[]): Promise<AclCreateResult[]> {
    return this.serialise(async () => {
      const { results, records } = planCreateAcls(this.metadata.image().acls, creations, () => randomUuid(this.random));
      if (records.length > 0) await this.metadata.append(records);
      return results;
    });
  }

  /** DeleteAcls: every ACL a filter matches is removed (RemoveAccessControlEntryRecords). */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]> {
    return this.serialise(async () => {
      const { results, records } = planDeleteAcls(this.metadata.image().acls, filters);
      if (records.length > 0) await this.metadata.append(records);
      return results;
    });
  }

  /** AlterUserScramCredentials: validated per user, committed as (Remove)UserScramCredentialRecords. */
  alterScramCredentials(deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): Promise<ScramAlterationResult[]> {
    return this.serialise(async () => {
      const { results, records } = planScramAlterations(this.metadata.image(), deletions, upsertions);
      if (records.length > 0) await this.metadata.append(records);
      return results;
    });
  }

  /** Writes the bootstrap SCRAM credentials once: only while no SCRAM record was ever committed. Resolves with how many were written. */
  bootstrapScram(entries: readonly ScramBootstrapEntry[]): Promise<number> {
    return this.serialise(async () => {
      const records = planScramBootstrap(this.metadata.image(), entries);
      if (records.length > 0) await this.metadata.append(records);
      return records.length;
    });
  }

  /** A user's SCRAM credential as committed (for DescribeUserScramCredentials and authentication). */
  scramCredential(user: string, mechanism: number): ScramCredential | undefined {
    return this.metadata.image().scram.users.get(user)?.get(mechanism);
  }

  private plan(image: MetadataImage, r: CreateTopicRequest): { result: CreateTopicResult; records?: MetadataRecord[] } {
    const fail = (errorCode: number, errorMessage: string): { result: CreateTopicResult } => ({
      result: { name: r.name, topicId: null, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: [] },
    });
    const nameError = validateTopicName(r.name);
    if (nameError !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
    if (image.topics.has(r.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${r.name}' already exists.`);
    for (const [name, value] of r.configs) {
      const err = validateTopicConfig(name, value);
      if (err !== null) return fail(ErrorCode.INVALID_CONFIG, err);
    }
    const liveBrokers = [...image.brokers.values()].filter((b) => !b.fenced).map((b) => b.nodeId).sort((a, b) => a - b);
    let assignment: number[][];
    if (r.assignments.length > 0) {
      if (r.numPartitions !== -1 || r.replicationFactor !== -1) {
        return fail(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
      }
      const sorted = [...r.assignments].sort((a, b) => a.partition - b.partition);
      for (let i = 0; i < sorted.length; i++) {
        const a = sorted[i]!;
        if (a.partition !== i) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence');
        if (a.brokerIds.length === 0) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Empty replica assignment for partition ${i}`);
        if (new Set(a.brokerIds).size !== a.brokerIds.length) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate brokers in the replica assignment of partition ${i}`);
        const unknown = a.brokerIds.find((id) => !image.brokers.has(id));
        if (unknown !== undefined) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Broker ${unknown} in the assignment of partition ${i} is not registered`);
        if (a.brokerIds.length !== sorted[0]!.brokerIds.length) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'All partitions should have the same number of replicas');
      }
      assignment = sorted.map((a) => [...a.brokerIds]);
    } else {
      const numPartitions = r.numPartitions === -1 ? this.config.numPartitions : r.numPartitions;
      const rf = r.replicationFactor === -1 ? this.config.defaultReplicationFactor : r.replicationFactor;
      if (numPartitions <= 0) return fail(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
      if (rf <= 0) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
      if (rf > liveBrokers.length) {
        return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${liveBrokers.length} broker(s) are registered.`);
      }
      const live = [...image.brokers.values()].filter((b) => !b.fenced);
      assignment = assignReplicasForBrokers(live, numPartitions, rf, this.random);
    }
    const topicId = randomUuid(this.random);
    const records: MetadataRecord[] = [{ type: 'Topic', data: { name: r.name, topicId } }];
    for (const [name, value] of r.configs) {
      records.push({ type: 'Config', data: { resourceType: 2, resourceName: r.name, name, value } });
    }
    assignment.forEach((replicas, partition) => {
      records.push(partitionRecord(topicId, {
        topic: r.name, partition, replicas, isr: replicas, leader: -1, leaderEpoch: -1, partitionEpoch: 0,
      }));
    });
    const configs = [...TOPIC_CONFIG_DEFAULTS].map(([name, def]) => {
      const given = r.configs.get(name);
      return given !== undefined
        ? { name, value: given, source: ConfigSource.DYNAMIC_TOPIC_CONFIG }
        : { name, value: def, source: ConfigSource.DEFAULT_CONFIG };
    });
    return {
      result: {
        name: r.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null,
        numPartitions: assignment.length, replicationFactor: assignment[0]!.length, configs,
      },
      records,
    };
  }
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}


/** Every partition led by its preferred replica, or by a live replica when the preferred one is fenced. */
export function leadersInPlace(image: MetadataImage, topic: string): boolean {
  const t = image.topics.get(topic);
  if (t === undefined || t.partitions.length === 0) return false;
  return t.partitions.every((p) => {
    const preferred = p.replicas[0]!;
    const broker = image.brokers.get(preferred);
    const preferredLive = broker?.fenced === false && !broker.inControlledShutdown;
    if (preferredLive) return p.leader === preferred;
    return p.leader !== -1 && image.brokers.get(p.leader)?.fenced === false;
  });
}

/** Kafka's Topic.validate rules. */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  if (!LEGAL_TOPIC_CHARS.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

function randomUuid(random: Random): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 4) bytes.writeUInt32BE(random.nextU32(), i);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
