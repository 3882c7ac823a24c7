import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteAclsRequest, DeleteAclsResponse } from '../../../protocol/generated/delete-acls.js';
import { AclOperation } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { answeringKafkaErrors } from './admin-deps.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * DeleteAcls v0-3: ALTER on the cluster; SECURITY_DISABLED without an authorizer; every ACL a
 * filter matches is removed by the active controller (forwarded there from any broker).
 */
export function deleteAclsHandler(deps: HandlerDeps): ApiHandler {
  return answeringKafkaErrors(defineHandler<DeleteAclsRequest, DeleteAclsResponse>({
    apiKey: ApiKey.DeleteAcls,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      const auth = authOf(deps);
      const fail = (errorCode: number, errorMessage: string): DeleteAclsResponse => ({
        throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
      });
      if (!auth.authorizeCluster(ctx, AclOperation.ALTER)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      if (!auth.enabled) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
      const results = await deps.deleteAcls(request.filters.map((f) => ({
        resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter,
        principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
      })));
      return {
        throttleTimeMs: 0,
        filterResults: results.map((r) => ({
          errorCode: r.errorCode, errorMessage: r.errorMessage,
          matchingAcls: r.deleted.map((a) => ({
            errorCode: ErrorCode.NONE, errorMessage: null, resourceType: a.resourceType, resourceName: a.resourceName,
            patternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType,
          })),
        })),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })),
    }),
  }));
}
