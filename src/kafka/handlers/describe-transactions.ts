import { ApiKey } from '../../../protocol/generated/index.js';
import type {
  DescribeTransactionsRequest, DescribeTransactionsResponse, DescribeTransactionsResponseTransactionState,
} from '../../../protocol/generated/describe-transactions.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * DescribeTransactions v0: the state of each transactional id this broker coordinates
 * (NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for unknown ids).
 */
export function describeTransactionsHandler(txns: TransactionCoordinator): ApiHandler {
  return defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>({
    apiKey: ApiKey.DescribeTransactions,
    minVersion: 0,
    maxVersion: 0,
    handle(request) {
      return {
        throttleTimeMs: 0,
        transactionStates: request.transactionalIds.map((id): DescribeTransactionsResponseTransactionState => {
          const d = txns.describe(id);
          const byTopic = new Map<string, number[]>();
          for (const tp of d.partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
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
