import { ApiKey } from '../../../protocol/generated/index.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../../protocol/generated/join-group.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';

/** JoinGroup (classic protocol): answers when the rebalance completes (see groups/shard.ts). */
export function joinGroupHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<JoinGroupRequest, JoinGroupResponse>({
    apiKey: ApiKey.JoinGroup,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) return this.errorResponse(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx);
      const r = await groups.join({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: ctx.apiVersion >= 5 ? request.groupInstanceId : null,
        clientId: ctx.clientId ?? '',
        clientHost: `/${ctx.connection.remoteAddress}`,
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 has no rebalance timeout: the session timeout serves as both (as in Kafka).
        rebalanceTimeoutMs: ctx.apiVersion >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        requireKnownMemberId: ctx.apiVersion >= 4,
      });
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        generationId: r.generationId,
        protocolType: r.protocolType,
        protocolName: r.protocolName ?? (ctx.apiVersion >= 7 ? null : ''),
        leader: r.leader,
        skipAssignment: r.skipAssignment,
        memberId: r.memberId,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
      };
    },
    errorResponse: (request, errorCode, ctx) => ({
      throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: ctx.apiVersion >= 7 ? null : '',
      leader: '', skipAssignment: false, memberId: request.memberId, members: [],
    }),
  });
}
