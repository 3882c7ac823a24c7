/** Topic-level configs Kafka knows (LogConfig), with the broker defaults raftka uses. */
export const TOPIC_CONFIG_DEFAULTS: ReadonlyMap<string, string> = new Map([
  ['cleanup.policy', 'delete'],
  ['compression.type', 'producer'],
  ['delete.retention.ms', '86400000'],
  ['file.delete.delay.ms', '60000'],
  ['flush.messages', '9223372036854775807'],
  ['flush.ms', '9223372036854775807'],
  ['index.interval.bytes', '4096'],
  ['max.compaction.lag.ms', '9223372036854775807'],
  ['max.message.bytes', '1048588'],
  ['message.timestamp.after.max.ms', '9223372036854775807'],
  ['message.timestamp.before.max.ms', '9223372036854775807'],
  ['message.timestamp.type', 'CreateTime'],
  ['min.cleanable.dirty.ratio', '0.5'],
  ['min.compaction.lag.ms', '0'],
  ['min.insync.replicas', '1'],
  ['preallocate', 'false'],
  ['retention.bytes', '-1'],
  ['retention.ms', '604800000'],
  ['segment.bytes', '1073741824'],
  ['segment.index.bytes', '10485760'],
  ['segment.jitter.ms', '0'],
  ['segment.ms', '604800000'],
  ['unclean.leader.election.enable', 'false'],
]);

/** Kafka's DescribeConfigs config sources. */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, DEFAULT_CONFIG: 5 } as const;

/** Returns an error message for an invalid topic config, or null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  if (!TOPIC_CONFIG_DEFAULTS.has(name)) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  if (name === 'cleanup.policy') {
    const ok = value.split(',').map((s) => s.trim()).every((s) => s === 'delete' || s === 'compact');
    return ok ? null : `Invalid value ${value} for configuration cleanup.policy: String must be one of: compact, delete`;
  }
  if (name === 'message.timestamp.type') {
    return value === 'CreateTime' || value === 'LogAppendTime' ? null : `Invalid value ${value} for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime`;
  }
  if (name === 'compression.type') {
    return ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'].includes(value) ? null : `Invalid value ${value} for configuration compression.type`;
  }
  if (/^(true|false)$/.test(TOPIC_CONFIG_DEFAULTS.get(name)!)) {
    return value === 'true' || value === 'false' ? null : `Invalid value ${value} for configuration ${name}: Expected value to be either true or false`;
  }
  if (/^-?\d+$/.test(TOPIC_CONFIG_DEFAULTS.get(name)!)) {
    return /^-?\d+$/.test(value) ? null : `Invalid value ${value} for configuration ${name}: Not a number of type LONG`;
  }
  return Number.isFinite(Number(value)) ? null : `Invalid value ${value} for configuration ${name}: Not a number of type DOUBLE`;
}
