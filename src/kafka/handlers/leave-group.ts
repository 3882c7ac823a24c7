import { ApiKey } from '../../../protocol/generated/index.js';
import type { LeaveGroupRequest, LeaveGroupResponse } from '../../../protocol/generated/leave-group.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/** LeaveGroup: one member (v0-2) or a batch of members, by member id or group.instance.id (v3+). */
export function leaveGroupHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<LeaveGroupRequest, LeaveGroupResponse>({
    apiKey: ApiKey.LeaveGroup,
    minVersion: 0,
    maxVersion: 5,
    handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
      const identities = ctx.apiVersion >= 3
        ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: request.memberId, groupInstanceId: null }];
      const r = groups.leave(request.groupId, identities);
      if (ctx.apiVersion >= 3) {
        return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: m.errorCode })) };
      }
      // Before v3 the single member's error is the top-level error.
      const memberError = r.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : memberError, members: [] };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, members: [] }),
  });
}
