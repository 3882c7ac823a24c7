import { ApiKey } from '../../../protocol/generated/index.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../../protocol/generated/init-producer-id.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/**
 * InitProducerId v0-5. Without a transactional id (idempotent producers), as Kafka's transaction
 * coordinator: a fresh producer id with epoch 0 every time, whatever id and epoch the client
 * sends. With one, the transaction coordinator of the id answers (this broker must lead its
 * `__transaction_state` partition, else NOT_COORDINATOR): a new id gets a producer id at epoch
 * 0, a known one an epoch bump that fences its previous producer; v3+ may name the producer id
 * and epoch it has (KIP-360). PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4.
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
      if (request.transactionalId === null) {
        if (deps.allocateProducerId === undefined) return failed(ErrorCode.NOT_COORDINATOR);
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: await deps.allocateProducerId(), producerEpoch: 0 };
      }
      if (deps.transactions === undefined) return failed(ErrorCode.NOT_COORDINATOR);
      const noId = request.producerId === -1n;
      const noEpoch = request.producerEpoch === -1;
      if (noId !== noEpoch) return failed(ErrorCode.INVALID_REQUEST);
      const expected = noId ? undefined : { producerId: request.producerId, epoch: request.producerEpoch };
      const r = await deps.transactions.initProducerId(request.transactionalId, request.transactionTimeoutMs, expected);
      if (r.errorCode !== ErrorCode.NONE) return failed(producerFencedFor(r.errorCode, ctx.apiVersion, 4));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch };
    },
    errorResponse: (_request, errorCode) => failed(errorCode),
  });
}

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
}
