import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../../protocol/generated/delete-topics.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { DeleteTopicRequest } from '../../cluster/topic-admin.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * DeleteTopics: the controller commits a RemoveTopicRecord per topic; every broker then stops
 * and deletes its replicas. v6+ may name topics by id (UNKNOWN_TOPIC_ID when unknown).
 */
export function deleteTopicsHandler(deps: HandlerDeps): ApiHandler {
  const requested = (request: DeleteTopicsRequest, version: number): DeleteTopicRequest[] => version >= 6
    ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId === ZERO_UUID ? null : t.topicId }))
    : request.topicNames.map((name) => ({ name, topicId: null }));
  return defineHandler<DeleteTopicsRequest, DeleteTopicsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.DeleteTopics,
    minVersion: 0,
    maxVersion: 6,
    async handle(request, ctx) {
      const results = await deps.deleteTopics(requested(request, ctx.apiVersion), request.timeoutMs);
      return {
        throttleTimeMs: 0,
        responses: results.map((r) => ({ name: r.name, topicId: r.topicId, errorCode: r.errorCode, errorMessage: r.errorMessage })),
      };
    },
    errorResponse: (request, errorCode, ctx) => ({
      throttleTimeMs: 0,
      responses: requested(request, ctx.apiVersion).map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID, errorCode, errorMessage: null })),
    }),
  }));
}
