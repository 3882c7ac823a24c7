import { MetadataApi, defaultMetadataRequest, type MetadataResponse } from '../../../protocol/generated/metadata.js';
import { ZERO_UUID } from '../../../protocol/primitives.js';
import { ProduceApi, type ProduceResponse } from '../../../protocol/generated/produce.js';
import { FetchApi, defaultFetchRequest, type FetchResponse } from '../../../protocol/generated/fetch.js';
import { ListOffsetsApi, type ListOffsetsResponse } from '../../../protocol/generated/list-offsets.js';
import type { ApiDescriptor } from '../../../protocol/generated/index.js';
import { ErrorCode } from '../../kafka/errors.js';
import { ClientError, KafkaConnection } from './connection.js';

export { ClientError, KafkaConnection } from './connection.js';


const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** Kafka's name for an error code (UNKNOWN_TOPIC_OR_PARTITION, ...). */
export function errorName(code: number): string { return ERROR_NAMES.get(code) ?? `error code ${code}`; }

/** An error code a broker answered with. */
export class BrokerError extends ClientError {
  constructor(readonly code: number, message: string | null) {
    super(message !== null && message !== '' ? message : errorName(code));
    this.name = 'BrokerError';
  }
}

export interface PartitionMetadata {
  readonly partition: number;
  readonly errorCode: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
}

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: string;
  readonly errorCode: number;
  readonly isInternal: boolean;
  readonly partitions: readonly PartitionMetadata[];
}

export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly records: Buffer | null;
}

export interface ClusterMetadata {
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly brokers: ReadonlyMap<number, { readonly host: string; readonly port: number }>;
  readonly topics: readonly TopicMetadata[];
}

/** Parses `host:port[,host:port...]` (Kafka's bootstrap.servers). */
export function parseBootstrapServers(value: string): { host: string; port: number }[] {
  const out = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const m = /^(.*):(\d+)$/.exec(s);
    if (m === null || m[1] === '' || Number(m[2]) > 65535) throw new ClientError(`invalid bootstrap server '${s}' (expected host:port)`);
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  });
  if (out.length === 0) throw new ClientError('no bootstrap server given');
  return out;
}

/** Retriable partition errors: refresh metadata and try again. */
const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_CONTROLLER,
]);

export function isRetriable(code: number): boolean { return RETRIABLE.has(code); }

/**
 * The tools' Kafka client: bootstrap, Metadata, one connection per broker, admin requests to the
 * controller, and Produce/Fetch/ListOffsets to partition leaders. No kafkajs: the generated codecs.
 */
export class KafkaClient {
  private readonly connections = new Map<number, Promise<KafkaConnection>>();
  private cached: ClusterMetadata | null = null;

  private constructor(private readonly bootstrap: KafkaConnection, private readonly clientId: string, readonly requestTimeoutMs: number) {}

  static async connect(bootstrapServers: string, options: { clientId?: string; requestTimeoutMs?: number } = {}): Promise<KafkaClient> {
    const errors: string[] = [];
    for (const { host, port } of parseBootstrapServers(bootstrapServers)) {
      try {
        const conn = await KafkaConnection.open(host, port, { clientId: options.clientId, timeoutMs: options.requestTimeoutMs });
        return new KafkaClient(conn, options.clientId ?? 'raftka-cli', options.requestTimeoutMs ?? 30000);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    throw new ClientError(errors.join('; '));
  }

  /** Metadata for `topics` (null: every topic). */
  async metadata(topics: readonly string[] | null = null, allowAutoTopicCreation = false): Promise<ClusterMetadata> {
    const { body } = await this.bootstrap.request<MetadataResponse>(MetadataApi, {
      ...defaultMetadataRequest(),
      topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
      allowAutoTopicCreation,
    }, { preferred: 12, min: 1, timeoutMs: this.requestTimeoutMs });
    const md: ClusterMetadata = {
      clusterId: body.clusterId,
      controllerId: body.controllerId,
      brokers: new Map(body.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }])),
      topics: body.topics.map((t) => ({
        name: t.name ?? '', topicId: t.topicId, errorCode: t.errorCode, isInternal: t.isInternal,
        partitions: t.partitions.map((p) => ({
          partition: p.partitionIndex, errorCode: p.errorCode, leader: p.leaderId, leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas,
        })).sort((a, b) => a.partition - b.partition),
      })),
    };
    if (topics === null || this.cached === null) this.cached = md;
    else this.cached = { ...md, topics: [...this.cached.topics.filter((t) => !topics.includes(t.name)), ...md.topics] };
    return md;
  }

  /** A connection to broker `nodeId` (opened once, reused). */
  async broker(nodeId: number): Promise<KafkaConnection> {
    let conn = this.connections.get(nodeId);
    if (conn === undefined) {
      if (this.cached?.brokers.has(nodeId) !== true) await this.metadata([]);
      const b = this.cached?.brokers.get(nodeId);
      if (b === undefined) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`);
      if (this.connections.has(nodeId)) return this.connections.get(nodeId)!;
      conn = KafkaConnection.open(b.host, b.port, { clientId: this.clientId, timeoutMs: this.requestTimeoutMs });
      conn.catch(() => this.connections.delete(nodeId));
      this.connections.set(nodeId, conn);
    }
    return conn;
  }

  /** Sends an admin request to the active controller, as Kafka's admin client does. */
  async controllerRequest<T>(api: ApiDescriptor, body: unknown, options: { preferred?: number; min?: number; timeoutMs?: number } = {}): Promise<{ version: number; body: T }> {
    const md = this.cached ?? await this.metadata([]);
    const conn = md.controllerId >= 0 && md.brokers.has(md.controllerId) ? await this.broker(md.controllerId) : this.bootstrap;
    return conn.request<T>(api, body, { timeoutMs: this.requestTimeoutMs + (options.timeoutMs ?? 0), ...options });
  }

  /** Any broker (the bootstrap one). */
  anyBroker(): KafkaConnection { return this.bootstrap; }

  /** The leader of a partition, from cached metadata (refreshed when missing or `refresh`). */
  async leaderOf(topic: string, partition: number, refresh = false): Promise<PartitionMetadata> {
    let t = refresh ? undefined : this.cached?.topics.find((x) => x.name === topic);
    if (t === undefined || t.partitions[partition] === undefined) {
      const md = await this.metadata([topic]);
      t = md.topics.find((x) => x.name === topic);
    }
    if (t === undefined || t.errorCode !== ErrorCode.NONE) throw new BrokerError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${topic} not present in metadata`);
    const p = t.partitions.find((x) => x.partition === partition);
    if (p === undefined) throw new BrokerError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Partition ${topic}-${partition} does not exist`);
    return p;
  }

  /** Produces one records blob to a partition's leader; acks 0 resolves at once with offset -1. */
  async produce(topic: string, partition: number, records: Buffer, acks: number, timeoutMs = 30000): Promise<{ errorCode: number; errorMessage: string | null; baseOffset: bigint }> {
    const p = await this.leaderOf(topic, partition);
    if (p.leader < 0) return { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, errorMessage: null, baseOffset: -1n };
    const conn = await this.broker(p.leader);
    const version = conn.version(ProduceApi, 9, 3);
    const body = { transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
    if (acks === 0) { await conn.send(ProduceApi, version, body, timeoutMs, false); return { errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: -1n }; }
    const res = await conn.send(ProduceApi, version, body, timeoutMs + this.requestTimeoutMs) as ProduceResponse;
    const r = res.responses[0]?.partitionResponses[0];
    if (r === undefined) throw new ClientError('empty Produce response');
    return { errorCode: r.errorCode, errorMessage: r.errorMessage, baseOffset: r.baseOffset };
  }

  /** Fetches from a partition's leader, waiting up to maxWaitMs for data past `offset`. */
  async fetch(topic: string, partition: number, offset: bigint, options: { maxWaitMs?: number; maxBytes?: number } = {}): Promise<FetchedPartition> {
    const leader = (await this.leaderOf(topic, partition)).leader;
    if (leader < 0) return { topic, partition, errorCode: ErrorCode.LEADER_NOT_AVAILABLE, highWatermark: -1n, records: null };
    const [r] = await this.fetchFrom(leader, [{ topic, partition, offset }], options);
    return r!;
  }

  /** One Fetch request to broker `leader` for several partitions (a consumer's poll). */
  async fetchFrom(leader: number, partitions: readonly { topic: string; partition: number; offset: bigint }[],
    options: { maxWaitMs?: number; maxBytes?: number } = {}): Promise<FetchedPartition[]> {
    const conn = await this.broker(leader);
    const maxBytes = options.maxBytes ?? 1 << 20;
    const byTopic = new Map<string, typeof partitions[number][]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const { body } = await conn.request<FetchResponse>(FetchApi, {
      ...defaultFetchRequest(),
      replicaId: -1, maxWaitMs: options.maxWaitMs ?? 500, minBytes: 1, maxBytes: 50 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [...byTopic].map(([topic, ps]) => ({
        topic, topicId: ZERO_UUID, partitions: ps.map((p) => ({
          partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.offset, lastFetchedEpoch: -1, logStartOffset: -1n,
          partitionMaxBytes: maxBytes, replicaDirectoryId: ZERO_UUID,
        })),
      })),
      forgottenTopicsData: [], rackId: '',
    }, { preferred: 11, min: 4, timeoutMs: (options.maxWaitMs ?? 500) + this.requestTimeoutMs });
    if (body.errorCode !== ErrorCode.NONE) {
      return partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode: body.errorCode, highWatermark: -1n, records: null }));
    }
    return body.responses.flatMap((t) => t.partitions.map((p) => ({
      topic: t.topic, partition: p.partitionIndex, errorCode: p.errorCode, highWatermark: p.highWatermark, records: p.records,
    })));
  }

  /** ListOffsets: -2n for the log start offset, -1n for the log end (high watermark). */
  async listOffset(topic: string, partition: number, timestamp: bigint): Promise<bigint> {
    const p = await this.leaderOf(topic, partition);
    if (p.leader < 0) throw new BrokerError(ErrorCode.LEADER_NOT_AVAILABLE, `Partition ${topic}-${partition} has no leader`);
    const conn = await this.broker(p.leader);
    const { body } = await conn.request<ListOffsetsResponse>(ListOffsetsApi, {
      replicaId: -1, isolationLevel: 0, timeoutMs: this.requestTimeoutMs,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    }, { preferred: 6, min: 1, timeoutMs: this.requestTimeoutMs });
    const r = body.topics[0]?.partitions[0];
    if (r === undefined) throw new ClientError('empty ListOffsets response');
    if (r.errorCode !== ErrorCode.NONE) throw new BrokerError(r.errorCode, null);
    return r.offset;
  }

  close(): void {
    this.bootstrap.close();
    for (const c of this.connections.values()) c.then((conn) => conn.close(), () => undefined);
    this.connections.clear();
  }
}
