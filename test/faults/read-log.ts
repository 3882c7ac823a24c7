import type { Kafka } from 'kafkajs';
import { kafkajsCluster } from '../helpers/kafkajs-fetch.js';

/** A record of the final log; control records (the LeaderChange batch a new Raft leader appends) take an offset too. */
export interface LogRecord {
  offset: bigint;
  value: string;
  control: boolean;
}

interface FetchedMessage { offset: string; value: Buffer | null; isControlRecord?: boolean }
interface KafkajsBroker {
  fetch(request: unknown): Promise<{ responses: { partitions: { errorCode: number; highWatermark: string; messages: FetchedMessage[] }[] }[] }>;
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
 * Reads every partition of `topic` from offset 0 to its high watermark from its leader through
 * kafkajs's own Cluster and Broker classes, keeping control records (a consumer skips them, the
 * checker needs them to see that offsets are gapless).
 */
export async function readTopic(kafka: Kafka, topic: string, minEnd: ReadonlyMap<number, bigint> = new Map()): Promise<Map<number, LogRecord[]>> {
  const cluster = kafkajsCluster<KafkajsCluster>(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    const out = new Map<number, LogRecord[]>();
    for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
      const broker = await cluster.findBroker({ nodeId: leader });
      const records: LogRecord[] = [];
      out.set(partitionId, records);
      let offset = 0n;
      for (;;) {
        const res = await broker.fetch({
          replicaId: -1, isolationLevel: 0, maxWaitTime: 100, minBytes: 1, maxBytes: 4 << 20,
          topics: [{ topic, partitions: [{ partition: partitionId, fetchOffset: String(offset), maxBytes: 4 << 20 }] }],
        });
        const p = res.responses[0]!.partitions[0]!;
        if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} on ${topic}-${partitionId} at offset ${offset}`);
        const hw = BigInt(p.highWatermark);
        let progressed = false;
        for (const m of p.messages) {
          const o = BigInt(m.offset);
          if (o < offset || o >= hw) continue; // a batch may start before the fetch offset
          records.push({ offset: o, value: m.isControlRecord === true ? '' : m.value?.toString() ?? '', control: m.isControlRecord === true });
          offset = o + 1n;
          progressed = true;
        }
        // Up to the high watermark, and at least to `minEnd` (past every acknowledged offset): a
        // leader elected a moment ago may still expose the high watermark its predecessor last told it.
        const wanted = minEnd.get(partitionId) ?? 0n;
        if (offset >= hw && offset >= wanted) break;
        if (!progressed && offset < hw) throw new Error(`no progress reading ${topic}-${partitionId} at offset ${offset} (high watermark ${hw})`);
        if (!progressed) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return out;
  } finally {
    await cluster.disconnect();
  }
}
