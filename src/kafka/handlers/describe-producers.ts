import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeProducersRequest, DescribeProducersResponse } from '../../../protocol/generated/describe-producers.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode, KafkaError } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

type PartitionResponse = DescribeProducersResponse['topics'][number]['partitions'][number];

/**
 * DescribeProducers v0 (KIP-664, for operators and `kafka-transactions.sh describe-producers`):
 * the producers the partition leader knows, with epoch, last sequence and timestamp, the
 * coordinator epoch of their last marker and the start offset of their open transaction (-1 when
 * none). Per partition: TOPIC_AUTHORIZATION_FAILED without READ on the topic (checked first, as
 * KafkaApis), UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER.
 */
export function describeProducersHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<DescribeProducersRequest, DescribeProducersResponse>({
    apiKey: ApiKey.DescribeProducers,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, ctx) {
      const image = deps.metadata();
      const auth = authOf(deps);
      const topics: DescribeProducersResponse['topics'] = [];
      for (const t of request.topics) {
        const partitions: PartitionResponse[] = [];
        if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.TOPIC, t.name)) {
          topics.push({ name: t.name, partitions: t.partitionIndexes.map((i) => failed(i, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) });
          continue;
        }
        for (const index of t.partitionIndexes) {
          if (image.partition(t.name, index) === undefined) { partitions.push(failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)); continue; }
          const partition = deps.partition(t.name, index);
          if (partition === undefined || !partition.isLeader) { partitions.push(failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER)); continue; }
          try {
            const producers = await partition.activeProducers();
            partitions.push({ partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: producers.map((p) => ({ ...p })) });
          } catch (err) {
            if (!(err instanceof KafkaError)) throw err;
            partitions.push(failed(index, err.code, err.message));
          }
        }
        topics.push({ name: t.name, partitions });
      }
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((i) => failed(i, errorCode)) })),
    }),
  });
}

function failed(partitionIndex: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return { partitionIndex, errorCode, errorMessage, activeProducers: [] };
}
