import type { MetadataImage } from '../cluster/image.js';
import { METADATA_TOPIC } from '../cluster/metadata-log.js';
import type { ReplicaManager } from '../partition/replica-manager.js';
import type { RaftGroup } from '../raft/group.js';
import type { BrokerMetrics, BrokerMetricsSource } from './broker-metrics.js';

/** Counts each change of a Raft group of this broker to leader (one election won here). */
export function countElections(group: RaftGroup, metrics: BrokerMetrics): void {
  let leading = group.isLeader;
  if (leading) metrics.elections.inc();
  group.on('role', (s) => {
    const now = s.role === 'leader';
    if (now && !leading) metrics.elections.inc();
    leading = now;
  });
}

/**
 * The scrape-time view of a broker: partition and leader counts from its replicas (the metadata
 * partition left out, as Kafka's PartitionCount), ISR and offline partitions from the image.
 */
export function brokerMetricsSource(
  nodeId: number,
  image: () => MetadataImage,
  replicas: ReplicaManager,
  isActiveController: () => boolean,
  lifecycle: { readonly ready: boolean; readonly closing: boolean },
): BrokerMetricsSource {
  const dataReplicas = (): { topic: string; index: number; isLeader: boolean }[] =>
    [...replicas.all()].filter((p) => p.topic !== METADATA_TOPIC);
  const state = (): string => {
    if (lifecycle.closing) return 'shutting-down';
    if (!lifecycle.ready) return 'starting';
    const self = image().brokers.get(nodeId);
    if (self === undefined || self.fenced) return 'fenced';
    if (self.inControlledShutdown) return 'shutting-down';
    return 'ready';
  };
  return {
    partitions: () => dataReplicas().length,
    leaders: () => dataReplicas().filter((p) => p.isLeader).length,
    underReplicated: () => {
      const img = image();
      let n = 0;
      for (const p of dataReplicas()) {
        if (!p.isLeader) continue;
        const s = img.partition(p.topic, p.index);
        if (s !== undefined && s.isr.length < s.replicas.length) n++;
      }
      return n;
    },
    offline: () => {
      let n = 0;
      for (const t of image().topics.values()) for (const p of t.partitions) if (p.leader === -1) n++;
      return n;
    },
    activeController: isActiveController,
    ready: () => state() === 'ready',
    state,
  };
}
