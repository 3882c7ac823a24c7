import { ApiKey } from '../../../protocol/generated/index.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { MetadataRequest, MetadataResponse } from '../../../protocol/generated/metadata.js';
import type { TopicState } from '../../cluster/image.js';
import { leadersInPlace, validateTopicName } from '../../cluster/controller.js';
import { ErrorCode } from '../errors.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

type ResponseTopic = MetadataResponse['topics'][number];

const UNKNOWN_AUTHORIZED_OPERATIONS = -2147483648;
/** How long a Metadata request waits for an auto-created topic's leaders before answering LEADER_NOT_AVAILABLE. */
const AUTO_CREATE_WAIT_MS = 5000;
/** How long a Metadata request waits for this broker to apply a topic the controller already has. */
const METADATA_CATCH_UP_MS = 1000;

/** Metadata: served from this broker's own image, never forwarded. */
export function metadataHandler(deps: HandlerDeps): ApiHandler {
  const topicEntry = (t: TopicState): ResponseTopic => {
    const live = (id: number): boolean => deps.metadata().brokers.get(id)?.fenced === false;
    return {
      errorCode: ErrorCode.NONE,
      name: t.name,
      topicId: t.topicId,
      isInternal: t.name.startsWith('__'),
      partitions: t.partitions.map((p) => ({
        errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: [...p.isr],
        offlineReplicas: p.replicas.filter((r) => !live(r)),
      })),
      topicAuthorizedOperations: UNKNOWN_AUTHORIZED_OPERATIONS,
    };
  };
  const errorTopic = (name: string | null, topicId: string, errorCode: number): ResponseTopic => ({
    errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: UNKNOWN_AUTHORIZED_OPERATIONS,
  });

  return defineHandler<MetadataRequest, MetadataResponse>({
    apiKey: ApiKey.Metadata,
    minVersion: 0,
    maxVersion: 12,
    async handle(request, ctx) {
      // Auto-creation (auto.create.topics.enable, and the request's AllowAutoTopicCreation from v4):
      // unlike Kafka, the answer waits for the new topic's leaders, so the client need not retry.
      const missing = (request.topics ?? [])
        .map((t) => t.name)
        .filter((name): name is string => name !== null && name !== '' && !deps.metadata().topics.has(name));
      const known: string[] = [];
      if (missing.length > 0 && deps.autoCreateTopics && request.allowAutoTopicCreation) {
        const results = await deps.createTopics(
          [...new Set(missing)].map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: new Map() })),
          AUTO_CREATE_WAIT_MS, false);
        for (const r of results) {
          if (r.errorCode === ErrorCode.NONE || r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) known.push(r.name);
          else ctx.log.info({ topic: r.name, errorCode: r.errorCode, message: r.errorMessage }, 'topic auto-creation did not complete');
        }
      }
      // A topic the controller has (just created, here or by another broker's client) may not be
      // applied here yet: this broker follows the metadata log a moment behind. Wait for it.
      if (known.length > 0) {
        await deps.waitForMetadata((image) => known.every((name) => leadersInPlace(image, name)), METADATA_CATCH_UP_MS);
      }
      const image = deps.metadata();
      let topics: ResponseTopic[];
      // v0: an empty list means all topics; v1+: null means all, empty means none.
      const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
      if (all) {
        topics = [...image.topics.values()].map(topicEntry);
      } else {
        topics = (request.topics ?? []).map((rt) => {
          if (rt.name === null || rt.name === '') {
            const byId = rt.topicId !== ZERO_UUID ? image.topicById(rt.topicId) : undefined;
            return byId !== undefined ? topicEntry(byId) : errorTopic(null, rt.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
          }
          const t = image.topics.get(rt.name);
          if (t !== undefined) return topicEntry(t);
          const invalid = validateTopicName(rt.name) !== null;
          return errorTopic(rt.name, ZERO_UUID, invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        });
      }
      return {
        throttleTimeMs: 0,
        brokers: [...image.brokers.values()]
          .filter((b) => !b.fenced)
          .sort((a, b) => a.nodeId - b.nodeId)
          .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterId: deps.clusterId,
        controllerId: deps.controllerId(),
        topics,
        clusterAuthorizedOperations: UNKNOWN_AUTHORIZED_OPERATIONS,
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, brokers: [], clusterId: deps.clusterId, controllerId: -1,
      topics: (request.topics ?? []).map((t) => errorTopic(t.name, t.topicId, errorCode)),
      clusterAuthorizedOperations: UNKNOWN_AUTHORIZED_OPERATIONS,
    }),
  });
}
