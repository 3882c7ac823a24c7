import { ApiKey } from '../../../protocol/generated/index.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../../../protocol/generated/sync-group.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/** SyncGroup: the leader hands in the assignment; every member gets its own once it is persisted. */
export function syncGroupHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<SyncGroupRequest, SyncGroupResponse>({
    apiKey: ApiKey.SyncGroup,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx);
      // v5+ must name the protocol type and name (Kafka's areMandatoryProtocolTypeAndNamePresent).
      if (ctx.apiVersion >= 5 && (request.protocolType === null || request.protocolName === null)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
      }
      const r = await groups.sync({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
        protocolType: ctx.apiVersion >= 5 ? request.protocolType : null,
        protocolName: ctx.apiVersion >= 5 ? request.protocolName : null,
        assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      });
      return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) }),
  });
}
