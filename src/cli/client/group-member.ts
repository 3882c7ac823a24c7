import { Reader, Writer } from '../../../protocol/primitives.js';
import { JoinGroupApi, type JoinGroupResponse } from '../../../protocol/generated/join-group.js';
import { SyncGroupApi, type SyncGroupResponse } from '../../../protocol/generated/sync-group.js';
import { HeartbeatApi, type HeartbeatResponse } from '../../../protocol/generated/heartbeat.js';
import { LeaveGroupApi } from '../../../protocol/generated/leave-group.js';
import { OffsetCommitApi, type OffsetCommitResponse } from '../../../protocol/generated/offset-commit.js';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../../protocol/generated/consumer-protocol-subscription.js';
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../../protocol/generated/consumer-protocol-assignment.js';
import { ErrorCode } from '../../kafka/errors.js';
import { BrokerError, type KafkaClient } from './client.js';
import type { KafkaConnection } from './connection.js';
import { coordinatorOf } from './groups.js';

export type HeartbeatResult = 'ok' | 'rejoin';

const REJOIN = new Set<number>([ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION, ErrorCode.FENCED_INSTANCE_ID]);

/**
 * One member of a classic consumer group (JoinGroup, SyncGroup, Heartbeat, OffsetCommit,
 * LeaveGroup) subscribed to one topic. When elected group leader it assigns partitions with
 * Kafka's range assignor, for every topic the members subscribe to.
 */
export class GroupMember {
  private constructor(
    private readonly conn: KafkaConnection,
    readonly groupId: string,
    readonly topic: string,
    readonly memberId: string,
    readonly generationId: number,
    /** Partitions of `topic` assigned to this member. */
    readonly partitions: readonly number[],
  ) {}

  static async join(client: KafkaClient, groupId: string, topic: string, options: { sessionTimeoutMs?: number; rebalanceTimeoutMs?: number; memberId?: string } = {}): Promise<GroupMember> {
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 10000;
    const rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 30000;
    const { conn } = await coordinatorOf(client, groupId);
    const subscription = new Writer();
    subscription.int16(0);
    encodeConsumerProtocolSubscription(subscription, 0, { topics: [topic], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
    let memberId = options.memberId ?? '';
    for (let attempt = 0; ; attempt++) {
      const { body: joined } = await conn.request<JoinGroupResponse>(JoinGroupApi, {
        groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId: null, protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscription.toBuffer() }], reason: null,
      }, { preferred: 9, timeoutMs: rebalanceTimeoutMs + 5000 });
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) { memberId = joined.memberId; continue; }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID && attempt < 3) { memberId = ''; continue; }
      if (joined.errorCode !== ErrorCode.NONE) throw new BrokerError(joined.errorCode, `JoinGroup of '${groupId}' failed`);
      memberId = joined.memberId;
      const assignments = joined.leader === memberId ? await rangeAssign(client, joined.members) : [];
      const { body: synced } = await conn.request<SyncGroupResponse>(SyncGroupApi, {
        groupId, generationId: joined.generationId, memberId, groupInstanceId: null,
        protocolType: 'consumer', protocolName: joined.protocolName ?? 'range', assignments,
      }, { preferred: 5, timeoutMs: rebalanceTimeoutMs + 5000 });
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && attempt < 10) continue;
      if (synced.errorCode !== ErrorCode.NONE) throw new BrokerError(synced.errorCode, `SyncGroup of '${groupId}' failed`);
      const partitions = decodeAssignment(synced.assignment).filter((a) => a.topic === topic).map((a) => a.partition).sort((a, b) => a - b);
      return new GroupMember(conn, groupId, topic, memberId, joined.generationId, partitions);
    }
  }

  /** 'rejoin' when the group is rebalancing or this member was removed from it. */
  async heartbeat(): Promise<HeartbeatResult> {
    const { body } = await this.conn.request<HeartbeatResponse>(HeartbeatApi, {
      groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null,
    });
    if (body.errorCode === ErrorCode.NONE) return 'ok';
    if (REJOIN.has(body.errorCode)) return 'rejoin';
    throw new BrokerError(body.errorCode, `Heartbeat to group '${this.groupId}' failed`);
  }

  /** Commits the positions of this member's partitions (ignored when the generation moved on: the next owner commits). */
  async commit(positions: ReadonlyMap<number, bigint>): Promise<void> {
    if (positions.size === 0) return;
    const { body } = await this.conn.request<OffsetCommitResponse>(OffsetCommitApi, {
      groupId: this.groupId, generationIdOrMemberEpoch: this.generationId, memberId: this.memberId, groupInstanceId: null, retentionTimeMs: -1n,
      topics: [{ name: this.topic, partitions: [...positions].map(([partitionIndex, committedOffset]) => ({
        partitionIndex, committedOffset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '',
      })) }],
    }, { preferred: 8 });
    for (const t of body.topics) for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE && !REJOIN.has(p.errorCode)) throw new BrokerError(p.errorCode, `OffsetCommit to group '${this.groupId}' failed`);
    }
  }

  async leave(): Promise<void> {
    await this.conn.request(LeaveGroupApi, {
      groupId: this.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the console consumer is closing' }],
    }).catch(() => undefined);
  }
}

/** Kafka's RangeAssignor: per topic, members sorted by id take consecutive ranges, the first ones one more. */
async function rangeAssign(client: KafkaClient, members: JoinGroupResponse['members']): Promise<{ memberId: string; assignment: Buffer }[]> {
  const subscribed = new Map<string, string[]>();
  for (const m of members) {
    let topics: string[] = [];
    try {
      const r = new Reader(m.metadata);
      const version = r.int16();
      topics = decodeConsumerProtocolSubscription(r, Math.min(version, 3)).topics;
    } catch {
      topics = [];
    }
    for (const t of topics) subscribed.set(t, [...(subscribed.get(t) ?? []), m.memberId]);
  }
  const md = await client.metadata([...subscribed.keys()]);
  const owned = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]));
  for (const [topic, ids] of subscribed) {
    const count = md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    const sorted = [...ids].sort();
    const per = Math.floor(count / sorted.length);
    const extra = count % sorted.length;
    let next = 0;
    sorted.forEach((id, i) => {
      const n = per + (i < extra ? 1 : 0);
      owned.get(id)!.set(topic, Array.from({ length: n }, (_, k) => next + k));
      next += n;
    });
  }
  return [...owned].map(([memberId, topics]) => {
    const w = new Writer();
    w.int16(0);
    encodeConsumerProtocolAssignment(w, 0, {
      assignedPartitions: [...topics].filter(([, ps]) => ps.length > 0).map(([topic, partitions]) => ({ topic, partitions })), userData: null,
    });
    return { memberId, assignment: w.toBuffer() };
  });
}

function decodeAssignment(bytes: Buffer): { topic: string; partition: number }[] {
  if (bytes.length < 2) return [];
  const r = new Reader(bytes);
  const version = r.int16();
  return decodeConsumerProtocolAssignment(r, Math.min(version, 3)).assignedPartitions
    .flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}
