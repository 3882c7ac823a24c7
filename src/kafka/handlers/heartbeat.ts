import { ApiKey } from '../../../protocol/generated/index.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../../../protocol/generated/heartbeat.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';

/** Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
export function heartbeatHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<HeartbeatRequest, HeartbeatResponse>({
    apiKey: ApiKey.Heartbeat,
    minVersion: 0,
    maxVersion: 4,
    handle: (request, ctx) => ({
      throttleTimeMs: 0,
      errorCode: !auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : groups.heartbeat(request.groupId, request.memberId, ctx.apiVersion >= 3 ? request.groupInstanceId : null, request.generationId),
    }),
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode }),
  });
}
