import { Reader } from '../../../protocol/primitives.js';
import { FindCoordinatorApi, type FindCoordinatorResponse } from '../../../protocol/generated/find-coordinator.js';
import { DescribeGroupsApi, type DescribeGroupsResponse } from '../../../protocol/generated/describe-groups.js';
import { ListGroupsApi, type ListGroupsResponse } from '../../../protocol/generated/list-groups.js';
import { DeleteGroupsApi, type DeleteGroupsResponse } from '../../../protocol/generated/delete-groups.js';
import { OffsetFetchApi, type OffsetFetchResponse } from '../../../protocol/generated/offset-fetch.js';
import { OffsetCommitApi, type OffsetCommitResponse } from '../../../protocol/generated/offset-commit.js';
import { decodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.js';
import { ErrorCode } from '../../kafka/errors.js';
import { BrokerError, isRetriable, type KafkaClient } from './client.js';
import type { KafkaConnection } from './connection.js';

/** Consumer group calls of the tools (Kafka's Admin client's group operations). */

export interface GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly assignment: readonly { topic: string; partition: number }[];
}

export interface GroupDescription {
  readonly groupId: string;
  readonly errorCode: number;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly coordinator: number;
  readonly members: readonly GroupMember[];
}

/** The group's coordinator (FindCoordinator), retried while it loads. */
export async function coordinatorOf(client: KafkaClient, groupId: string): Promise<{ nodeId: number; conn: KafkaConnection }> {
  for (let attempt = 0; ; attempt++) {
    const { body } = await client.anyBroker().request<FindCoordinatorResponse>(FindCoordinatorApi, { key: groupId, keyType: 0, coordinatorKeys: [groupId] }, { preferred: 6 });
    const c = body.coordinators.length > 0 ? body.coordinators[0]! : { nodeId: body.nodeId, errorCode: body.errorCode, errorMessage: body.errorMessage };
    if (c.errorCode === ErrorCode.NONE) return { nodeId: c.nodeId, conn: await client.broker(c.nodeId) };
    if (!isRetriable(c.errorCode) && c.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && c.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || attempt >= 20) {
      throw new BrokerError(c.errorCode, c.errorMessage);
    }
    await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
  }
}

/** Every group on every broker (ListGroups is answered per coordinator). */
export async function listGroups(client: KafkaClient): Promise<{ groupId: string; state: string; protocolType: string }[]> {
  const md = await client.metadata([]);
  const lists = await Promise.all([...md.brokers.keys()].map(async (id) => {
    const { body } = await (await client.broker(id)).request<ListGroupsResponse>(ListGroupsApi, { statesFilter: [], typesFilter: [] });
    if (body.errorCode !== ErrorCode.NONE) throw new BrokerError(body.errorCode, null);
    return body.groups.map((g) => ({ groupId: g.groupId, state: g.groupState, protocolType: g.protocolType }));
  }));
  const seen = new Map<string, { groupId: string; state: string; protocolType: string }>();
  for (const g of lists.flat()) seen.set(g.groupId, g);
  return [...seen.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export async function describeGroup(client: KafkaClient, groupId: string): Promise<GroupDescription> {
  const { nodeId, conn } = await coordinatorOf(client, groupId);
  const { body } = await conn.request<DescribeGroupsResponse>(DescribeGroupsApi, { groups: [groupId], includeAuthorizedOperations: false });
  const g = body.groups[0]!;
  return {
    groupId, errorCode: g.errorCode, state: g.groupState, protocolType: g.protocolType, protocol: g.protocolData, coordinator: nodeId,
    members: g.members.map((m) => ({
      memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost,
      assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
    })),
  };
}

/** A consumer member's assignment: int16 version, then ConsumerProtocolAssignment. */
function decodeAssignment(bytes: Buffer): { topic: string; partition: number }[] {
  if (bytes.length < 2) return [];
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    const a = decodeConsumerProtocolAssignment(r, Math.min(version, 3));
    return a.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  } catch {
    return [];
  }
}

/** The group's committed offsets: topic -> partition -> offset (-1 when none). */
export async function fetchOffsets(client: KafkaClient, groupId: string): Promise<Map<string, Map<number, bigint>>> {
  const { conn } = await coordinatorOf(client, groupId);
  const { body } = await conn.request<OffsetFetchResponse>(OffsetFetchApi, {
    groupId, topics: null, groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }], requireStable: false,
  }, { preferred: 8, min: 2 });
  const out = new Map<string, Map<number, bigint>>();
  const topics = body.groups.length > 0 ? body.groups[0]!.topics : body.topics;
  const errorCode = body.groups.length > 0 ? body.groups[0]!.errorCode : body.errorCode;
  if (errorCode !== ErrorCode.NONE) throw new BrokerError(errorCode, null);
  for (const t of topics) {
    const m = new Map<number, bigint>();
    for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0n) m.set(p.partitionIndex, p.committedOffset);
    if (m.size > 0) out.set(t.name, m);
  }
  return out;
}

/** Commits offsets for an inactive group (as kafka-consumer-groups --reset-offsets --execute does). */
export async function commitOffsets(client: KafkaClient, groupId: string, offsets: readonly { topic: string; partition: number; offset: bigint }[]): Promise<void> {
  const { conn } = await coordinatorOf(client, groupId);
  const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; commitTimestamp: bigint; committedMetadata: string | null }[]>();
  for (const o of offsets) {
    byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }]);
  }
  const { body } = await conn.request<OffsetCommitResponse>(OffsetCommitApi, {
    groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  }, { preferred: 8, min: 2 });
  for (const t of body.topics) for (const p of t.partitions) {
    if (p.errorCode !== ErrorCode.NONE) throw new BrokerError(p.errorCode, `cannot commit ${t.name}-${p.partitionIndex}`);
  }
}

export async function deleteGroups(client: KafkaClient, groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
  return Promise.all(groupIds.map(async (groupId) => {
    const { conn } = await coordinatorOf(client, groupId);
    const { body } = await conn.request<DeleteGroupsResponse>(DeleteGroupsApi, { groupsNames: [groupId] });
    return { groupId, errorCode: body.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR };
  }));
}
