import { ApiKey } from '../../../protocol/generated/index.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../../protocol/generated/init-producer-id.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * InitProducerId v0-5 for idempotent producers (no transactional id): as Kafka's transaction
 * coordinator, a fresh producer id with epoch 0 every time, whatever id and epoch the client
 * sends (KIP-360 bumps apply to transactional producers only). Transactional ids need the
 * transaction coordinator, which raftka does not have yet: NOT_COORDINATOR.
 */
export function initProducerIdHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
    apiKey: ApiKey.InitProducerId,
    minVersion: 0,
    maxVersion: 5,
    async handle(request, ctx) {
      // A transactional id needs WRITE on it; an idempotent producer IDEMPOTENT_WRITE on the
      // cluster or WRITE on some topic (KIP-679).
      const auth = authOf(deps);
      if (request.transactionalId !== null) {
        if (!auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, request.transactionalId)) return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      } else if (!auth.authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE) && !auth.authorizeByResourceType(ctx, AclOperation.WRITE, AclResourceType.TOPIC)) {
        return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      }
      if (request.transactionalId !== null || deps.allocateProducerId === undefined) return failed(ErrorCode.NOT_COORDINATOR);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: await deps.allocateProducerId(), producerEpoch: 0 };
    },
    errorResponse: (_request, errorCode) => failed(errorCode),
  });
}

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
}
