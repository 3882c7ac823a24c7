import { ApiKey } from '../../../protocol/generated/index.js';
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../../../protocol/generated/incremental-alter-configs.js';
import type { ConfigResourceChange } from '../../cluster/topic-admin.js';
import { answeringKafkaErrors } from './admin-deps.js';
import { ErrorCode } from '../errors.js';
import { authOf } from '../../security/authorizer.js';
import { configResourceError } from '../../security/authorizer-resources.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** An IncrementalAlterConfigs resource as the controller's change: one op per config key. */
export function incrementalAlterConfigsChange(r: IncrementalAlterConfigsRequest['resources'][number]): ConfigResourceChange {
  return { resourceType: r.resourceType, resourceName: r.resourceName, replace: false, ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })) };
}

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on single config keys. */
export function incrementalAlterConfigsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.IncrementalAlterConfigs,
    minVersion: 0,
    maxVersion: 1,
    async handle(request, ctx) {
      // ALTER_CONFIGS on the topic (or group), or on the cluster for broker configs.
      const auth = authOf(deps);
      const denied = request.resources.map((r) => configResourceError(auth, ctx, r.resourceType, r.resourceName, true));
      const allowed = request.resources.filter((_, i) => denied[i] === ErrorCode.NONE);
      const results = allowed.length === 0 ? [] : await deps.alterConfigs(allowed.map(incrementalAlterConfigsChange), request.validateOnly);
      let next = 0;
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r, i) => (denied[i] !== ErrorCode.NONE
          ? { errorCode: denied[i]!, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName }
          : { ...results[next++]! })),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      responses: request.resources.map((r) => ({ errorCode, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName })),
    }),
  }));
}
