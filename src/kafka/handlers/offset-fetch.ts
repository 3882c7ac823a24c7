import { ApiKey } from '../../../protocol/generated/index.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../../../protocol/generated/offset-fetch.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

type TopicsIn = { name: string; partitionIndexes: number[] }[] | null;

/**
 * OffsetFetch: one group (v0-v7) or many (v8+); null topics (v2+) means every committed offset.
 * requireStable (v7+) holds back offsets of open transactions: a partition with a pending
 * transactional offset commit (TxnOffsetCommit not yet ended by a marker) answers
 * UNSTABLE_OFFSET_COMMIT; without it, the last committed offset is returned.
 */
export function offsetFetchHandler(groups: GroupCoordinator): ApiHandler {
  const fetchGroup = (groupId: string, topics: TopicsIn, requireStable: boolean) => groups.fetchOffsets(groupId, topics === null ? null : topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })), requireStable);
  return defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 9,
    handle(request, ctx) {
      if (ctx.apiVersion >= 8) {
        return {
          throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE,
          groups: request.groups.map((g) => {
            const r = fetchGroup(g.groupId, g.topics, request.requireStable);
            return {
              groupId: g.groupId, errorCode: r.errorCode,
              topics: r.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode })) })),
            };
          }),
        };
      }
      const r = fetchGroup(request.groupId, request.topics, ctx.apiVersion >= 7 && request.requireStable);
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
