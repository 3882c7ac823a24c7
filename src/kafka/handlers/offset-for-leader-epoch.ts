import { ApiKey } from '../../../protocol/generated/index.js';
import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from '../../../protocol/generated/offset-for-leader-epoch.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';

type EpochEndOffset = OffsetForLeaderEpochResponse['topics'][number]['partitions'][number];

/**
 * OffsetForLeaderEpoch v0-4 (KIP-101/320): the end offset of the requested leader epoch on the
 * leader (the largest epoch <= the requested one, ending where the next epoch starts; the log end
 * for the latest epoch), after fencing on currentLeaderEpoch (v2+). Consumers use it to detect
 * log truncation after a leader change.
 */
export function offsetForLeaderEpochHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>({
    apiKey: ApiKey.OffsetForLeaderEpoch,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      // CLUSTER_ACTION on the cluster (followers), or else DESCRIBE on each topic (consumers, KIP-320).
      const auth = authOf(deps);
      const names = request.topics.map((t) => t.topic);
      const describable = auth.authorizeCluster(ctx, AclOperation.CLUSTER_ACTION) ? new Set(names) : auth.filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, names);
      const image = deps.metadata();
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p): EpochEndOffset => {
            if (!describable.has(t.topic)) return failed(p.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (image.partition(t.topic, p.partition) === undefined) return failed(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            const partition = deps.partition(t.topic, p.partition);
            if (partition === undefined || !partition.isLeader) return failed(p.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
            if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch !== partition.leaderEpoch) {
              return failed(p.partition, p.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH);
            }
            const end = partition.log.endOffsetForEpoch(p.leaderEpoch);
            return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch: end.epoch, endOffset: end.endOffset };
          }),
        })),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => failed(p.partition, errorCode)) })),
    }),
  });
}

function failed(partition: number, errorCode: number): EpochEndOffset {
  return { errorCode, partition, leaderEpoch: -1, endOffset: -1n };
}
