import { ApiKey } from '../../../protocol/generated/index.js';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../../protocol/generated/alter-configs.js';
import { ConfigOp, type ConfigResourceChange } from '../../cluster/topic-admin.js';
import { answeringKafkaErrors } from './admin-deps.js';
import { ErrorCode } from '../errors.js';
import { authOf } from '../../security/authorizer.js';
import { configResourceError } from '../../security/authorizer-resources.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** An AlterConfigs resource as the controller's change: its configs replace every dynamic config. */
export function alterConfigsChange(r: AlterConfigsRequest['resources'][number]): ConfigResourceChange {
  return { resourceType: r.resourceType, resourceName: r.resourceName, replace: true, ops: r.configs.map((c) => ({ name: c.name, op: ConfigOp.SET, value: c.value })) };
}

/** AlterConfigs (legacy): the given configs replace every dynamic config of the resource. */
export function alterConfigsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<AlterConfigsRequest, AlterConfigsResponse>(answeringKafkaErrors({
    apiKey: ApiKey.AlterConfigs,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, ctx) {
      // ALTER_CONFIGS on the topic (or group), or on the cluster for broker configs.
      const auth = authOf(deps);
      const denied = request.resources.map((r) => configResourceError(auth, ctx, r.resourceType, r.resourceName, true));
      const allowed = request.resources.filter((_, i) => denied[i] === ErrorCode.NONE);
      const results = allowed.length === 0 ? [] : await deps.alterConfigs(allowed.map(alterConfigsChange), request.validateOnly);
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
