import { ApiKey } from '../../../protocol/generated/index.js';
import type { ProduceRequest, ProduceResponse } from '../../../protocol/generated/produce.js';
import type { MetadataImage, TopicState } from '../../cluster/image.js';
import { TOPIC_CONFIG_DEFAULTS } from '../../cluster/topic-config.js';
import { produceConfigFrom, RecordValidationError, type ProduceConfig } from '../../partition/validate.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf } from '../../security/authorizer.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { currentLeaderOf, NO_LEADER_HINT, nodeEndpointsFor, takesLeaderHints } from './leader-hints.js';

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number];

/**
 * Produce v3-11 (record batches only; v0-2 carried message sets of magic 0/1, removed in Kafka 4.0).
 * Like Kafka 4.0 after KAFKA-18659, v0-2 are still advertised (librdkafka turns compression off
 * unless ApiVersions offers Produce from v0) and answered UNSUPPORTED_VERSION on every partition.
 * acks=0 sends no response, acks=1 answers once the leader appended, acks=-1 once committed.
 * v10+ (KIP-951): NOT_LEADER_OR_FOLLOWER carries the current leader and its endpoint.
 * v11 only adds TRANSACTION_ABORTABLE, which a broker without transactions never returns.
 */
export function produceHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<ProduceRequest, ProduceResponse>({
    apiKey: ApiKey.Produce,
    minVersion: 0,
    maxVersion: 11,
    async handle(request, ctx) {
      const { acks } = request;
      if (ctx.apiVersion < 3) {
        ctx.log.info({ apiVersion: ctx.apiVersion, clientId: ctx.clientId }, 'refusing a Produce request with the legacy message format');
        return acks === 0 ? null : this.errorResponse(request, ErrorCode.UNSUPPORTED_VERSION, ctx);
      }
      // A transactional producer needs WRITE on its transactional id (else the whole request
      // fails), and every producer WRITE on each topic (checked before the topic's existence).
      const auth = authOf(deps);
      if (request.transactionalId !== null && !auth.authorize(ctx, AclOperation.WRITE, AclResourceType.TRANSACTIONAL_ID, request.transactionalId)) {
        return acks === 0 ? null : this.errorResponse(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ctx);
      }
      const writable = auth.filterAuthorized(ctx, AclOperation.WRITE, AclResourceType.TOPIC, request.topicData.map((t) => t.name));
      const image = deps.metadata();
      // Start every append synchronously, in request order, before awaiting anything.
      const pending = request.topicData.map((topic) => {
        const state = image.topics.get(topic.name);
        const config = state === undefined ? undefined : produceConfigOf(state);
        return {
          name: topic.name,
          partitions: topic.partitionData.map((pd) => ({
            index: pd.index,
            result: !writable.has(topic.name)
              ? Promise.resolve(failed(pd.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED))
              : acks !== 0 && acks !== 1 && acks !== -1
              ? Promise.resolve(failed(pd.index, ErrorCode.INVALID_REQUIRED_ACKS))
              : appendOne(deps, image, topic.name, config, pd.index, pd.records, acks, request.timeoutMs, ctx.apiVersion),
          })),
        };
      });
      const responses: ProduceResponse['responses'] = [];
      for (const t of pending) {
        const partitionResponses: PartitionResponse[] = [];
        for (const p of t.partitions) partitionResponses.push(await p.result);
        responses.push({ name: t.name, partitionResponses });
      }
      if (acks === 0) {
        for (const t of responses) for (const p of t.partitionResponses) {
          if (p.errorCode !== ErrorCode.NONE) ctx.log.debug({ topic: t.name, partition: p.index, errorCode: p.errorCode }, 'acks=0 produce failed');
        }
        return null;
      }
      if (!takesLeaderHints(ctx.connection)) {
        for (const t of responses) for (const p of t.partitionResponses) p.currentLeader = { ...NO_LEADER_HINT };
        return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
      }
      const leaders = responses.flatMap((t) => t.partitionResponses.map((p) => p.currentLeader.leaderId));
      return { responses, throttleTimeMs: 0, nodeEndpoints: ctx.apiVersion >= 10 ? nodeEndpointsFor(deps.metadata(), leaders, ctx.connection.listenerName) : [] };
    },
    errorResponse: (request, errorCode) => ({
      responses: request.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) => failed(p.index, errorCode)),
      })),
      throttleTimeMs: 0,
      nodeEndpoints: [],
    }),
  });
}

/** Parsed configs per topic state: the image's TopicState objects are immutable (a config change makes a new one). */
const produceConfigs = new WeakMap<TopicState, ProduceConfig>();

/** The topic's produce-side configs, with the broker defaults for those not set. */
export function produceConfigOf(topic: TopicState): ProduceConfig {
  let config = produceConfigs.get(topic);
  if (config === undefined) {
    config = produceConfigFrom((name) => topic.configs.get(name) ?? TOPIC_CONFIG_DEFAULTS.get(name));
    produceConfigs.set(topic, config);
  }
  return config;
}

async function appendOne(
  deps: HandlerDeps, image: MetadataImage, topic: string, config: ProduceConfig | undefined, index: number,
  records: Buffer | null, acks: number, timeoutMs: number, version: number,
): Promise<PartitionResponse> {
  if (config === undefined || image.partition(topic, index) === undefined) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const partition = deps.partition(topic, index);
  if (partition === undefined || !partition.isLeader) return notLeader(deps, image, topic, index, version);
  if (records === null || records.length === 0) return failed(index, ErrorCode.INVALID_RECORD, 'Produce request carries no records');
  let timer: NodeJS.Timeout | undefined;
  try {
    const appended = partition.append(records, acks, version, config);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'not replicated within the request timeout')), Math.max(0, timeoutMs));
    });
    const r = await Promise.race([appended, timeout]);
    return {
      index, errorCode: ErrorCode.NONE, baseOffset: r.baseOffset, logAppendTimeMs: r.logAppendTimeMs,
      logStartOffset: r.logStartOffset, recordErrors: [], errorMessage: null,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    };
  } catch (err) {
    if (err instanceof RecordValidationError) {
      return { ...failed(index, err.code, err.message), recordErrors: err.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })) };
    }
    if (err instanceof KafkaError) {
      if (err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return notLeader(deps, deps.metadata(), topic, index, version, err.message);
      return failed(index, err.code, err.message);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function notLeader(deps: HandlerDeps, image: MetadataImage, topic: string, index: number, version: number, message: string | null = null): PartitionResponse {
  const r = failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER, message);
  if (version >= 10) r.currentLeader = currentLeaderOf(image, deps.partition(topic, index), topic, index, deps.nodeId);
  return r;
}

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return {
    index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}
