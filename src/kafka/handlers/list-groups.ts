import { ApiKey } from '../../../protocol/generated/index.js';
import type { ListGroupsRequest, ListGroupsResponse } from '../../../protocol/generated/list-groups.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** ListGroups: the groups this broker coordinates, filtered by state (v4+) and type (v5+, all are "classic"). */
export function listGroupsHandler(groups: GroupCoordinator): ApiHandler {
  return defineHandler<ListGroupsRequest, ListGroupsResponse>({
    apiKey: ApiKey.ListGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      const states = new Set((ctx.apiVersion >= 4 ? request.statesFilter : []).map((s) => s.toLowerCase()));
      const types = new Set((ctx.apiVersion >= 5 ? request.typesFilter : []).map((s) => s.toLowerCase()));
      const r = groups.listGroups();
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        groups: r.groups
          .filter((g) => (states.size === 0 || states.has(g.state.toLowerCase())) && (types.size === 0 || types.has('classic')))
          .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' })),
      };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, groups: [] }),
  });
}
