import { ApiKey } from '../../../protocol/generated/index.js';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../../../protocol/generated/offset-delete.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

/** OffsetDelete: removes committed offsets of topics the group does not consume (KIP-496). */
export function offsetDeleteHandler(deps: HandlerDeps, groups: GroupCoordinator, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
    apiKey: ApiKey.OffsetDelete,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, ctx) {
      // DELETE on the group, READ on each topic.
      if (!auth.authorize(ctx, AclOperation.DELETE, AclResourceType.GROUP, request.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
      const readable = auth.filterAuthorized(ctx, AclOperation.READ, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const image = deps.metadata();
      const wanted: { topic: string; partition: number }[] = [];
      const codes: number[][] = request.topics.map((t) => t.partitions.map((p) => {
        if (!readable.has(t.name)) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        if (image.partition(t.name, p.partitionIndex) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        wanted.push({ topic: t.name, partition: p.partitionIndex });
        return -1000;
      }));
      const r = await groups.deleteOffsets(request.groupId, wanted);
      if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
      let i = 0;
      return {
        errorCode: ErrorCode.NONE, throttleTimeMs: 0,
        topics: request.topics.map((t, ti) => ({
          name: t.name,
          partitions: t.partitions.map((p, pi) => ({ partitionIndex: p.partitionIndex, errorCode: codes[ti]![pi] === -1000 ? r.codes[i++]! : codes[ti]![pi]! })),
        })),
      };
    },
    errorResponse: (_request, errorCode) => ({ errorCode, throttleTimeMs: 0, topics: [] }),
  });
}
