import { ApiKey } from '../../../protocol/generated/index.js';
import type { ListGroupsRequest, ListGroupsResponse } from '../../../protocol/generated/list-groups.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/** ListGroups: the groups this broker coordinates, filtered by state (v4+) and type (v5+, all are "classic"). */
export function listGroupsHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<ListGroupsRequest, ListGroupsResponse>({
    apiKey: ApiKey.ListGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      const states = new Set((ctx.apiVersion >= 4 ? request.statesFilter : []).map((s) => s.toLowerCase()));
      const types = new Set((ctx.apiVersion >= 5 ? request.typesFilter : []).map((s) => s.toLowerCase()));
      const r = groups.listGroups();
      // DESCRIBE on the cluster lists every group; otherwise only those the principal may describe.
      const all = auth.authorizeCluster(ctx, AclOperation.DESCRIBE);
      const visible = (groupId: string): boolean => all || auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, groupId);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        groups: r.groups
          .filter((g) => visible(g.groupId) && (states.size === 0 || states.has(g.state.toLowerCase())) && (types.size === 0 || types.has('classic')))
          .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
      };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, groups: [] }),
  });
}
