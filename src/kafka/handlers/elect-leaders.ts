import { ApiKey } from '../../../protocol/generated/index.js';
import type { ElectLeadersRequest, ElectLeadersResponse } from '../../../protocol/generated/elect-leaders.js';
import { ErrorCode } from '../errors.js';
import { AclOperation } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { answeringKafkaErrors, type ElectionResult } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** ElectLeaders: preferred-replica election through Raft leadership transfer (v0 is preferred only). */
export function electLeadersHandler(deps: HandlerDeps): ApiHandler {
  const errorResponse = (request: ElectLeadersRequest, errorCode: number): ElectLeadersResponse => ({
    throttleTimeMs: 0,
    errorCode,
    replicaElectionResults: byTopic((request.topicPartitions ?? []).flatMap((t) => t.partitions.map((partition) => ({
      topic: t.topic, partition, errorCode, errorMessage: null,
    })))),
  });
  return defineHandler<ElectLeadersRequest, ElectLeadersResponse>(answeringKafkaErrors({
    apiKey: ApiKey.ElectLeaders,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, ctx) {
      // ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED at the top and for every partition.
      if (!authOf(deps).authorizeCluster(ctx, AclOperation.ALTER)) return errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      const electionType = ctx.apiVersion === 0 ? 0 : request.electionType;
      const partitions = request.topicPartitions === null
        ? null
        : request.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
      const results = await deps.electLeaders(partitions, electionType, request.timeoutMs);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: byTopic(results) };
    },
    errorResponse,
  }));
}

function byTopic(results: readonly ElectionResult[]): ElectLeadersResponse['replicaElectionResults'] {
  const topics = new Map<string, ElectLeadersResponse['replicaElectionResults'][number]>();
  for (const r of results) {
    let t = topics.get(r.topic);
    if (t === undefined) { t = { topic: r.topic, partitionResult: [] }; topics.set(r.topic, t); }
    t.partitionResult.push({ partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage });
  }
  return [...topics.values()];
}
