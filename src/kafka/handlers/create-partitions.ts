import { ApiKey } from '../../../protocol/generated/index.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../../protocol/generated/create-partitions.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** CreatePartitions: answers once the new partitions have their preferred leaders (or REQUEST_TIMED_OUT). */
export function createPartitionsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.CreatePartitions,
    minVersion: 0,
    maxVersion: 3,
    async handle(request) {
      const results = await deps.createPartitions(request.topics.map((t) => ({
        name: t.name, count: t.count, assignments: t.assignments === null ? null : t.assignments.map((a) => [...a.brokerIds]),
      })), request.timeoutMs, request.validateOnly);
      return { throttleTimeMs: 0, results: results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage })) };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })),
    }),
  }));
}
