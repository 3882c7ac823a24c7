import { ApiKey } from '../../../protocol/generated/index.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../../../protocol/generated/offset-fetch.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper, type AuthContext } from '../../security/authorizer.js';

type TopicsIn = { name: string; partitionIndexes: number[] }[] | null;

/**
 * OffsetFetch: one group (v0-v7) or many (v8+); null topics (v2+) means every committed offset.
 * requireStable (v7+) holds back offsets of open transactions: a partition with a pending
 * transactional offset commit (TxnOffsetCommit not yet ended by a marker) answers
 * UNSTABLE_OFFSET_COMMIT; without it, the last committed offset is returned.
 */
export function offsetFetchHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  /**
   * DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED; DESCRIBE on each topic: a requested
   * topic without it gets TOPIC_AUTHORIZATION_FAILED, and "all offsets" leaves it out.
   */
  const fetchGroup = (groupId: string, topics: TopicsIn, requireStable: boolean, ctx: AuthContext): ReturnType<GroupCoordinator['fetchOffsets']> => {
    if (!auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    const describable = (name: string): boolean => auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, name);
    if (topics === null) {
      const r = groups.fetchOffsets(groupId, null, requireStable);
      return auth.enabled ? { ...r, topics: r.topics.filter((t) => describable(t.name)) } : r;
    }
    const denied = new Set(topics.filter((t) => !describable(t.name)).map((t) => t.name));
    const r = groups.fetchOffsets(groupId, topics.filter((t) => !denied.has(t.name)).map((t) => ({ name: t.name, partitions: t.partitionIndexes })), requireStable);
    if (denied.size === 0 || r.errorCode !== ErrorCode.NONE) return r;
    return {
      ...r,
      topics: [...r.topics, ...topics.filter((t) => denied.has(t.name)).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partition) => ({ partition, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
      }))],
    };
  };
  return defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 9,
    handle(request, ctx) {
      if (ctx.apiVersion >= 8) {
        return {
          throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE,
          groups: request.groups.map((g) => {
            const r = fetchGroup(g.groupId, g.topics, request.requireStable, ctx);
            return {
              groupId: g.groupId, errorCode: r.errorCode,
              topics: r.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode })) })),
            };
          }),
        };
      }
      const r = fetchGroup(request.groupId, request.topics, ctx.apiVersion >= 7 && request.requireStable, ctx);
      if (r.errorCode !== ErrorCode.NONE && ctx.apiVersion < 2) {
        // v0-v1 have no top-level error: every requested partition carries it.
        return {
          throttleTimeMs: 0, errorCode: r.errorCode, groups: [],
          topics: (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })) })),
        };
      }
      return {
        throttleTimeMs: 0, errorCode: r.errorCode, groups: [],
        topics: r.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode })) })),
      };
    },
    errorResponse: (request, errorCode, ctx) => ctx.apiVersion >= 8
      ? { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups: request.groups.map((g) => ({ groupId: g.groupId, errorCode, topics: [] })) }
      : {
        throttleTimeMs: 0, errorCode, groups: [],
        topics: ctx.apiVersion < 2 ? (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode })) })) : [],
      },
  });
}
