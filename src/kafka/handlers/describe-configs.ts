import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../../../protocol/generated/describe-configs.js';
import { DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../../config.js';
import type { TopicState } from '../../cluster/image.js';
import { TOPIC_CONFIG_DEFAULTS } from '../../cluster/topic-config.js';
import { ResourceType } from '../../cluster/topic-admin.js';
import { ErrorCode } from '../errors.js';
import { authOf } from '../../security/authorizer.js';
import { configResourceError } from '../../security/authorizer-resources.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

type Result = DescribeConfigsResponse['results'][number];
type Entry = Result['configs'][number];
type Synonym = Entry['synonyms'][number];

/** DescribeConfigsResponse.ConfigSource ids. */
export const Source = { TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;
/** ConfigDef.Type ids as DescribeConfigs v3+ reports them. */
const Type = { BOOLEAN: 1, STRING: 2, INT: 3, LONG: 5, DOUBLE: 6, LIST: 7 } as const;

const LONG_MAX = '9223372036854775807';

/**
 * Each topic config's broker-level synonyms in Kafka's order (ServerTopicConfigSynonyms), with
 * the broker default where Kafka's KafkaConfig has one (null: no default).
 */
const TOPIC_SYNONYMS: ReadonlyMap<string, readonly (readonly [string, string | null])[]> = new Map([
  ['cleanup.policy', [['log.cleanup.policy', 'delete']]],
  ['compression.type', [['compression.type', 'producer']]],
  ['delete.retention.ms', [['log.cleaner.delete.retention.ms', '86400000']]],
  ['file.delete.delay.ms', [['log.segment.delete.delay.ms', '60000']]],
  ['flush.messages', [['log.flush.interval.messages', LONG_MAX]]],
  ['flush.ms', [['log.flush.interval.ms', null], ['log.flush.scheduler.interval.ms', LONG_MAX]]],
  ['index.interval.bytes', [['log.index.interval.bytes', '4096']]],
  ['max.compaction.lag.ms', [['log.cleaner.max.compaction.lag.ms', LONG_MAX]]],
  ['max.message.bytes', [['message.max.bytes', '1048588']]],
  ['message.timestamp.after.max.ms', [['log.message.timestamp.after.max.ms', LONG_MAX]]],
  ['message.timestamp.before.max.ms', [['log.message.timestamp.before.max.ms', LONG_MAX]]],
  ['message.timestamp.type', [['log.message.timestamp.type', 'CreateTime']]],
  ['min.cleanable.dirty.ratio', [['log.cleaner.min.cleanable.ratio', '0.5']]],
  ['min.compaction.lag.ms', [['log.cleaner.min.compaction.lag.ms', '0']]],
  ['min.insync.replicas', [['min.insync.replicas', '1']]],
  ['preallocate', [['log.preallocate', 'false']]],
  ['retention.bytes', [['log.retention.bytes', '-1']]],
  ['retention.ms', [['log.retention.ms', null], ['log.retention.minutes', null], ['log.retention.hours', '168']]],
  ['segment.bytes', [['log.segment.bytes', '1073741824']]],
  ['segment.index.bytes', [['log.index.size.max.bytes', '10485760']]],
  ['segment.jitter.ms', [['log.roll.jitter.ms', null], ['log.roll.jitter.hours', '0']]],
  ['segment.ms', [['log.roll.ms', null], ['log.roll.hours', '168']]],
  ['unclean.leader.election.enable', [['unclean.leader.election.enable', 'false']]],
]);

const TOPIC_TYPES: Readonly<Record<string, number>> = {
  'cleanup.policy': Type.LIST, 'compression.type': Type.STRING, 'message.timestamp.type': Type.STRING,
  'index.interval.bytes': Type.INT, 'max.message.bytes': Type.INT, 'min.insync.replicas': Type.INT,
  'segment.bytes': Type.INT, 'segment.index.bytes': Type.INT, 'min.cleanable.dirty.ratio': Type.DOUBLE,
  'preallocate': Type.BOOLEAN, 'unclean.leader.election.enable': Type.BOOLEAN,
};

function typeOf(value: string, explicit: number | undefined): number {
  if (explicit !== undefined) return explicit;
  if (/^(true|false)$/.test(value)) return Type.BOOLEAN;
  return /^-?\d+$/.test(value) ? Type.LONG : Type.STRING;
}

/**
 * A topic config as Kafka's ConfigHelper describes it: its synonyms are the topic override (if
 * any) followed by the broker synonyms from the first one that is set (here: has a default), and
 * the source is that of the first synonym.
 */
function topicEntry(topic: TopicState, name: string, includeSynonyms: boolean): Entry {
  const override = topic.configs.get(name);
  const value = override ?? TOPIC_CONFIG_DEFAULTS.get(name)!;
  const brokerSynonyms = TOPIC_SYNONYMS.get(name) ?? [];
  const primary = brokerSynonyms[0]?.[0];
  const fromBroker: Synonym[] = brokerSynonyms
    .filter(([, def]) => def !== null)
    .map(([n, def]) => ({ name: n, value: def, source: Source.DEFAULT_CONFIG }));
  const start = fromBroker.findIndex((s) => s.name === primary);
  const all: Synonym[] = [
    ...(override !== undefined ? [{ name, value: override, source: Source.TOPIC_CONFIG }] : []),
    ...(start === -1 ? [] : fromBroker.slice(start)),
  ];
  const source = all[0]?.source ?? Source.DEFAULT_CONFIG;
  return {
    name, value, readOnly: false, isDefault: source === Source.DEFAULT_CONFIG, configSource: source, isSensitive: false,
    synonyms: includeSynonyms ? all : [], configType: typeOf(value, TOPIC_TYPES[name]), documentation: null,
  };
}

/** The broker configs raftka has, as Kafka names them, with their current and default values. */
function brokerConfigs(c: BrokerConfig): [string, string, string, number][] {
  const d = DEFAULT_BROKER_CONFIG;
  const listener = (h: string, p: number): string => `PLAINTEXT://${h}:${p}`;
  const rows: [string, string, string, number][] = [
    ['node.id', String(c.nodeId), String(d.nodeId), Type.INT],
    ['broker.id', String(c.nodeId), String(d.nodeId), Type.INT],
    ['listeners', listener(c.host, c.port), listener(d.host, d.port), Type.STRING],
    ['log.dirs', c.dataDir, d.dataDir, Type.STRING],
    ['num.partitions', String(c.numPartitions), String(d.numPartitions), Type.INT],
    ['default.replication.factor', String(c.defaultReplicationFactor), String(d.defaultReplicationFactor), Type.INT],
    ['auto.create.topics.enable', String(c.autoCreateTopics), String(d.autoCreateTopics), Type.BOOLEAN],
    ['queued.max.requests', String(c.queuedMaxRequests), String(d.queuedMaxRequests), Type.INT],
    ['socket.request.max.bytes', String(c.socketRequestMaxBytes), String(d.socketRequestMaxBytes), Type.INT],
    ['connections.max.idle.ms', String(c.connectionsMaxIdleMs), String(d.connectionsMaxIdleMs), Type.LONG],
  ];
  if (c.advertisedHost !== '') rows.push(['advertised.listeners', listener(c.advertisedHost, c.advertisedPort || c.port), '', Type.STRING]);
  const seen = new Set(rows.map((r) => r[0]));
  for (const [topicName, synonyms] of TOPIC_SYNONYMS) {
    for (const [n, def] of synonyms) {
      if (def === null || seen.has(n)) continue;
      seen.add(n);
      rows.push([n, def, def, typeOf(def, TOPIC_TYPES[topicName])]);
    }
  }
  return rows.sort((a, b) => a[0].localeCompare(b[0]));
}

function brokerEntry([name, value, def, type]: [string, string, string, number], includeSynonyms: boolean): Entry {
  const isStatic = value !== def;
  const synonyms: Synonym[] = isStatic
    ? [{ name, value, source: Source.STATIC_BROKER_CONFIG }, ...(def !== '' ? [{ name, value: def, source: Source.DEFAULT_CONFIG }] : [])]
    : [{ name, value, source: Source.DEFAULT_CONFIG }];
  const source = synonyms[0]!.source;
  // raftka cannot change broker configs at runtime, so every one is read-only.
  return {
    name, value, readOnly: true, isDefault: !isStatic, configSource: source, isSensitive: false,
    synonyms: includeSynonyms ? synonyms : [], configType: type, documentation: null,
  };
}

/** DescribeConfigs for topics (from the metadata image) and for this broker (its static config). */
export function describeConfigsHandler(deps: HandlerDeps): ApiHandler {
  const describe = (r: DescribeConfigsRequest['resources'][number], includeSynonyms: boolean): Result => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const fail = (errorCode: number, errorMessage: string): Result => ({ ...base, errorCode, errorMessage, configs: [] });
    const wanted = (name: string): boolean => r.configurationKeys === null || r.configurationKeys.includes(name);
    if (r.resourceType === ResourceType.TOPIC) {
      const topic = deps.metadata().topics.get(r.resourceName);
      if (topic === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${r.resourceName} does not exist`);
      const configs = [...TOPIC_CONFIG_DEFAULTS.keys()].filter(wanted).map((n) => topicEntry(topic, n, includeSynonyms));
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    }
    if (r.resourceType === ResourceType.BROKER) {
      if (r.resourceName !== '' && r.resourceName !== String(deps.nodeId)) {
        return fail(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${deps.nodeId} or empty string, but received ${r.resourceName}`);
      }
      const configs = brokerConfigs(deps.brokerConfig).filter((row) => wanted(row[0])).map((row) => brokerEntry(row, includeSynonyms));
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    }
    return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
  };
  return defineHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
    apiKey: ApiKey.DescribeConfigs,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      // v0 has no synonyms field; v1+ include them only when asked.
      const includeSynonyms = ctx.apiVersion >= 1 && request.includeSynonyms;
      // DESCRIBE_CONFIGS on the topic, or on the cluster for broker configs.
      const auth = authOf(deps);
      return {
        throttleTimeMs: 0,
        results: request.resources.map((r) => {
          const denied = configResourceError(auth, ctx, r.resourceType, r.resourceName, false);
          if (denied === ErrorCode.NONE) return describe(r, includeSynonyms);
          return { resourceType: r.resourceType, resourceName: r.resourceName, errorCode: denied, errorMessage: null, configs: [] };
        }),
      };
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0,
      results: request.resources.map((r) => ({ errorCode, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] })),
    }),
  });
}
