import { ApiKey } from '../../../protocol/generated/index.js';
import type { CreateAclsRequest, CreateAclsResponse } from '../../../protocol/generated/create-acls.js';
import { AclOperation } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * CreateAcls v0-3: ALTER on the cluster; SECURITY_DISABLED without an authorizer; each ACL
 * validated and committed by the active controller (forwarded there from any broker).
 */
export function createAclsHandler(deps: HandlerDeps): ApiHandler {
  return answeringKafkaErrors(defineHandler<CreateAclsRequest, CreateAclsResponse>({
    apiKey: ApiKey.CreateAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      const auth = authOf(deps);
      const fail = (errorCode: number, errorMessage: string): CreateAclsResponse => ({
        throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })),
      });
      if (!auth.authorizeCluster(ctx, AclOperation.ALTER)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      if (!auth.enabled) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
      const results = await deps.createAcls(request.creations.map((c) => ({
        resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType,
        principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType,
      })));
      return { throttleTimeMs: 0, results: results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage })) };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage: null })),
    }),
  }));
}
