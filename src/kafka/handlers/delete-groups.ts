import { ApiKey } from '../../../protocol/generated/index.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../../../protocol/generated/delete-groups.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** DeleteGroups: an empty group and its offsets are removed (tombstones in `__consumer_offsets`). */
export function deleteGroupsHandler(groups: GroupCoordinator): ApiHandler {
  return defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(request) {
      const unique = [...new Set(request.groupsNames)];
      const codes = await Promise.all(unique.map((g) => groups.deleteGroup(g)));
      return { throttleTimeMs: 0, results: unique.map((groupId, i) => ({ groupId, errorCode: codes[i]! })) };
    },
    errorResponse: (request, errorCode) => ({ throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) }),
  });
}
