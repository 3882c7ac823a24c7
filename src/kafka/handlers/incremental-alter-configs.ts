import { ApiKey } from '../../../protocol/generated/index.js';
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../../../protocol/generated/incremental-alter-configs.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on single config keys. */
export function incrementalAlterConfigsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.IncrementalAlterConfigs,
    minVersion: 0,
    maxVersion: 1,
    async handle(request) {
      const results = await deps.alterConfigs(request.resources.map((r) => ({
        resourceType: r.resourceType, resourceName: r.resourceName, replace: false,
        ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
      })), request.validateOnly);
      return { throttleTimeMs: 0, responses: results.map((r) => ({ ...r })) };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      responses: request.resources.map((r) => ({ errorCode, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName })),
    }),
  }));
}
