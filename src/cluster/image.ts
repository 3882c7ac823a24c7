/**
 * The cluster's metadata image: immutable, changed only by applying committed metadata records
 * (Kafka's MetadataImage/MetadataDelta idea). Every broker builds it from the metadata log.
 */
import { AclImage } from '../security/acls.js';

/** One listener of a broker as registered (RegisterBrokerRecord endPoints). */
export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kafka's SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL. */
  readonly securityProtocol: number;
}

export interface BrokerRegistration {
  readonly nodeId: number;
  /** The first registered endpoint's host and port (the only one of a single-listener broker). */
  readonly host: string;
  readonly port: number;
  /** Every listener the broker registered; Metadata answers a client the one it connected through. */
  readonly endpoints: readonly BrokerEndpoint[];
  readonly rack: string | null;
  readonly fenced: boolean;
  /** Handing its leaderships away before it stops: no leadership is moved to it. */
  readonly inControlledShutdown: boolean;
  readonly epoch: bigint;
  /** The broker process that registered (a new one at every start). */
  readonly incarnationId: string;
}

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /**
   * A reassignment in progress (Kafka's PartitionRecord addingReplicas/removingReplicas): the
   * replicas being added and removed. `replicas` is then the union, the target first.
   */
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
}

export interface TopicState {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly PartitionState[];
  readonly configs: ReadonlyMap<string, string>;
}

/** A user's salted SCRAM credential for one mechanism (UserScramCredentialRecord): never a password. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/** SCRAM credentials by user name, then by mechanism id (1 SCRAM-SHA-256, 2 SCRAM-SHA-512). */
export interface ScramImage {
  readonly users: ReadonlyMap<string, ReadonlyMap<number, ScramCredential>>;
  /** Some SCRAM record was ever committed: the bootstrap credentials are not applied again. */
  readonly everWritten: boolean;
}

const EMPTY_SCRAM: ScramImage = { users: new Map(), everWritten: false };

/** The endpoint of `listenerName` on broker `b`, undefined when it has no such listener (left out, as Kafka does). */
export function endpointFor(b: BrokerRegistration, listenerName: string): BrokerEndpoint | undefined {
  return b.endpoints.find((e) => e.name === listenerName);
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(new Map(), new Map(), -1n, 0n, EMPTY_SCRAM);

  private constructor(
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    readonly topics: ReadonlyMap<string, TopicState>,
    /** Offset of the last metadata record applied (-1 for none). */
    readonly offset: bigint,
    /** The first producer id no broker has been given yet (ProducerIdsRecord). */
    readonly nextProducerId: bigint,
    /** SCRAM credentials (UserScramCredentialRecord / RemoveUserScramCredentialRecord). */
    readonly scram: ScramImage = EMPTY_SCRAM,
    /** ACLs (AccessControlEntryRecord / RemoveAccessControlEntryRecord). */
    readonly acls: AclImage = AclImage.EMPTY,
    /** Dynamic broker configs (ConfigRecords of BROKER resources) by resource name ('' = cluster default). */
    readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map(),
  ) {}

  withBrokerConfigs(resourceName: string, configs: ReadonlyMap<string, string>, offset: bigint): MetadataImage {
    const all = new Map(this.brokerConfigs);
    if (configs.size === 0) all.delete(resourceName); else all.set(resourceName, configs);
    return new MetadataImage(this.brokers, this.topics, offset, this.nextProducerId, this.scram, this.acls, all);
  }

  withAcls(acls: AclImage, offset: bigint): MetadataImage {
    return new MetadataImage(this.brokers, this.topics, offset, this.nextProducerId, this.scram, acls, this.brokerConfigs);
  }

  withScram(scram: ScramImage, offset: bigint): MetadataImage {
    return new MetadataImage(this.brokers, this.topics, offset, this.nextProducerId, scram, this.acls, this.brokerConfigs);
  }

  withNextProducerId(nextProducerId: bigint, offset: bigint): MetadataImage {
    return new MetadataImage(this.brokers, this.topics, offset, nextProducerId, this.scram, this.acls, this.brokerConfigs);
  }

  topicById(topicId: string): TopicState | undefined {
    for (const t of this.topics.values()) if (t.topicId === topicId) return t;
    return undefined;
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  withBroker(b: BrokerRegistration, offset: bigint): MetadataImage {
    const brokers = new Map(this.brokers);
    brokers.set(b.nodeId, b);
    return new MetadataImage(brokers, this.topics, offset, this.nextProducerId, this.scram, this.acls, this.brokerConfigs);
  }

  withTopic(t: TopicState, offset: bigint): MetadataImage {
    const topics = new Map(this.topics);
    topics.set(t.name, t);
    return new MetadataImage(this.brokers, topics, offset, this.nextProducerId, this.scram, this.acls, this.brokerConfigs);
  }

  withoutTopic(name: string, offset: bigint): MetadataImage {
    const topics = new Map(this.topics);
    topics.delete(name);
    return new MetadataImage(this.brokers, topics, offset, this.nextProducerId, this.scram, this.acls, this.brokerConfigs);
  }

  withPartition(p: PartitionState, offset: bigint): MetadataImage {
    const topic = this.topics.get(p.topic);
    if (topic === undefined) throw new Error(`partition record for unknown topic ${p.topic}`);
    const partitions = topic.partitions.slice();
    partitions[p.partition] = p;
    return this.withTopic({ ...topic, partitions }, offset);
  }
}
