import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../../../protocol/generated/describe-groups.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { AUTHORIZED_OPERATIONS_OMITTED, NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';

/** Without an authorizer every group operation is allowed: READ (3), DELETE (6), DESCRIBE (8). */
const GROUP_AUTHORIZED_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

/** DescribeGroups: state, protocol and members (metadata and assignment only once Stable, as Kafka). */
export function describeGroupsHandler(groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
    apiKey: ApiKey.DescribeGroups,
    minVersion: 0,
    maxVersion: 5,
    handle: (request, ctx) => ({
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        // DESCRIBE on each group.
        if (!auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, groupId)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
        }
        const d = groups.describe(groupId);
        return {
          errorCode: d.errorCode, groupId, groupState: d.state, protocolType: d.protocolType, protocolData: d.protocolData,
          members: d.members.map((m) => ({
            memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
            memberMetadata: m.metadata, memberAssignment: m.assignment,
          })),
          authorizedOperations: request.includeAuthorizedOperations
            ? auth.authorizedOperations(ctx, AclResourceType.GROUP, groupId, GROUP_AUTHORIZED_OPERATIONS) : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    }),
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({
        errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      })),
    }),
  });
}
