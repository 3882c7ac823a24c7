import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../../protocol/generated/delete-topics.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { DeleteTopicRequest } from '../../cluster/topic-admin.js';
import { answeringKafkaErrors } from './admin-deps.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
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
      // DELETE on the cluster, or else on each topic (checked before its existence, so that an
      // unauthorised client learns nothing); a topic named by id is resolved first.
      const auth = authOf(deps);
      const all = requested(request, ctx.apiVersion);
      const image = deps.metadata();
      const clusterDelete = auth.authorizeCluster(ctx, AclOperation.DELETE);
      const denied = all.map((t) => {
        if (clusterDelete) return false;
        const name = t.name ?? (t.topicId !== null ? image.topicById(t.topicId)?.name : undefined);
        return name !== undefined && !auth.authorize(ctx, AclOperation.DELETE, AclResourceType.TOPIC, name);
      });
      const allowed = all.filter((_, i) => !denied[i]);
      const results = allowed.length === 0 ? [] : await deps.deleteTopics(allowed, request.timeoutMs);
      let next = 0;
      return {
        throttleTimeMs: 0,
        responses: all.map((t, i) => {
          if (denied[i]) return { name: t.name, topicId: t.topicId ?? ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
          const r = results[next++]!;
          return { name: r.name, topicId: r.topicId, errorCode: r.errorCode, errorMessage: r.errorMessage };
        }),
      };
    },
    errorResponse: (request, errorCode, ctx) => ({
      throttleTimeMs: 0,
      responses: requested(request, ctx.apiVersion).map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID, errorCode, errorMessage: null })),
    }),
  }));
}
