import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeAclsRequest, DescribeAclsResponse } from '../../../protocol/generated/describe-acls.js';
import { AclOperation, validateFilter, type AclWithId } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * DescribeAcls v0-3: DESCRIBE on the cluster; SECURITY_DISABLED without an authorizer; the ACLs
 * the filter matches, from this broker's metadata image, grouped by resource pattern.
 */
export function describeAclsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<DescribeAclsRequest, DescribeAclsResponse>({
    apiKey: ApiKey.DescribeAcls,
    minVersion: 0,
    maxVersion: 3,
    handle(request, ctx) {
      const auth = authOf(deps);
      const fail = (errorCode: number, errorMessage: string): DescribeAclsResponse => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
      if (!auth.authorizeCluster(ctx, AclOperation.DESCRIBE)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      if (!auth.enabled) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured on the broker');
      const filter = {
        resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter, patternType: request.patternTypeFilter,
        principal: request.principalFilter, host: request.hostFilter, operation: request.operation, permissionType: request.permissionType,
      };
      const invalid = validateFilter(filter);
      if (invalid !== null) return fail(ErrorCode.INVALID_REQUEST, invalid);
      const byPattern = new Map<string, AclWithId[]>();
      for (const acl of deps.metadata().acls.matching(filter)) {
        const key = JSON.stringify([acl.resourceType, acl.resourceName, acl.patternType]);
        const list = byPattern.get(key);
        if (list === undefined) byPattern.set(key, [acl]); else list.push(acl);
      }
      return {
        throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null,
        resources: [...byPattern.values()].map((acls) => ({
          resourceType: acls[0]!.resourceType, resourceName: acls[0]!.resourceName, patternType: acls[0]!.patternType,
          acls: acls.map((a) => ({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
        })),
      };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] }),
  });
}
