import { ApiKey } from '../../../protocol/generated/index.js';
import type { EndTxnRequest, EndTxnResponse } from '../../../protocol/generated/end-txn.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import type { AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/**
 * EndTxn v0-4: commit or abort. Answered once PrepareCommit / PrepareAbort is committed in
 * `__transaction_state` (as Kafka); the markers follow, and the next transaction's
 * AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS until they are all written.
 * PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2. (v5, transaction version 2, is not served.)
 * Needs WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as KafkaApis.
 */
export function endTxnHandler(txns: TransactionCoordinator, auth: AuthHelper): ApiHandler {
  return defineHandler<EndTxnRequest, EndTxnResponse>({
    apiKey: ApiKey.EndTxn,
    minVersion: 0,
    maxVersion: 4,
    async handle(request, ctx) {
      if (!auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
      }
      const code = await txns.endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
      return { throttleTimeMs: 0, errorCode: producerFencedFor(code, ctx.apiVersion, 2), producerId: -1n, producerEpoch: -1 };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 }),
  });
}
