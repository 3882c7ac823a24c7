import { ApiKey } from '../../../protocol/generated/index.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../../../protocol/generated/offset-commit.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import type { CommitInput } from '../../groups/shard.js';
import type { MetadataImage } from '../../cluster/image.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/**
 * OffsetCommit (v0-v9, classic groups and commits outside any group with generation -1). The
 * commit is acknowledged once the offsets are committed in `__consumer_offsets`. v1's per-partition
 * commit timestamp is kept; v2-v4's retention_time_ms is ignored: every offset follows
 * offsets.retention.minutes (as Kafka 3+ does for its own clients).
 */
export function offsetCommitHandler(deps: HandlerDeps, groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<OffsetCommitRequest, OffsetCommitResponse>({
    apiKey: ApiKey.OffsetCommit,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, ctx) {
      // READ on the group (else every partition fails), then READ on each topic.
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx);
      const readable = auth.filterAuthorized(ctx, AclOperation.READ, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const topics = await commitPerPartition(request.topics, readable, deps.metadata(), (topic, p) => ({
        topic, partition: p.partitionIndex, offset: p.committedOffset,
        leaderEpoch: ctx.apiVersion >= 6 ? p.committedLeaderEpoch : -1,
        metadata: p.committedMetadata, commitTimestamp: ctx.apiVersion === 1 ? p.commitTimestamp : -1n,
      }), (offsets) => groups.commitOffsets({
        groupId: request.groupId,
        generationId: request.generationIdOrMemberEpoch,
        memberId: request.memberId,
        groupInstanceId: ctx.apiVersion >= 7 ? request.groupInstanceId : null,
        offsets,
      }));
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    }),
  });
}

type OffsetToCommit = CommitInput['offsets'][number];

/**
 * The per-partition part of OffsetCommit and TxnOffsetCommit: TOPIC_AUTHORIZATION_FAILED for a
 * topic the principal may not read (checked before the topic's existence, as KafkaApis does),
 * UNKNOWN_TOPIC_OR_PARTITION for a partition the metadata does not know, and the coordinator's
 * code for the rest, committed together by `commit` (one code per offset, in order).
 */
export async function commitPerPartition<P extends { partitionIndex: number }>(
  topics: readonly { name: string; partitions: readonly P[] }[],
  readable: ReadonlySet<string>,
  image: MetadataImage,
  toOffset: (topic: string, partition: P) => OffsetToCommit,
  commit: (offsets: OffsetToCommit[]) => Promise<number[]>,
): Promise<{ name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]> {
  const offsets: OffsetToCommit[] = [];
  const codes: number[][] = topics.map((t) => t.partitions.map(() => ErrorCode.NONE));
  const slots: [number, number][] = [];
  topics.forEach((t, ti) => t.partitions.forEach((p, pi) => {
    if (!readable.has(t.name)) { codes[ti]![pi] = ErrorCode.TOPIC_AUTHORIZATION_FAILED; return; }
    if (image.partition(t.name, p.partitionIndex) === undefined) { codes[ti]![pi] = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION; return; }
    offsets.push(toOffset(t.name, p));
    slots.push([ti, pi]);
  }));
  if (offsets.length > 0) {
    const results = await commit(offsets);
    results.forEach((code, i) => { const [ti, pi] = slots[i]!; codes[ti]![pi] = code; });
  }
  return topics.map((t, ti) => ({ name: t.name, partitions: t.partitions.map((p, pi) => ({ partitionIndex: p.partitionIndex, errorCode: codes[ti]![pi]! })) }));
}
