import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../../../protocol/generated/delete-groups.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';

/** DeleteGroups: an empty group and its offsets are removed (tombstones in `__consumer_offsets`). */
export function deleteGroupsHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(request, ctx) {
      const unique = [...new Set(request.groupsNames)];
      // DELETE on each group.
      const codes = await Promise.all(unique.map((g) => (auth.authorize(ctx, AclOperation.DELETE, AclResourceType.GROUP, g)
        ? groups.deleteGroup(g) : ErrorCode.GROUP_AUTHORIZATION_FAILED)));
      return { throttleTimeMs: 0, results: unique.map((groupId, i) => ({ groupId, errorCode: codes[i]! })) };
    },
    errorResponse: (request, errorCode) => ({ throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) }),
  });
}
