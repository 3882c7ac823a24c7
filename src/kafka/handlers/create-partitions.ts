import { ApiKey } from '../../../protocol/generated/index.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../../protocol/generated/create-partitions.js';
import { answeringKafkaErrors } from './admin-deps.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** CreatePartitions: answers once the new partitions have their preferred leaders (or REQUEST_TIMED_OUT). */
export function createPartitionsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.CreatePartitions,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      // ALTER on each topic (before its existence is checked).
      const alterable = authOf(deps).filterAuthorized(ctx, AclOperation.ALTER, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const allowed = request.topics.filter((t) => alterable.has(t.name));
      const results = allowed.length === 0 ? [] : await deps.createPartitions(allowed.map((t) => ({
        name: t.name, count: t.count, assignments: t.assignments === null ? null : t.assignments.map((a) => [...a.brokerIds]),
      })), request.timeoutMs, request.validateOnly);
      let next = 0;
      return {
        throttleTimeMs: 0,
        results: request.topics.map((t) => {
          if (!alterable.has(t.name)) return { name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
          const r = results[next++]!;
          return { name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage };
        }),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })),
    }),
  }));
}
