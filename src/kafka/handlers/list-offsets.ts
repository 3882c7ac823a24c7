import { ApiKey } from '../../../protocol/generated/index.js';
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../../protocol/generated/list-offsets.js';
import { ErrorCode, KafkaError } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number];

const LATEST_TIMESTAMP = -1n;
const EARLIEST_TIMESTAMP = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL_TIMESTAMP = -4n;
const LATEST_TIERED_TIMESTAMP = -5n;

/**
 * ListOffsets v0-10: earliest (log start), latest (high watermark), max timestamp (-3, v7+),
 * earliest local (-4, v8+: the log start, nothing is tiered), latest tiered (-5, v9+: none, -1),
 * or the first offset at a timestamp. v10's timeout only matters for remote storage.
 * Isolation level read_committed (v2+) bounds everything by the last stable offset instead of
 * the high watermark, as Kafka's fetchOffsetForTimestamp: latest is the LSO, and a timestamp
 * lookup landing at or past it answers -1.
 */
export function listOffsetsHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
    apiKey: ApiKey.ListOffsets,
    minVersion: 0,
    maxVersion: 10,
    async handle(request, ctx) {
      // DESCRIBE on each topic.
      const describable = authOf(deps).filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, request.topics.map((t) => t.name));
      const topics: ListOffsetsResponse['topics'] = [];
      for (const t of request.topics) {
        const partitions: PartitionResponse[] = [];
        for (const p of t.partitions) {
          if (!describable.has(t.name)) { partitions.push(failed(p.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED)); continue; }
          try {
            partitions.push(await lookup(deps, t.name, p, ctx.apiVersion, ctx.apiVersion >= 2 ? request.isolationLevel : 0));
          } catch (err) {
            if (!(err instanceof KafkaError)) throw err;
            partitions.push(failed(p.partitionIndex, err.code));
          }
        }
        topics.push({ name: t.name, partitions });
      }
      return { throttleTimeMs: 0, topics };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => failed(p.partitionIndex, errorCode)) })),
    }),
  });
}

async function lookup(
  deps: HandlerDeps, topic: string, p: ListOffsetsRequest['topics'][number]['partitions'][number], version: number, isolationLevel: number,
): Promise<PartitionResponse> {
  if (deps.metadata().partition(topic, p.partitionIndex) === undefined) return failed(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const partition = deps.partition(topic, p.partitionIndex);
  if (partition === undefined || !partition.isLeader) return failed(p.partitionIndex, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch !== partition.leaderEpoch) {
    return failed(p.partitionIndex, p.currentLeaderEpoch > partition.leaderEpoch ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH);
  }
  let offset: bigint;
  let timestamp = -1n;
  const lastFetchable = isolationLevel === 1 ? partition.lastStableOffset : partition.highWatermark;
  if (p.timestamp === LATEST_TIMESTAMP) {
    offset = lastFetchable;
  } else if (p.timestamp === EARLIEST_TIMESTAMP || (p.timestamp === EARLIEST_LOCAL_TIMESTAMP && version >= 8)) {
    offset = partition.logStartOffset;
  } else if (p.timestamp === LATEST_TIERED_TIMESTAMP && version >= 9) {
    return { ...failed(p.partitionIndex, ErrorCode.NONE) };
  } else if (p.timestamp === MAX_TIMESTAMP && version >= 7) {
    const max = partition.maxTimestampAndOffset();
    if (max.offset < 0n || max.offset >= lastFetchable) return { ...failed(p.partitionIndex, ErrorCode.NONE) };
    // Refine to the first record carrying the max timestamp (the batch may hold later records).
    const exact = await partition.log.offsetForTimestamp(max.timestamp);
    offset = exact !== undefined && exact.offset <= max.offset ? exact.offset : max.offset;
    timestamp = max.timestamp;
  } else if (p.timestamp < 0n) {
    return failed(p.partitionIndex, ErrorCode.UNSUPPORTED_VERSION);
  } else {
    const found = await partition.log.offsetForTimestamp(p.timestamp);
    // Consumers never learn of offsets above the high watermark (read_committed: the LSO).
    if (found === undefined || found.offset >= lastFetchable) {
      offset = -1n;
    } else {
      offset = found.offset;
      timestamp = found.timestamp;
    }
  }
  return {
    partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE,
    oldStyleOffsets: version === 0 && offset >= 0n && p.maxNumOffsets > 0 ? [offset] : [],
    timestamp, offset, leaderEpoch: offset < 0n ? -1 : p.timestamp === LATEST_TIMESTAMP ? partition.log.lastEpoch : partition.log.epochAt(offset) ?? partition.leaderEpoch,
  };
}

function failed(partitionIndex: number, errorCode: number): PartitionResponse {
  return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 };
}
