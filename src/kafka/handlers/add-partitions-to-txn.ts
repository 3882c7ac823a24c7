import { ApiKey } from '../../../protocol/generated/index.js';
import type {
  AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from '../../../protocol/generated/add-partitions-to-txn.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { producerFencedFor } from '../../transactions/errors.js';

/** Kafka's Topic.isInternal: clients may never add these to a transaction themselves. */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state']);

/**
 * AddPartitionsToTxn v0-3 (the client versions; v4+ is the brokers' KIP-890 verification, not
 * served). Authorization as KafkaApis: WRITE on the transactional id (else every partition
 * answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED), WRITE on each topic (internal topics never
 * pass: TOPIC_AUTHORIZATION_FAILED). Partitions failing authorization or of unknown topics
 * (UNKNOWN_TOPIC_OR_PARTITION) fail the whole request, the others answering
 * OPERATION_NOT_ATTEMPTED; otherwise every partition gets the coordinator's answer
 * (CONCURRENT_TRANSACTIONS while the previous transaction's markers are written).
 */
export function addPartitionsToTxnHandler(deps: HandlerDeps, txns: TransactionCoordinator): ApiHandler {
  return defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
    apiKey: ApiKey.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 3,
    async handle(request, ctx) {
      const auth = authOf(deps);
      const topics = request.v3AndBelowTopics;
      const transactionalId = request.v3AndBelowTransactionalId;
      if (!auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, transactionalId)) {
        return response(topics.map((t) => result(t.name, t.partitions, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)));
      }
      const writable = auth.filterAuthorized(ctx, AclOperation.WRITE, AclResourceType.TOPIC, topics.map((t) => t.name).filter((n) => !INTERNAL_TOPICS.has(n)));
      const image = deps.metadata();
      const check = (topic: string, p: number): number => !writable.has(topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
        : image.partition(topic, p) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NONE;
      if (topics.some((t) => t.partitions.some((p) => check(t.name, p) !== ErrorCode.NONE))) {
        return response(topics.map((t) => result(t.name, t.partitions, (p) => {
          const code = check(t.name, p);
          return code === ErrorCode.NONE ? ErrorCode.OPERATION_NOT_ATTEMPTED : code;
        })));
      }
      const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
      const code = producerFencedFor(await txns.addPartitions(transactionalId, request.v3AndBelowProducerId,
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
