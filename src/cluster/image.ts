/**
 * The cluster's metadata image: immutable, changed only by applying committed metadata records
 * (Kafka's MetadataImage/MetadataDelta idea). Every broker builds it from the metadata log.
 */

export interface BrokerRegistration {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly fenced: boolean;
  /** Handing its leaderships away before it stops: no leadership is moved to it. */
  readonly inControlledShutdown: boolean;
  readonly epoch: bigint;
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

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(new Map(), new Map(), -1n, 0n);

  private constructor(
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    readonly topics: ReadonlyMap<string, TopicState>,
    /** Offset of the last metadata record applied (-1 for none). */
    readonly offset: bigint,
    /** The first producer id no broker has been given yet (ProducerIdsRecord). */
    readonly nextProducerId: bigint,
  ) {}

  withNextProducerId(nextProducerId: bigint, offset: bigint): MetadataImage {
    return new MetadataImage(this.brokers, this.topics, offset, nextProducerId);
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
    return new MetadataImage(brokers, this.topics, offset, this.nextProducerId);
  }

  withTopic(t: TopicState, offset: bigint): MetadataImage {
    const topics = new Map(this.topics);
    topics.set(t.name, t);
    return new MetadataImage(this.brokers, topics, offset, this.nextProducerId);
  }

  withoutTopic(name: string, offset: bigint): MetadataImage {
    const topics = new Map(this.topics);
    topics.delete(name);
    return new MetadataImage(this.brokers, topics, offset, this.nextProducerId);
  }

  withPartition(p: PartitionState, offset: bigint): MetadataImage {
    const topic = this.topics.get(p.topic);
    if (topic === undefined) throw new Error(`partition record for unknown topic ${p.topic}`);
    const partitions = topic.partitions.slice();
    partitions[p.partition] = p;
    return this.withTopic({ ...topic, partitions }, offset);
  }
}
