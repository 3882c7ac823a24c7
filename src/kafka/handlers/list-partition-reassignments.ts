import { ApiKey } from '../../../protocol/generated/index.js';
import type { ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse } from '../../../protocol/generated/list-partition-reassignments.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { answeringKafkaErrors, type ReassignmentDeps } from './admin-deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/** ListPartitionReassignments v0: the reassignments in progress (all, or of the partitions named). */
export function listPartitionReassignmentsHandler(deps: ReassignmentDeps, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.ListPartitionReassignments,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, ctx) {
      // DESCRIBE on the cluster, as Kafka's KafkaApis checks.
      if (!auth.authorizeCluster(ctx, AclOperation.DESCRIBE)) throw new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      const topics = request.topics === null ? null : request.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes }));
      const ongoing = await deps.listPartitionReassignments(topics);
      const byTopic = new Map<string, ListPartitionReassignmentsResponse['topics'][number]>();
      for (const r of ongoing) {
        let t = byTopic.get(r.topic);
        if (t === undefined) { t = { name: r.topic, partitions: [] }; byTopic.set(r.topic, t); }
        t.partitions.push({ partitionIndex: r.partition, replicas: [...r.replicas], addingReplicas: [...r.addingReplicas], removingReplicas: [...r.removingReplicas] });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE as number, errorMessage: null, topics: [...byTopic.values()] };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, errorMessage: null, topics: [] }),
  }));
}
