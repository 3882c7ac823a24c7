import { ApiKey } from '../../../protocol/generated/index.js';
import type { AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse } from '../../../protocol/generated/alter-partition-reassignments.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { answeringKafkaErrors, type ReassignmentDeps } from './admin-deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/**
 * AlterPartitionReassignments v0: start, change or cancel (replicas null) the reassignment of
 * partitions. Served by the active controller (forwarded there from any broker); answers once the
 * reassignment records are committed, while the replicas move in the background.
 */
export function alterPartitionReassignmentsHandler(deps: ReassignmentDeps, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.AlterPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, ctx) {
      // ALTER on the cluster, as Kafka's KafkaApis checks.
      if (!auth.authorizeCluster(ctx, AclOperation.ALTER)) throw new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      const requests = request.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas })));
      const results = await deps.alterPartitionReassignments(requests, request.timeoutMs);
      const byTopic = new Map<string, AlterPartitionReassignmentsResponse['responses'][number]>();
      for (const r of results) {
        let t = byTopic.get(r.topic);
        if (t === undefined) { t = { name: r.topic, partitions: [] }; byTopic.set(r.topic, t); }
        t.partitions.push({ partitionIndex: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE as number, errorMessage: null, responses: [...byTopic.values()] };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      responses: request.topics.map((t) => ({
        name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage: null })),
      })),
    }),
  }));
}
