import { readFileSync } from 'node:fs';

/** A broker of the static cluster: `id@host:port` in `--bootstrap` / controller.quorum.voters. */
export interface ClusterMember {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** Broker settings, named after Kafka's server.properties keys. */
export interface BrokerConfig {
  /** Every broker of the cluster (the same list on each); empty: a cluster of this broker alone. */
  readonly bootstrap: readonly ClusterMember[];
  /** cluster.id: empty to derive it (see Broker). */
  readonly clusterId: string;
  readonly brokerSessionTimeoutMs: number;    // broker.session.timeout.ms
  readonly brokerHeartbeatIntervalMs: number; // broker.heartbeat.interval.ms
  readonly replicaLagTimeMaxMs: number;       // replica.lag.time.max.ms
  readonly logRetentionCheckIntervalMs: number; // log.retention.check.interval.ms
  readonly logCleanerBackoffMs: number;       // log.cleaner.backoff.ms
  readonly nodeId: number;                    // node.id
  readonly host: string;                      // listener host
  readonly port: number;                      // listener port (0: any free port)
  readonly advertisedHost: string;            // advertised.listeners host
  readonly advertisedPort: number;            // advertised.listeners port (0: the bound port)
  readonly dataDir: string;                   // log.dirs
  readonly numPartitions: number;             // num.partitions
  readonly defaultReplicationFactor: number;  // default.replication.factor
  readonly autoCreateTopics: boolean;         // auto.create.topics.enable
  readonly queuedMaxRequests: number;         // queued.max.requests
  readonly socketRequestMaxBytes: number;     // socket.request.max.bytes
  readonly connectionsMaxIdleMs: number;      // connections.max.idle.ms
  readonly offsetsTopicNumPartitions: number;     // offsets.topic.num.partitions
  readonly offsetsTopicReplicationFactor: number; // offsets.topic.replication.factor (capped to live brokers)
  readonly groupInitialRebalanceDelayMs: number;  // group.initial.rebalance.delay.ms
  readonly groupMinSessionTimeoutMs: number;      // group.min.session.timeout.ms
  readonly groupMaxSessionTimeoutMs: number;      // group.max.session.timeout.ms
  readonly offsetsRetentionMinutes: number;       // offsets.retention.minutes
  readonly offsetsRetentionCheckIntervalMs: number; // offsets.retention.check.interval.ms
  readonly metricsPort: number;               // metrics.port: /metrics and /health (-1: off, 0: any free port)
  // Listeners and security (src/security). `listeners` empty: one PLAINTEXT listener on host:port.
  // Otherwise host and port (--host/--port, the bootstrap list's address) are the first listener's.
  readonly listeners: string;                   // listeners, e.g. PLAINTEXT://:9092,SASL_SSL://:9094
  readonly advertisedListeners: string;         // advertised.listeners
  readonly listenerSecurityProtocolMap: string; // listener.security.protocol.map
  readonly interBrokerListenerName: string;     // inter.broker.listener.name ('' : security.inter.broker.protocol, else the first listener)
  readonly securityInterBrokerProtocol: string; // security.inter.broker.protocol
  readonly connectionsMaxReauthMs: number;      // connections.max.reauth.ms (0: off)
  readonly maxConnections: number;              // max.connections
  readonly maxConnectionsPerIp: number;         // max.connections.per.ip
  readonly maxConnectionsPerIpOverrides: string; // max.connections.per.ip.overrides (host:count,...)
  readonly connectionMaxInflightBytes: number;  // raftka.connection.max.inflight.bytes: a connection stops being read while its pending requests hold this many bytes
  readonly bootstrapScramUsers: string;         // raftka.bootstrap.scram.users: --add-scram entries (';'-separated), applied once by the controller
  /** Every ssl.*, sasl.* and listener.name.* property, as given (per-listener prefixes resolved in src/security/listeners.ts). */
  readonly securityProperties: ReadonlyMap<string, string>;
  // Authorization (src/security/authorizer.ts).
  readonly authorizerClassName: string;         // authorizer.class.name ('' : none, everything allowed; org.apache.kafka.metadata.authorizer.StandardAuthorizer or 'standard': ACLs)
  readonly superUsers: string;                  // super.users: principals allowed everything, ';'-separated (User:admin;User:broker)
  readonly allowEveryoneIfNoAclFound: boolean;  // allow.everyone.if.no.acl.found
  readonly transactionStateLogNumPartitions: number;      // transaction.state.log.num.partitions
  readonly transactionStateLogReplicationFactor: number;  // transaction.state.log.replication.factor (capped to live brokers)
  readonly transactionStateLogMinIsr: number;             // transaction.state.log.min.isr (capped to the replication factor)
  readonly transactionStateLogSegmentBytes: number;       // transaction.state.log.segment.bytes
  readonly transactionMaxTimeoutMs: number;               // transaction.max.timeout.ms
  readonly transactionalIdExpirationMs: number;           // transactional.id.expiration.ms
  readonly abortTimedOutTransactionCleanupIntervalMs: number;     // transaction.abort.timed.out.transaction.cleanup.interval.ms
  readonly removeExpiredTransactionalIdCleanupIntervalMs: number; // transaction.remove.expired.transaction.cleanup.interval.ms
  readonly brokerRack: string;                // broker.rack: empty for none (rack-aware replica assignment)
  readonly autoLeaderRebalanceEnable: boolean;          // auto.leader.rebalance.enable
  readonly leaderImbalanceCheckIntervalSeconds: number; // leader.imbalance.check.interval.seconds
  readonly leaderImbalancePerBrokerPercentage: number;  // leader.imbalance.per.broker.percentage
  readonly leaderRebalanceImmediateEnable: boolean;     // leader.rebalance.immediate.enable (raftka: also hand back at once)
  readonly logFlushRounds: boolean;                     // raftka.log.flush.rounds: partitions' fsyncs in broker-wide sync rounds (src/storage/flush-scheduler.ts)
  readonly heapGrowingPercent: number;                  // raftka.heap.growing.percent: V8's old-generation growing factor, 1 + percent/100; 0 = V8's heuristic (src/util/gc-tuning.ts)
}

export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  bootstrap: [],
  clusterId: '',
  brokerSessionTimeoutMs: 9000,
  brokerHeartbeatIntervalMs: 2000,
  replicaLagTimeMaxMs: 30000,
  logRetentionCheckIntervalMs: 300000,
  logCleanerBackoffMs: 15000,
  nodeId: 1,
  host: '127.0.0.1',
  port: 9092,
  advertisedHost: '',
  advertisedPort: 0,
  dataDir: './data',
  numPartitions: 1,
  defaultReplicationFactor: 1,
  autoCreateTopics: true,
  queuedMaxRequests: 500,
  socketRequestMaxBytes: 104857600,
  connectionsMaxIdleMs: 600000,
  offsetsTopicNumPartitions: 50,
  offsetsTopicReplicationFactor: 3,
  groupInitialRebalanceDelayMs: 3000,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1800000,
  offsetsRetentionMinutes: 10080,
  offsetsRetentionCheckIntervalMs: 600000,
  metricsPort: -1,
  listeners: '',
  advertisedListeners: '',
  listenerSecurityProtocolMap: '',
  interBrokerListenerName: '',
  securityInterBrokerProtocol: '',
  connectionsMaxReauthMs: 0,
  maxConnections: 2147483647,
  maxConnectionsPerIp: 2147483647,
  maxConnectionsPerIpOverrides: '',
  connectionMaxInflightBytes: 104857600,
  bootstrapScramUsers: '',
  securityProperties: new Map(),
  authorizerClassName: '',
  superUsers: '',
  allowEveryoneIfNoAclFound: false,
  transactionStateLogNumPartitions: 50,
  transactionStateLogReplicationFactor: 3,
  transactionStateLogMinIsr: 2,
  transactionStateLogSegmentBytes: 104857600,
  transactionMaxTimeoutMs: 900000,
  transactionalIdExpirationMs: 604800000,
  abortTimedOutTransactionCleanupIntervalMs: 10000,
  removeExpiredTransactionalIdCleanupIntervalMs: 3600000,
  brokerRack: '',
  autoLeaderRebalanceEnable: true,
  leaderImbalanceCheckIntervalSeconds: 300,
  leaderImbalancePerBrokerPercentage: 10,
  leaderRebalanceImmediateEnable: true,
  // Off: measured no better than each partition's own fdatasync (README, "Durability").
  logFlushRounds: false,
  heapGrowingPercent: 300,
};

/** Kafka property names (and RAFTKA_ environment names derived from them) for each setting. */
const PROPERTY_NAMES: Record<string, keyof BrokerConfig> = {
  'node.id': 'nodeId',
  'broker.id': 'nodeId',
  'log.dirs': 'dataDir',
  'log.dir': 'dataDir',
  'num.partitions': 'numPartitions',
  'default.replication.factor': 'defaultReplicationFactor',
  'auto.create.topics.enable': 'autoCreateTopics',
  'queued.max.requests': 'queuedMaxRequests',
  'socket.request.max.bytes': 'socketRequestMaxBytes',
  'connections.max.idle.ms': 'connectionsMaxIdleMs',
  'offsets.topic.num.partitions': 'offsetsTopicNumPartitions',
  'offsets.topic.replication.factor': 'offsetsTopicReplicationFactor',
  'group.initial.rebalance.delay.ms': 'groupInitialRebalanceDelayMs',
  'group.min.session.timeout.ms': 'groupMinSessionTimeoutMs',
  'group.max.session.timeout.ms': 'groupMaxSessionTimeoutMs',
  'offsets.retention.minutes': 'offsetsRetentionMinutes',
  'offsets.retention.check.interval.ms': 'offsetsRetentionCheckIntervalMs',
  'broker.session.timeout.ms': 'brokerSessionTimeoutMs',
  'broker.heartbeat.interval.ms': 'brokerHeartbeatIntervalMs',
  'replica.lag.time.max.ms': 'replicaLagTimeMaxMs',
  'cluster.id': 'clusterId',
  'log.retention.check.interval.ms': 'logRetentionCheckIntervalMs',
  'log.cleaner.backoff.ms': 'logCleanerBackoffMs',
  'metrics.port': 'metricsPort',
  'listener.security.protocol.map': 'listenerSecurityProtocolMap',
  'inter.broker.listener.name': 'interBrokerListenerName',
  'security.inter.broker.protocol': 'securityInterBrokerProtocol',
  'connections.max.reauth.ms': 'connectionsMaxReauthMs',
  'max.connections': 'maxConnections',
  'max.connections.per.ip': 'maxConnectionsPerIp',
  'raftka.connection.max.inflight.bytes': 'connectionMaxInflightBytes',
  'authorizer.class.name': 'authorizerClassName',
  'allow.everyone.if.no.acl.found': 'allowEveryoneIfNoAclFound',
  'transaction.state.log.num.partitions': 'transactionStateLogNumPartitions',
  'transaction.state.log.replication.factor': 'transactionStateLogReplicationFactor',
  'transaction.state.log.min.isr': 'transactionStateLogMinIsr',
  'transaction.state.log.segment.bytes': 'transactionStateLogSegmentBytes',
  'transaction.max.timeout.ms': 'transactionMaxTimeoutMs',
  'transactional.id.expiration.ms': 'transactionalIdExpirationMs',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 'abortTimedOutTransactionCleanupIntervalMs',
  'transaction.remove.expired.transaction.cleanup.interval.ms': 'removeExpiredTransactionalIdCleanupIntervalMs',
  'broker.rack': 'brokerRack',
  'auto.leader.rebalance.enable': 'autoLeaderRebalanceEnable',
  'leader.imbalance.check.interval.seconds': 'leaderImbalanceCheckIntervalSeconds',
  'leader.imbalance.per.broker.percentage': 'leaderImbalancePerBrokerPercentage',
  'leader.rebalance.immediate.enable': 'leaderRebalanceImmediateEnable',
  'raftka.log.flush.rounds': 'logFlushRounds',
  'raftka.heap.growing.percent': 'heapGrowingPercent',
};

/** String settings whose value is kept whole (commas included). */
const WHOLE_VALUE: Record<string, keyof BrokerConfig> = {
  'listener.security.protocol.map': 'listenerSecurityProtocolMap',
  'max.connections.per.ip.overrides': 'maxConnectionsPerIpOverrides',
  'raftka.bootstrap.scram.users': 'bootstrapScramUsers',
  'super.users': 'superUsers',
};

/** Kafka's broker-level names of the topic configs (ServerTopicConfigSynonyms): Kafka broker configs too. */
const TOPIC_SYNONYM_BROKER_NAMES = new Set([
  'log.cleanup.policy', 'compression.type', 'log.cleaner.delete.retention.ms', 'log.segment.delete.delay.ms',
  'log.flush.interval.messages', 'log.flush.interval.ms', 'log.flush.scheduler.interval.ms', 'log.index.interval.bytes',
  'log.cleaner.max.compaction.lag.ms', 'message.max.bytes', 'log.message.timestamp.after.max.ms',
  'log.message.timestamp.before.max.ms', 'log.message.timestamp.type', 'log.cleaner.min.cleanable.ratio',
  'log.cleaner.min.compaction.lag.ms', 'min.insync.replicas', 'log.preallocate', 'log.retention.bytes', 'log.retention.ms',
  'log.retention.minutes', 'log.retention.hours', 'log.segment.bytes', 'log.index.size.max.bytes', 'log.roll.jitter.ms',
  'log.roll.jitter.hours', 'log.roll.ms', 'log.roll.hours', 'unclean.leader.election.enable',
]);

/**
 * Whether `name` is a broker config raftka knows (reads from server.properties or describes). raftka
 * changes none of them at runtime, so a dynamic change of one is refused as Kafka refuses a
 * non-dynamic config; Kafka stores names it does not know, and so does raftka.
 */
export function isKnownBrokerConfig(name: string): boolean {
  return PROPERTY_NAMES[name] !== undefined || WHOLE_VALUE[name] !== undefined || TOPIC_SYNONYM_BROKER_NAMES.has(name)
    || name === 'controller.quorum.voters' || name === 'listeners' || name === 'advertised.listeners'
    || name.startsWith('ssl.') || name.startsWith('sasl.') || name.startsWith('listener.name.');
}

/** Parses `1@host:port,2@host:port`. */
export function parseBootstrap(value: string): ClusterMember[] {
  const members = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((entry) => {
    const m = /^(\d+)@([^:@]+):(\d+)$/.exec(entry);
    if (m === null) throw new Error(`cannot parse bootstrap entry '${entry}' (expected id@host:port)`);
    return { nodeId: Number(m[1]), host: m[2]!, port: Number(m[3]) };
  });
  if (new Set(members.map((m) => m.nodeId)).size !== members.length) throw new Error(`duplicate node id in bootstrap list '${value}'`);
  return members;
}

/** Parses Kafka's server.properties format: key=value lines, # and ! comments. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Applies one Kafka-named property to the config; returns an error message for a bad one. */
function applyProperty(config: Mutable<BrokerConfig>, key: string, value: string): string | null {
  if (key === 'controller.quorum.voters' || key === 'bootstrap') {
    try { config.bootstrap = parseBootstrap(value); } catch (err) { return (err as Error).message; }
    return null;
  }
  if (key === 'listeners' || key === 'advertised.listeners') {
    const m = /^(?:[A-Za-z0-9_]+:\/\/)?(\[[^\]]*\]|[^:,]*):(\d+)/.exec(value);
    if (m === null) return `cannot parse ${key}=${value} (expected PLAINTEXT://host:port)`;
    const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
    if (key === 'listeners') { config.host = host === '' ? '0.0.0.0' : host; config.port = Number(m[2]); config.listeners = value.trim(); }
    else { config.advertisedHost = host; config.advertisedPort = Number(m[2]); config.advertisedListeners = value.trim(); }
    return null;
  }
  if (key.startsWith('ssl.') || key.startsWith('sasl.') || key.startsWith('listener.name.')) {
    (config.securityProperties as Map<string, string>).set(key, value);
    return null;
  }
  const whole = WHOLE_VALUE[key];
  if (whole !== undefined) { (config[whole] as string) = value.trim(); return null; }
  const field = PROPERTY_NAMES[key];
  if (field === undefined) return null; // unknown Kafka settings are accepted and ignored, as Kafka warns and ignores
  const current = DEFAULT_BROKER_CONFIG[field];
  if (Array.isArray(current)) return null;
  if (typeof current === 'number') {
    const n = Number(value);
    if (!Number.isInteger(n)) return `${key} must be an integer, got ${value}`;
    (config[field] as number) = n;
  } else if (typeof current === 'boolean') {
    if (value !== 'true' && value !== 'false') return `${key} must be true or false, got ${value}`;
    (config[field] as boolean) = value === 'true';
  } else {
    (config[field] as string) = value.split(',')[0]!;
  }
  return null;
}

/**
 * Builds the config from, in increasing precedence: defaults, a server.properties file,
 * RAFTKA_* environment variables (RAFTKA_NUM_PARTITIONS=3 sets num.partitions), explicit overrides.
 */
export function loadBrokerConfig(options: {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<BrokerConfig>;
}): BrokerConfig {
  const config: Mutable<BrokerConfig> = { ...DEFAULT_BROKER_CONFIG, securityProperties: new Map() };
  const errors: string[] = [];
  if (options.configFile !== undefined) {
    for (const [k, v] of parseProperties(readFileSync(options.configFile, 'utf8'))) {
      const e = applyProperty(config, k, v);
      if (e !== null) errors.push(e);
    }
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!name.startsWith('RAFTKA_') || value === undefined || name === 'RAFTKA_LOG_LEVEL') continue;
    const e = applyProperty(config, name.slice('RAFTKA_'.length).toLowerCase().replaceAll('_', '.'), value);
    if (e !== null) errors.push(e);
  }
  Object.assign(config, Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)));
  if (errors.length > 0) throw new Error(`invalid configuration: ${errors.join('; ')}`);
  return config;
}
