import type { Kafka } from 'kafkajs';

/** A record as kafkajs's fetch path decodes it. */
export interface FetchedMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

interface KafkajsBroker {
  fetch(request: unknown): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: (FetchedMessage & { isControlRecord?: boolean })[] }[] }[] }>;
}
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(arg: { nodeId: number }): Promise<KafkajsBroker>;
}

/**
 * kafkajs's own Cluster object (no public API gives it): its Broker classes run the plain fetch
 * path, without a consumer group. `T` describes the few methods the caller uses.
 */
export function kafkajsCluster<T>(kafka: Kafka): T {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (symbol === undefined) throw new Error('kafkajs internals changed: no createCluster symbol');
  const createCluster = (kafka as unknown as Record<symbol, (o: object) => T>)[symbol]!;
  return createCluster({ metadataMaxAge: 300000, allowAutoTopicCreation: false, isolationLevel: 0 });
}

/**
 * Reads every record of `topic` from offset 0 up to the high watermark through kafkajs's own
 * fetch path (its Cluster and Broker classes), without a consumer group.
 */
export async function fetchAllWithKafkajs(kafka: Kafka, topic: string): Promise<FetchedMessage[]> {
  const cluster = kafkajsCluster<KafkajsCluster>(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    const out: FetchedMessage[] = [];
    for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
      const broker = await cluster.findBroker({ nodeId: leader });
      let offset = 0n;
      for (;;) {
        const res = await broker.fetch({
          replicaId: -1, isolationLevel: 0, maxWaitTime: 100, minBytes: 1, maxBytes: 1 << 20,
          topics: [{ topic, partitions: [{ partition: partitionId, fetchOffset: String(offset), maxBytes: 1 << 20 }] }],
        });
        const p = res.responses[0]!.partitions[0]!;
        if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} on ${topic}-${partitionId}`);
        for (const m of p.messages) {
          if (BigInt(m.offset) < offset) continue; // a batch may start before the fetch offset
          if (m.isControlRecord !== true) out.push({ ...m, partition: partitionId });
          offset = BigInt(m.offset) + 1n;
        }
        if (offset >= BigInt(p.highWatermark)) break;
        // kafkajs hands back no offsets for batches with no records left: use fetchPartition (raw-fetch.ts) for such logs
        if (p.messages.length === 0) throw new Error(`no progress at offset ${offset} of ${topic}-${partitionId} (high watermark ${p.highWatermark})`);
      }
    }
    return out;
  } finally {
    await cluster.disconnect();
  }
}
