import { ApiKey } from '../../../protocol/generated/index.js';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../../protocol/generated/alter-configs.js';
import { ConfigOp } from '../../cluster/topic-admin.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** AlterConfigs (legacy): the given configs replace every dynamic config of the resource. */
export function alterConfigsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<AlterConfigsRequest, AlterConfigsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.AlterConfigs,
    minVersion: 0,
    maxVersion: 2,
    async handle(request) {
      const results = await deps.alterConfigs(request.resources.map((r) => ({
        resourceType: r.resourceType, resourceName: r.resourceName, replace: true,
        ops: r.configs.map((c) => ({ name: c.name, op: ConfigOp.SET, value: c.value })),
      })), request.validateOnly);
      return { throttleTimeMs: 0, responses: results.map((r) => ({ ...r })) };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      responses: request.resources.map((r) => ({ errorCode, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName })),
    }),
  }));
}
