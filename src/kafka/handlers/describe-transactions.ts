import { ApiKey } from '../../../protocol/generated/index.js';
import {
  defaultDescribeTransactionsResponseTransactionState,
  type DescribeTransactionsRequest, type DescribeTransactionsResponse, type DescribeTransactionsResponseTransactionState,
} from '../../../protocol/generated/describe-transactions.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import type { AuthHelper } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * DescribeTransactions v0: the state of each transactional id this broker coordinates
 * (NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for unknown ids). As KafkaApis: an
 * id without DESCRIBE on it answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED (and nothing else), and
 * the topics of a transaction are only those the principal may DESCRIBE.
 */
export function describeTransactionsHandler(txns: TransactionCoordinator, auth: AuthHelper): ApiHandler {
  return defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>({
    apiKey: ApiKey.DescribeTransactions,
    minVersion: 0,
    maxVersion: 0,
    handle(request, ctx) {
      return {
        throttleTimeMs: 0,
        transactionStates: request.transactionalIds.map((id): DescribeTransactionsResponseTransactionState => {
          if (!auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, id)) {
            return { ...defaultDescribeTransactionsResponseTransactionState(), transactionalId: id, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
          }
          const d = txns.describe(id);
          const byTopic = new Map<string, number[]>();
          for (const tp of d.partitions) {
            if (!byTopic.has(tp.topic) && !auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, tp.topic)) continue;
            byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
          }
          return {
            errorCode: d.errorCode, transactionalId: id, transactionState: d.state, transactionTimeoutMs: d.transactionTimeoutMs,
            transactionStartTimeMs: d.transactionStartTimeMs, producerId: d.producerId, producerEpoch: d.producerEpoch,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
          };
        }),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) => ({
        errorCode, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [],
      })),
    }),
  });
}
