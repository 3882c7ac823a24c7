import { ApiKey } from '../../../protocol/generated/index.js';
import type { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../../../protocol/generated/add-offsets-to-txn.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/**
 * AddOffsetsToTxn v0-4: the group's `__consumer_offsets` partition joins the transaction, so its
 * TxnOffsetCommit gets the transaction's marker. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
 */
export function addOffsetsToTxnHandler(txns: TransactionCoordinator): ApiHandler {
  return defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
    apiKey: ApiKey.AddOffsetsToTxn,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, ctx) {
      const code = await txns.addOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId);
      return { throttleTimeMs: 0, errorCode: producerFencedFor(code, ctx.apiVersion, 2) };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode }),
  });
}
