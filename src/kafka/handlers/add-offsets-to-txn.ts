import { ApiKey } from '../../../protocol/generated/index.js';
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../../../protocol/generated/add-offsets-to-txn.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import type { AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/**
 * AddOffsetsToTxn v0-4: the group's `__consumer_offsets` partition joins the transaction, so its
 * TxnOffsetCommit gets the transaction's marker. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
 * Authorization as KafkaApis: WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
 * then READ on the group (GROUP_AUTHORIZATION_FAILED).
 */
export function addOffsetsToTxnHandler(txns: TransactionCoordinator, auth: AuthHelper): ApiHandler {
  return defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
    apiKey: ApiKey.AddOffsetsToTxn,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      }
      if (!auth.authorize(ctx, AclOperation.READ, AclResourceType.GROUP, request.groupId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      }
      const code = await txns.addOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId);
      return { throttleTimeMs: 0, errorCode: producerFencedFor(code, ctx.apiVersion, 2) };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode }),
  });
}
