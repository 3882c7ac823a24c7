import { ApiKey } from '../../../protocol/generated/index.js';
import type { FetchRequest, FetchResponse } from '../../../protocol/generated/fetch.js';
import type { Partition } from '../../partition/partition.js';
import type { Logger } from '../../util/log.js';
import { ErrorCode, KafkaError } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

type PartitionData = FetchResponse['responses'][number]['partitions'][number];

/** Kafka answers a partition without data with an empty record set, never a null one (clients reject -1). */
const EMPTY_RECORDS = Buffer.alloc(0);

/**
 * Fetch for consumers: whole batches below the high watermark, long polling until minBytes are
 * available or maxWaitMs passes. Fetch sessions (KIP-227) are declined with session id 0, which
 * clients answer with full fetches.
 */
export function fetchHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<FetchRequest, FetchResponse>({
    apiKey: ApiKey.Fetch,
    minVersion: 4,
    maxVersion: 11,
    async handle(request, ctx) {
      const deadline = Date.now() + Math.max(0, request.maxWaitMs);
      for (;;) {
        const { response, bytes, partitions, hasError } = await readOnce(deps, request, ctx.log);
        const remaining = deadline - Date.now();
        if (bytes >= request.minBytes || hasError || remaining <= 0 || partitions.length === 0) return response;
        await deps.waitForHighWatermark(partitions, remaining);
      }
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, errorCode, sessionId: 0,
      responses: request.topics.map((t) => ({
        topic: t.topic, topicId: t.topicId,
        partitions: t.partitions.map((p) => failed(p.partition, errorCode)),
      })),
      nodeEndpoints: [],
    }),
  });
}

async function readOnce(deps: HandlerDeps, request: FetchRequest, log: Logger): Promise<{
  response: FetchResponse; bytes: number; partitions: Partition[]; hasError: boolean;
}> {
  let bytes = 0;
  let hasError = false;
  const partitions: Partition[] = [];
  const responses: FetchResponse['responses'] = [];
  for (const t of request.topics) {
    const out: PartitionData[] = [];
    for (const p of t.partitions) {
      const result = await readPartition(deps, t.topic, p, Math.max(0, request.maxBytes - bytes), bytes === 0, log);
      if (result.partition !== undefined) partitions.push(result.partition);
      if (result.data.errorCode !== ErrorCode.NONE) hasError = true;
      bytes += result.data.records?.length ?? 0;
      out.push(result.data);
    }
    responses.push({ topic: t.topic, topicId: t.topicId, partitions: out });
  }
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses, nodeEndpoints: [] }, bytes, partitions, hasError };
}

async function readPartition(
  deps: HandlerDeps, topic: string, p: FetchRequest['topics'][number]['partitions'][number], budget: number, first: boolean, log: Logger,
): Promise<{ data: PartitionData; partition?: Partition }> {
  if (deps.metadata().partition(topic, p.partition) === undefined) return { data: failed(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) };
  const partition = deps.partition(topic, p.partition);
  if (partition === undefined || !partition.isLeader) return { data: failed(p.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER) };
  if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch !== partition.leaderEpoch) {
    const code = p.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
    return { data: failed(p.partition, code), partition };
  }
  // The first partition with data always gets at least one whole batch (Kafka's minOneMessage).
  const maxBytes = first ? Math.max(1, p.partitionMaxBytes) : Math.min(budget, p.partitionMaxBytes);
  try {
    const r = maxBytes > 0
      ? await partition.read(p.fetchOffset, maxBytes)
      : { records: null, highWatermark: partition.highWatermark, logStartOffset: partition.logStartOffset };
    return {
      partition,
      data: {
        partitionIndex: p.partition, errorCode: ErrorCode.NONE, highWatermark: r.highWatermark,
        lastStableOffset: r.highWatermark, logStartOffset: r.logStartOffset,
        divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1n, epoch: -1 },
        abortedTransactions: null, preferredReadReplica: -1, records: r.records ?? EMPTY_RECORDS,
      },
    };
  } catch (err) {
    if (err instanceof KafkaError) return { data: failed(p.partition, err.code, partition), partition };
    log.error({ err, topic, partition: p.partition }, 'fetch failed');
    return { data: failed(p.partition, ErrorCode.UNKNOWN_SERVER_ERROR), partition };
  }
}

function failed(partitionIndex: number, errorCode: number, partition?: Partition): PartitionData {
  return {
    partitionIndex, errorCode,
    highWatermark: partition?.highWatermark ?? -1n, lastStableOffset: partition?.highWatermark ?? -1n,
    logStartOffset: partition?.logStartOffset ?? -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null, preferredReadReplica: -1, records: EMPTY_RECORDS,
  };
}
