import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteRecordsRequest, DeleteRecordsResponse } from '../../../protocol/generated/delete-records.js';
import { ErrorCode, KafkaError } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';

type PartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number];

/**
 * DeleteRecords v0-2: the leader moves its log start offset to the requested offset (-1: the high
 * watermark; above it: OFFSET_OUT_OF_RANGE) and answers with the new low watermark.
 * Single-replica semantics: followers' log start offsets are not moved yet.
 */
export function deleteRecordsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
    apiKey: ApiKey.DeleteRecords,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, ctx) {
      // DELETE on each topic.
      const deletable = authOf(deps).filterAuthorized(ctx, AclOperation.DELETE, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const image = deps.metadata();
      const topics: DeleteRecordsResponse['topics'] = [];
      for (const t of request.topics) {
        const partitions = await Promise.all(t.partitions.map(async (p): Promise<PartitionResult> => {
          if (!deletable.has(t.name)) return failed(p.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          if (image.partition(t.name, p.partitionIndex) === undefined) return failed(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const partition = deps.partition(t.name, p.partitionIndex);
          if (partition === undefined || !partition.isLeader) return failed(p.partitionIndex, ErrorCode.NOT_LEADER_OR_FOLLOWER);
          try {
            return { partitionIndex: p.partitionIndex, lowWatermark: await partition.deleteRecordsBefore(p.offset), errorCode: ErrorCode.NONE };
          } catch (err) {
            if (err instanceof KafkaError) return failed(p.partitionIndex, err.code);
            throw err;
          }
        }));
        topics.push({ name: t.name, partitions });
      }
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => failed(p.partitionIndex, errorCode)) })),
    }),
  });
}

function failed(partitionIndex: number, errorCode: number): PartitionResult {
  return { partitionIndex, lowWatermark: -1n, errorCode };
}
