import { ApiKey } from '../../../protocol/generated/index.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { FetchRequest, FetchResponse } from '../../../protocol/generated/fetch.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD } from '../../../protocol/records/index.js';
import type { MetadataImage } from '../../cluster/image.js';
import type { Partition } from '../../partition/partition.js';
import { FetchSession, FetchSessionCache, FINAL_EPOCH, INITIAL_EPOCH, type SessionPartition } from '../../partition/fetch-sessions.js';
import type { Logger } from '../../util/log.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { currentLeaderOf, NO_LEADER_HINT, nodeEndpointsFor, takesLeaderHints } from './leader-hints.js';

type PartitionData = FetchResponse['responses'][number]['partitions'][number];


/** Kafka answers a partition without data with an empty record set, never a null one (clients reject -1). */
const EMPTY_RECORDS = Buffer.alloc(0);

/**
 * Fetch v4-16 for consumers: whole batches below the high watermark, long polling until minBytes
 * are available or maxWaitMs passes (woken by high watermark events), maxBytes with Kafka's
 * first-batch rule, KIP-227 fetch sessions (v7+), KIP-320 leader epochs (v9+), diverging epochs
 * for lastFetchedEpoch (v12+), topic ids (v13+) and KIP-951 leader hints (v12+ CurrentLeader,
 * v16 NodeEndpoints). read_committed (isolation level 1) reads to the last stable offset and
 * gets the aborted transactions overlapping the returned records; every answer carries the LSO.
 */
export function fetchHandler(deps: HandlerDeps, sessions = new FetchSessionCache()): ApiHandler {
  return defineHandler<FetchRequest, FetchResponse>({
    apiKey: ApiKey.Fetch,
    minVersion: 4,
    maxVersion: 16,
    async handle(request, ctx) {
      const version = ctx.apiVersion;
      const usesTopicIds = version >= 13;
      const image = deps.metadata();
      // The fetch context (Kafka's FetchManager.newContext).
      let session: FetchSession | undefined;
      let wanted: SessionPartition[];
      const requested = requestedPartitions(request, image, usesTopicIds);
      if (version < 7 || request.sessionEpoch === FINAL_EPOCH || request.sessionEpoch === INITIAL_EPOCH) {
        if (version >= 7 && request.sessionId !== 0) sessions.remove(request.sessionId);
        if (version >= 7 && request.sessionEpoch === INITIAL_EPOCH) {
          session = sessions.create(usesTopicIds);
          if (session !== undefined) for (const p of requested) session.partitions.set(keyOf(p, usesTopicIds), p);
        }
        wanted = requested;
      } else {
        session = sessions.get(request.sessionId);
        if (session === undefined) return topLevelError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
        if (session.epoch !== request.sessionEpoch) return topLevelError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
        if (session.usesTopicIds !== usesTopicIds) return topLevelError(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
        for (const p of requested) {
          const key = keyOf(p, usesTopicIds);
          const cached = session.partitions.get(key);
          if (cached === undefined) session.partitions.set(key, p);
          else Object.assign(cached, { fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch, lastFetchedEpoch: p.lastFetchedEpoch });
        }
        for (const t of request.forgottenTopicsData) {
          const name = usesTopicIds ? t.topicId : t.topic;
          for (const idx of t.partitions) session.partitions.delete(FetchSession.key(name, idx));
        }
        session.nextEpoch();
        wanted = [...session.partitions.values()];
      }
      const incremental = version >= 7 && request.sessionEpoch > 0;

      // A consumer needs READ on each topic; a follower (replica id >= 0) CLUSTER_ACTION on the cluster.
      const auth = authOf(deps);
      const fromFollower = (version >= 15 ? request.replicaState.replicaId : request.replicaId) >= 0;
      const followerAllowed = fromFollower && auth.authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
      const readable = new Map<string, boolean>();
      const mayRead = (topic: string): boolean => {
        if (fromFollower) return followerAllowed;
        let ok = readable.get(topic);
        if (ok === undefined) { ok = auth.authorize(ctx, AclOperation.READ, AclResourceType.TOPIC, topic); readable.set(topic, ok); }
        return ok;
      };
      const deadline = Date.now() + Math.max(0, request.maxWaitMs);
      let read: Read;
      for (;;) {
        read = await readOnce(deps, image, wanted, request.maxBytes, request.isolationLevel, ctx.log, mayRead);
        const remaining = deadline - Date.now();
        if (read.bytes >= request.minBytes || read.hasError || remaining <= 0 || read.partitions.length === 0) break;
        await deps.waitForHighWatermark(read.partitions, remaining);
      }

      // Group by topic in request order; an incremental response only carries what changed.
      const byTopic = new Map<string, FetchResponse['responses'][number]>();
      const leaders: number[] = [];
      const hints = takesLeaderHints(ctx.connection);
      read.results.forEach((data, i) => {
        const p = wanted[i]!;
        const cached = session?.partitions.get(keyOf(p, usesTopicIds));
        const must = cached === undefined ? true : session!.mustRespond(cached, {
          records: data.records?.length ?? 0, highWatermark: data.highWatermark, logStartOffset: data.logStartOffset,
          errorCode: data.errorCode, divergingEpoch: data.divergingEpoch.epoch, lastStableOffset: data.lastStableOffset,
        });
        if (incremental && !must) return;
        const key = usesTopicIds ? p.topicId : p.topic;
        let t = byTopic.get(key);
        if (t === undefined) { t = { topic: p.topic, topicId: p.topicId, partitions: [] }; byTopic.set(key, t); }
        if (!hints) data.currentLeader = { ...NO_LEADER_HINT };
        t.partitions.push(data);
        leaders.push(data.currentLeader.leaderId);
      });
      return {
        throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session?.id ?? 0, responses: [...byTopic.values()],
        nodeEndpoints: version >= 16 && hints ? nodeEndpointsFor(image, leaders, ctx.connection.listenerName) : [],
      };
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

function topLevelError(errorCode: number): FetchResponse {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
}

function keyOf(p: SessionPartition, usesTopicIds: boolean): string {
  return FetchSession.key(usesTopicIds ? p.topicId : p.topic, p.partition);
}

/** The request's partitions, with topic names resolved from ids (v13+) and ids from names. */
function requestedPartitions(request: FetchRequest, image: MetadataImage, usesTopicIds: boolean): SessionPartition[] {
  const out: SessionPartition[] = [];
  for (const t of request.topics) {
    const state = usesTopicIds ? image.topicById(t.topicId) : image.topics.get(t.topic);
    const topic = usesTopicIds ? state?.name ?? '' : t.topic;
    const topicId = usesTopicIds ? t.topicId : state?.topicId ?? ZERO_UUID;
    for (const p of t.partitions) {
      out.push({
        topic, topicId, partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch, lastFetchedEpoch: p.lastFetchedEpoch, sentHighWatermark: -1n, sentLogStartOffset: -1n,
      });
    }
  }
  return out;
}

interface Read { results: PartitionData[]; bytes: number; partitions: Partition[]; hasError: boolean }

async function readOnce(
  deps: HandlerDeps, image: MetadataImage, wanted: readonly SessionPartition[], maxBytes: number, isolationLevel: number, log: Logger, mayRead: (topic: string) => boolean,
): Promise<Read> {
  let bytes = 0;
  let hasError = false;
  const partitions: Partition[] = [];
  const results: PartitionData[] = [];
  for (const p of wanted) {
    const result = p.topic !== '' && !mayRead(p.topic)
      ? { data: failed(p.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED) }
      : await readPartition(deps, image, p, Math.max(0, maxBytes - bytes), bytes === 0, isolationLevel, log);
    if (result.partition !== undefined) partitions.push(result.partition);
    if (result.data.errorCode !== ErrorCode.NONE) hasError = true;
    bytes += result.data.records?.length ?? 0;
    results.push(result.data);
  }
  return { results, bytes, partitions, hasError };
}

async function readPartition(
  deps: HandlerDeps, image: MetadataImage, p: SessionPartition, budget: number, first: boolean, isolationLevel: number, log: Logger,
): Promise<{ data: PartitionData; partition?: Partition }> {
  if (p.topic === '') return { data: failed(p.partition, ErrorCode.UNKNOWN_TOPIC_ID) };
  if (image.partition(p.topic, p.partition) === undefined) return { data: failed(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) };
  const partition = deps.partition(p.topic, p.partition);
  if (partition === undefined || !partition.isLeader) {
    const data = failed(p.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    data.currentLeader = currentLeaderOf(image, partition, p.topic, p.partition, deps.nodeId);
    return { data };
  }
  if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch !== partition.leaderEpoch) {
    const code = p.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
    const data = failed(p.partition, code, partition);
    if (code === ErrorCode.FENCED_LEADER_EPOCH) data.currentLeader = { leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch };
    return { data, partition };
  }
  try {
    if (p.lastFetchedEpoch >= 0) {
      // KIP-320 truncation detection: the consumer's last fetched epoch must end at or after its position.
      const end = partition.log.endOffsetForEpoch(p.lastFetchedEpoch);
      if (end.epoch < 0 || end.endOffset < 0n) {
        throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot determine the end offset of epoch ${p.lastFetchedEpoch}`);
      }
      if (end.epoch < p.lastFetchedEpoch || end.endOffset < p.fetchOffset) {
        return { partition, data: { ...ok(p.partition, partition.highWatermark, partition.logStartOffset, EMPTY_RECORDS, partition.lastStableOffset), divergingEpoch: { epoch: end.epoch, endOffset: end.endOffset } } };
      }
    }
    // The first partition with data always gets at least one whole batch (Kafka's minOneMessage);
    // later ones only whole batches within what is left of maxBytes and their partitionMaxBytes.
    const limit = Math.min(budget, Math.max(0, p.partitionMaxBytes));
    const r = first ? await partition.read(p.fetchOffset, Math.max(1, limit), isolationLevel) : limit > 0 ? await partition.read(p.fetchOffset, limit, isolationLevel) : undefined;
    if (r === undefined && (p.fetchOffset < partition.logStartOffset || p.fetchOffset > partition.logEndOffset)) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${p.fetchOffset} is out of range`);
    }
    let records = r?.records ?? EMPTY_RECORDS;
    if (!first && records.length > limit) records = wholeBatchesWithin(records, limit);
    const data = ok(p.partition, r?.highWatermark ?? partition.highWatermark, r?.logStartOffset ?? partition.logStartOffset, records, r?.lastStableOffset ?? partition.lastStableOffset);
    if (isolationLevel === 1) {
      data.abortedTransactions = records.length === 0 ? [] : (r?.abortedTransactions ?? []).map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
    }
    return { partition, data };
  } catch (err) {
    if (err instanceof KafkaError) return { data: failed(p.partition, err.code, partition), partition };
    log.error({ err, topic: p.topic, partition: p.partition }, 'fetch failed');
    return { data: failed(p.partition, ErrorCode.UNKNOWN_SERVER_ERROR), partition };
  }
}

/** The longest prefix of whole batches that fits in `limit` bytes. */
export function wholeBatchesWithin(records: Buffer, limit: number): Buffer {
  let end = 0;
  while (end + LOG_OVERHEAD <= records.length) {
    const size = LOG_OVERHEAD + records.readInt32BE(end + BATCH_LENGTH_OFFSET);
    if (end + size > limit || end + size > records.length) break;
    end += size;
  }
  return end === 0 ? EMPTY_RECORDS : records.subarray(0, end);
}

function ok(partitionIndex: number, highWatermark: bigint, logStartOffset: bigint, records: Buffer, lastStableOffset: bigint): PartitionData {
  return {
    partitionIndex, errorCode: ErrorCode.NONE, highWatermark, lastStableOffset, logStartOffset,
    divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 }, abortedTransactions: null, preferredReadReplica: -1, records,
  };
}

function failed(partitionIndex: number, errorCode: number, partition?: Partition): PartitionData {
  return {
    partitionIndex, errorCode,
    highWatermark: partition?.highWatermark ?? -1n, lastStableOffset: partition?.lastStableOffset ?? -1n,
    logStartOffset: partition?.logStartOffset ?? -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null, preferredReadReplica: -1, records: EMPTY_RECORDS,
  };
}
