import { ApiKey } from '../../../protocol/generated/index.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import type { MetadataRequest, MetadataResponse } from '../../../protocol/generated/metadata.js';
import { endpointFor, type TopicState } from '../../cluster/image.js';
import { leadersInPlace, validateTopicName } from '../../cluster/controller.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

type ResponseTopic = MetadataResponse['topics'][number];

/** How long a Metadata request waits for an auto-created topic's leaders before answering LEADER_NOT_AVAILABLE. */
const AUTO_CREATE_WAIT_MS = 5000;
/** How long a Metadata request waits for this broker to apply a topic the controller already has. */
const METADATA_CATCH_UP_MS = 1000;

/** Metadata: served from this broker's own image, never forwarded. */
export function metadataHandler(deps: HandlerDeps): ApiHandler {
  const auth = authOf(deps);
  const topicEntry = (t: TopicState, authorizedOperations: number): ResponseTopic => {
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
      topicAuthorizedOperations: authorizedOperations,
    };
  };
  const errorTopic = (name: string | null, topicId: string, errorCode: number): ResponseTopic => ({
    errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });

  return defineHandler<MetadataRequest, MetadataResponse>({
    apiKey: ApiKey.Metadata,
    minVersion: 0,
    maxVersion: 12,
    async handle(request, ctx) {
      // Auto-creation (auto.create.topics.enable, and the request's AllowAutoTopicCreation from v4):
      // unlike Kafka, the answer waits for the new topic's leaders, so the client need not retry.
      // Authorization: a topic needs DESCRIBE to be listed (all topics: the others are left out;
      // named ones: TOPIC_AUTHORIZATION_FAILED, checked before their existence, so that nothing is
      // disclosed); auto-creation needs CREATE on the cluster or on the topic.
      const named = (request.topics ?? []).map((t) => t.name).filter((name): name is string => name !== null && name !== '');
      const describable = auth.filterAuthorized(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, named);
      let missing = named.filter((name) => describable.has(name) && !deps.metadata().topics.has(name));
      const uncreatable = new Set<string>();
      const autoCreate = missing.length > 0 && deps.autoCreateTopics && request.allowAutoTopicCreation;
      if (autoCreate && !auth.authorizeCluster(ctx, AclOperation.CREATE)) {
        const creatable = auth.filterAuthorized(ctx, AclOperation.CREATE, AclResourceType.TOPIC, missing);
        for (const name of missing) if (!creatable.has(name)) uncreatable.add(name);
        missing = missing.filter((name) => creatable.has(name));
      }
      const known: string[] = [];
      if (autoCreate && missing.length > 0) {
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
      const operationsOf = (name: string): number => (ctx.apiVersion >= 8 && request.includeTopicAuthorizedOperations
        ? auth.authorizedOperations(ctx, AclResourceType.TOPIC, name, AUTHORIZED_OPERATIONS_OMITTED) : AUTHORIZED_OPERATIONS_OMITTED);
      const entry = (t: TopicState): ResponseTopic => topicEntry(t, operationsOf(t.name));
      const mayDescribe = (name: string): boolean => auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TOPIC, name);
      let topics: ResponseTopic[];
      // v0: an empty list means all topics; v1+: null means all, empty means none.
      const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
      if (all) {
        topics = [...image.topics.values()].filter((t) => mayDescribe(t.name)).map(entry);
      } else {
        topics = (request.topics ?? []).map((rt) => {
          if (rt.name === null || rt.name === '') {
            const byId = rt.topicId !== ZERO_UUID ? image.topicById(rt.topicId) : undefined;
            if (byId === undefined) return errorTopic(null, rt.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
            // Topic ids are not secret: TOPIC_AUTHORIZATION_FAILED may name the id.
            return mayDescribe(byId.name) ? entry(byId) : errorTopic(null, rt.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          }
          if (!describable.has(rt.name) || uncreatable.has(rt.name)) return errorTopic(rt.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const t = image.topics.get(rt.name);
          if (t !== undefined) return entry(t);
          const invalid = validateTopicName(rt.name) !== null;
          return errorTopic(rt.name, ZERO_UUID, invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        });
      }
      return {
        throttleTimeMs: 0,
        // The endpoints of the listener the request came in on; brokers without it are left out (as Kafka).
        brokers: [...image.brokers.values()]
          .filter((b) => !b.fenced)
          .sort((a, b) => a.nodeId - b.nodeId)
          .flatMap((b) => {
            const e = endpointFor(b, ctx.connection.listenerName);
            return e === undefined ? [] : [{ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack }];
          }),
        clusterId: deps.clusterId,
        controllerId: deps.controllerId(),
        topics,
        // v8-10: the cluster's authorized operations when asked (0 without DESCRIBE on the cluster).
        clusterAuthorizedOperations: ctx.apiVersion >= 8 && ctx.apiVersion <= 10 && request.includeClusterAuthorizedOperations
          ? auth.clusterAuthorizedOperations(ctx, AUTHORIZED_OPERATIONS_OMITTED)
          : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, brokers: [], clusterId: deps.clusterId, controllerId: -1,
      topics: (request.topics ?? []).map((t) => errorTopic(t.name, t.topicId, errorCode)),
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }),
  });
}
