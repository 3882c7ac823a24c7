import { ApiKey } from '../../../protocol/generated/index.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../../../protocol/generated/heartbeat.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
export function heartbeatHandler(groups: GroupCoordinator): ApiHandler {
  return defineHandler<HeartbeatRequest, HeartbeatResponse>({
    apiKey: ApiKey.Heartbeat,
    minVersion: 0,
    maxVersion: 4,
    handle: (request, ctx) => ({
      throttleTimeMs: 0,
      errorCode: groups.heartbeat(request.groupId, request.memberId, ctx.apiVersion >= 3 ? request.groupInstanceId : null, request.generationId),
    }),
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode }),
  });
}
