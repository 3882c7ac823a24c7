import { ApiKey } from '../../../protocol/generated/index.js';
import type {
  WriteTxnMarkersRequest, WriteTxnMarkersRequestWritableTxnMarker, WriteTxnMarkersResponse, WriteTxnMarkersResponseWritableTxnMarkerResult,
} from '../../../protocol/generated/write-txn-markers.js';
import type { MetadataImage } from '../../cluster/image.js';
import type { Partition } from '../../partition/partition.js';
import type { Logger } from '../../util/log.js';
import { AclOperation } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import { ErrorCode, KafkaError } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

/** `__consumer_offsets`: markers there also end the producer's pending transactional offset commits. */
const OFFSETS_TOPIC = '__consumer_offsets';
/** Kafka appends markers with timeout = request.timeout.ms (30 s default). */
export const MARKER_TIMEOUT_MS = 30_000;

/** One WriteTxnMarkers entry: a COMMIT (transactionResult true) or ABORT for some partitions of one producer. */
export type TxnMarkerEntry = WriteTxnMarkersRequestWritableTxnMarker;
export type TxnMarkerResult = WriteTxnMarkersResponseWritableTxnMarkerResult;

/** What writeTxnMarkers needs from the broker (a subset of HandlerDeps, so the transaction coordinator can call it directly). */
export type TxnMarkerDeps = Pick<HandlerDeps, 'metadata' | 'partition' | 'groups'>;

/**
 * Writes transaction markers to this broker's partitions, as Kafka's
 * KafkaApis.handleWriteTxnMarkersRequest: every marker's partitions are written at once (a
 * COMMIT/ABORT control batch each, through Raft, answered once committed), each partition with
 * its own error code: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH
 * (older producer epoch), TRANSACTION_COORDINATOR_FENCED (older coordinator epoch),
 * REQUEST_TIMED_OUT. For `__consumer_offsets` partitions written successfully, the group
 * coordinator then materialises (commit) or drops (abort) the producer's pending transactional
 * offsets before the answer. The transaction coordinator calls this for its local partitions and
 * sends WriteTxnMarkers to the leaders of the others.
 */
export async function writeTxnMarkers(deps: TxnMarkerDeps, markers: readonly TxnMarkerEntry[], log?: Logger, timeoutMs = MARKER_TIMEOUT_MS): Promise<TxnMarkerResult[]> {
  const image = deps.metadata();
  return Promise.all(markers.map(async (m) => {
    const topics = await Promise.all(m.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(t.partitionIndexes.map(async (index) => ({
        partitionIndex: index,
        errorCode: await writeOne(deps, image, m, t.name, index, log, timeoutMs),
      }))),
    })));
    return { producerId: m.producerId, topics };
  }));
}

async function writeOne(deps: TxnMarkerDeps, image: MetadataImage, m: TxnMarkerEntry, topic: string, index: number, log: Logger | undefined, timeoutMs: number): Promise<number> {
  if (image.partition(topic, index) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const partition = deps.partition(topic, index);
  if (partition === undefined || !partition.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  try {
    await withTimeout(partition.writeTxnMarker({
      producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, commit: m.transactionResult,
    }), timeoutMs, partition);
    if (topic === OFFSETS_TOPIC) await deps.groups?.completeTransaction(index, m.producerId, m.transactionResult);
    return ErrorCode.NONE;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    log?.error({ err, topic, partition: index }, 'writing a transaction marker failed');
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

function withTimeout(p: Promise<void>, timeoutMs: number, partition: Partition): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `marker not committed in ${timeoutMs} ms on ${partition.topic}-${partition.index}`)), timeoutMs);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * WriteTxnMarkers v0-1 (Kafka 4.0 advertises 1 only; v0 is the same body non-flexible): sent by
 * transaction coordinators to partition leaders, answered once the markers are committed.
 * Needs CLUSTER_ACTION on the cluster (CLUSTER_AUTHORIZATION_FAILED everywhere), as KafkaApis.
 */
export function writeTxnMarkersHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse>({
    apiKey: ApiKey.WriteTxnMarkers,
    minVersion: 0,
    maxVersion: 1,
    async handle(request, ctx) {
      if (!authOf(deps).authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, ctx);
      return { markers: await writeTxnMarkers(deps, request.markers, ctx.log) };
    },
    errorResponse: (request, errorCode) => ({
      markers: request.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })) })),
      })),
    }),
  });
}
