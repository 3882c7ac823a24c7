import { ApiKey } from '../../../protocol/generated/index.js';
import type {
  AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from '../../../protocol/generated/add-partitions-to-txn.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/**
 * AddPartitionsToTxn v0-3 (the client versions; v4+ is the brokers' KIP-890 verification, not
 * served). Partitions of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION and the others
 * OPERATION_NOT_ATTEMPTED, as Kafka; otherwise every partition gets the coordinator's answer
 * (CONCURRENT_TRANSACTIONS while the previous transaction's markers are written).
 */
export function addPartitionsToTxnHandler(deps: HandlerDeps, txns: TransactionCoordinator): ApiHandler {
  return defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
    apiKey: ApiKey.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      const image = deps.metadata();
      const topics = request.v3AndBelowTopics;
      const unknown = (topic: string, p: number): boolean => image.partition(topic, p) === undefined;
      if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
        return response(topics.map((t) => result(t.name, t.partitions, (p) => unknown(t.name, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED)));
      }
      const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
      const code = producerFencedFor(await txns.addPartitions(request.v3AndBelowTransactionalId, request.v3AndBelowProducerId,
        request.v3AndBelowProducerEpoch, partitions), ctx.apiVersion, 2);
      return response(topics.map((t) => result(t.name, t.partitions, () => code)));
    },
    errorResponse: (request, errorCode) => response(request.v3AndBelowTopics.map((t) => result(t.name, t.partitions, () => errorCode))),
  });
}

function result(name: string, partitions: readonly number[], code: (p: number) => number): AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult {
  return { name, resultsByPartition: partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(p) })) };
}

function response(resultsByTopicV3AndBelow: AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[]): AddPartitionsToTxnResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction: [], resultsByTopicV3AndBelow };
}
