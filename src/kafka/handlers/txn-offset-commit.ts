import { ApiKey } from '../../../protocol/generated/index.js';
import type { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from '../../../protocol/generated/txn-offset-commit.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import type { AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { commitPerPartition } from './offset-commit.js';

/**
 * TxnOffsetCommit v0-3: a transactional producer commits a group's offsets inside its transaction
 * (after AddOffsetsToTxn). The offsets are written to `__consumer_offsets` in a transactional
 * batch of the producer and stay pending, invisible to OffsetFetch, until the coordinator's
 * COMMIT marker makes them the group's committed offsets (an ABORT drops them). v3 adds the
 * member id, generation and group instance id, checked as Kafka does for transactional commits.
 * Authorization as KafkaApis: WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 * for every partition), READ on the group (GROUP_AUTHORIZATION_FAILED), READ on each topic
 * (TOPIC_AUTHORIZATION_FAILED for its partitions, checked before the topic's existence).
 */
export function txnOffsetCommitHandler(deps: HandlerDeps, groups: GroupCoordinator, auth: AuthHelper): ApiHandler {
  return defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
    apiKey: ApiKey.TxnOffsetCommit,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return this.errorResponse(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ctx);
      }
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) {
        return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx);
      }
      const readable = auth.filterAuthorized(ctx, AclOperation.READ, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const v3 = ctx.apiVersion >= 3;
      const topics = await commitPerPartition(request.topics, readable, deps.metadata(), (topic, p) => ({
        topic, partition: p.partitionIndex, offset: p.committedOffset,
        leaderEpoch: ctx.apiVersion >= 2 ? p.committedLeaderEpoch : -1,
        metadata: p.committedMetadata, commitTimestamp: -1n,
      }), (offsets) => groups.txnCommitOffsets({
        groupId: request.groupId,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        generationId: v3 ? request.generationId : -1,
        memberId: v3 ? request.memberId : '',
        groupInstanceId: v3 ? request.groupInstanceId : null,
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
