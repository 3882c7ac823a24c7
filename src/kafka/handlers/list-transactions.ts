import { ApiKey } from '../../../protocol/generated/index.js';
import type { ListTransactionsRequest, ListTransactionsResponse } from '../../../protocol/generated/list-transactions.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { txnStateFromName } from '../../transactions/metadata.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import type { AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * ListTransactions v0-1: the transactions this broker coordinates, filtered by state, producer
 * id and (v1) how long they have been running; state names Kafka does not know are echoed in
 * unknownStateFilters. Only transactional ids the principal may DESCRIBE are listed (KafkaApis).
 */
export function listTransactionsHandler(txns: TransactionCoordinator, auth: AuthHelper): ApiHandler {
  return defineHandler<ListTransactionsRequest, ListTransactionsResponse>({
    apiKey: ApiKey.ListTransactions,
    minVersion: 0,
    maxVersion: 1,
    handle(request, ctx) {
      const unknownStateFilters = request.stateFilters.filter((s) => txnStateFromName(s) === undefined);
      const r = txns.list({
        states: request.stateFilters, producerIds: request.producerIdFilters,
        durationMs: ctx.apiVersion >= 1 ? Number(request.durationFilter) : -1,
      });
      return {
        throttleTimeMs: 0, errorCode: r.errorCode, unknownStateFilters,
        transactionStates: r.errorCode !== ErrorCode.NONE ? [] : r.transactions.filter((t) => auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, t.transactionalId)).map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state })),
      };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, unknownStateFilters: [], transactionStates: [] }),
  });
}
