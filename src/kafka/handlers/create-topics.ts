import { ApiKey } from '../../../protocol/generated/index.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../../protocol/generated/create-topics.js';
import type { CreateTopicRequest } from '../../cluster/controller.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';


/**
 * CreateTopics answers only when every partition of a created topic has its leader on its
 * preferred replica (or REQUEST_TIMED_OUT for that topic at timeoutMs), so a client can produce
 * at once.
 */
export function createTopicsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<CreateTopicsRequest, CreateTopicsResponse>({
    apiKey: ApiKey.CreateTopics,
    minVersion: 0,
    maxVersion: 7,
    async handle(request, ctx) {
      // A name given twice in one request is an error for each occurrence (as in Kafka).
      const counts = new Map<string, number>();
      for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      // CREATE on the cluster, or else on each topic; DESCRIBE_CONFIGS to see the configs.
      const auth = authOf(deps);
      const names = request.topics.map((t) => t.name);
      const creatable = auth.authorizeCluster(ctx, AclOperation.CREATE) ? new Set(names) : auth.filterAuthorized(ctx, AclOperation.CREATE, AclResourceType.TOPIC, names);
      const describable = auth.filterAuthorized(ctx, AclOperation.DESCRIBE_CONFIGS, AclResourceType.TOPIC, names);
      const unique: CreateTopicRequest[] = request.topics
        .filter((t) => counts.get(t.name) === 1 && creatable.has(t.name))
        .map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          assignments: t.assignments.map((a) => ({ partition: a.partitionIndex, brokerIds: [...a.brokerIds] })),
          configs: new Map(t.configs.map((c) => [c.name, c.value])),
        }));
      const results = new Map((await deps.createTopics(unique, request.timeoutMs, request.validateOnly)).map((r) => [r.name, r]));
      const seen = new Set<string>();
      const topics: CreateTopicsResponse['topics'] = [];
      for (const t of request.topics) {
        if (counts.get(t.name)! > 1) {
          if (seen.has(t.name)) continue;
          seen.add(t.name);
          topics.push(failed(t.name, ErrorCode.INVALID_REQUEST, `Create topics request from client \`${ctx.clientId ?? ''}\` contains multiple entries for the following topics: ${t.name}`));
          continue;
        }
        if (!creatable.has(t.name)) {
          topics.push(failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
          continue;
        }
        const r = results.get(t.name)!;
        if (!describable.has(t.name)) {
          topics.push({
            name: r.name, topicId: r.topicId ?? ZERO_UUID, errorCode: r.errorCode, errorMessage: r.errorMessage,
            topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            numPartitions: r.errorCode === ErrorCode.NONE ? r.numPartitions : -1,
            replicationFactor: r.errorCode === ErrorCode.NONE ? r.replicationFactor : -1,
            configs: null,
          });
          continue;
        }
        topics.push({
          name: r.name,
          topicId: r.topicId ?? ZERO_UUID,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          topicConfigErrorCode: ErrorCode.NONE,
          numPartitions: r.errorCode === ErrorCode.NONE ? r.numPartitions : -1,
          replicationFactor: r.errorCode === ErrorCode.NONE ? r.replicationFactor : -1,
          configs: r.errorCode === ErrorCode.NONE
            ? r.configs.map((c) => ({ name: c.name, value: c.value, readOnly: false, configSource: c.source, isSensitive: false }))
            : null,
        });
      }
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => failed(t.name, errorCode, null)),
    }),
  });
}

function failed(name: string, errorCode: number, errorMessage: string | null): CreateTopicsResponse['topics'][number] {
  return {
    name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1, replicationFactor: -1, configs: null,
  };
}
