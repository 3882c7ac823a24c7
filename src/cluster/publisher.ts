import type { Logger } from '../util/log.js';
import type { Partition } from '../partition/partition.js';
import type { ReplicaManager } from '../partition/replica-manager.js';
import { TOPIC_CONFIG_DEFAULTS } from './topic-config.js';
import type { MetadataImage, TopicState } from './image.js';
import type { LogConfig } from '../storage/log.js';
import type { FlushPolicy } from '../raft/group.js';

/** A partition leader's report: itself, its epoch (Raft term) and the replicas in sync with it. */
export interface LeaderReport {
  readonly topic: string;
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
}

/** How leadership facts reach the controller (a direct call on the controller's broker, an RPC elsewhere). */
export interface LeaderReporter {
  /** Many partitions at once: one request, and one metadata batch on the controller. */
  recordLeaders(reports: readonly LeaderReport[]): Promise<void>;
}

/**
 * Applies each new metadata image to this broker: starts the replicas it hosts, reports the
 * leaders their Raft groups elect, and hands leadership to the preferred replica (the first in
 * the replica list) when another replica won the election.
 */
export class MetadataPublisher {
  private image: MetadataImage | null = null;
  private readonly watched = new Set<Partition>();
  /** Reports waiting for the next batch (the latest per partition). */
  private readonly pending = new Map<string, LeaderReport>();
  private flushScheduled = false;
  private readonly opening = new Set<Promise<void>>();
  private reportInFlight = false;

  constructor(
    private readonly nodeId: number,
    private readonly replicas: ReplicaManager,
    private readonly reporter: LeaderReporter,
    /** replica.lag.time.max.ms in Raft ticks. */
    private readonly isrLagTicks: number,
    private readonly log: Logger,
  ) {
    replicas.onRestarted = (partition) => {
      for (const w of this.watched) if (w.topic === partition.topic && w.index === partition.index) this.watched.delete(w);
      const topic = this.image?.topics.get(partition.topic);
      if (topic !== undefined) this.applyConfigs(partition, topic);
      this.watch(partition);
    };
  }

  publish(image: MetadataImage): void {
    this.image = image;
    this.removeDeleted(image);
    for (const topic of image.topics.values()) {
      for (const p of topic.partitions) {
        if (!p.replicas.includes(this.nodeId)) continue;
        const running = this.replicas.get(p.topic, p.partition);
        if (running !== undefined) {
          this.applyConfigs(running, topic);
          this.reconcile(running);
          continue;
        }
        const opening = this.replicas.open({
          topic: p.topic, partition: p.partition, replicas: p.replicas, topicId: topic.topicId,
          logConfig: logConfigOf(topic), partitionConfig: { maxMessageBytes: Number(configOf(topic, 'max.message.bytes')) },
        }).then(async (partition) => {
          this.applyConfigs(partition, topic);
          this.watch(partition);
          // A replica that is its partition's only voter leads at once: count it started then.
          if (p.replicas.length === 1) await partition.waitForLeader();
        }, (err: unknown) => {
          this.log.error({ err, topic: p.topic, partition: p.partition }, 'cannot start partition replica');
        });
        this.opening.add(opening);
        void opening.finally(() => this.opening.delete(opening));
      }
    }
  }

  /** The topic configs each running replica's log was last given. */
  private readonly appliedConfigs = new WeakMap<Partition, TopicState['configs']>();

  /** A topic's configs changed (AlterConfigs): its running logs take the new settings at once. */
  private applyConfigs(partition: Partition, topic: TopicState): void {
    const applied = this.appliedConfigs.get(partition);
    if (applied === topic.configs) return;
    this.appliedConfigs.set(partition, topic.configs);
    partition.log.reconfigure(logConfigOf(topic));
    partition.setFlushPolicy(flushPolicyOf(topic));
    if (applied !== undefined) this.log.info({ topic: topic.name, partition: partition.index }, 'partition log took the new topic configs');
  }

  /** Replicas this broker runs for topics of the image, with the topic id they were opened for. */
  private readonly hosted = new Map<string, { topic: string; partition: number; topicId: string }>();

  /** Stops and deletes the replicas of deleted topics (or of a topic re-created under a new id). */
  private removeDeleted(image: MetadataImage): void {
    for (const [key, h] of this.hosted) {
      const t = image.topics.get(h.topic);
      const p = t?.topicId === h.topicId ? t.partitions[h.partition] : undefined;
      if (p !== undefined && p.replicas.includes(this.nodeId)) continue;
      this.hosted.delete(key);
      const running = this.replicas.get(h.topic, h.partition);
      if (running !== undefined) this.watched.delete(running);
      this.replicas.remove(h.topic, h.partition).catch((err: unknown) => {
        this.log.error({ err, topic: h.topic, partition: h.partition }, 'cannot delete partition replica');
      });
    }
    for (const t of image.topics.values()) {
      for (const p of t.partitions) {
        if (p.replicas.includes(this.nodeId)) this.hosted.set(`${p.topic}-${p.partition}`, { topic: p.topic, partition: p.partition, topicId: t.topicId });
      }
    }
  }

  private watch(partition: Partition): void {
    if (this.watched.has(partition)) return;
    this.watched.add(partition);
    partition.on('leadership', () => this.reconcile(partition));
    this.reconcile(partition);
  }

  /** The leader reports itself; a leader that is not the preferred replica hands over to it. */
  private reconcile(partition: Partition): void {
    const state = this.image?.partition(partition.topic, partition.index);
    if (state === undefined || !partition.isLeader) return;
    const preferred = state.replicas[0]!;
    // The controller keeps fenced brokers out of every ISR: compare on the same terms, or the
    // leader would report the same ISR again and again until the follower falls behind.
    const isr = partition.inSyncReplicas(this.isrLagTicks).filter((r) => this.image?.brokers.get(r)?.fenced === false);
    const isrChanged = isr.length !== state.isr.length || isr.some((r) => !state.isr.includes(r));
    if (state.leader !== this.nodeId || state.leaderEpoch !== partition.leaderEpoch || isrChanged) {
      this.pending.set(`${partition.topic}-${partition.index}`, {
        topic: partition.topic, partition: partition.index, leader: this.nodeId, leaderEpoch: partition.leaderEpoch, isr,
      });
      this.scheduleFlush();
    }
    // Then hand leadership to the preferred replica if it is another live broker. A leader always
    // reports itself first, and does not try a broker it has not heard from lately: the preferred
    // replica may be dead but not fenced yet, and a transfer in progress refuses writes.
    const target = this.image?.brokers.get(preferred);
    if (preferred !== this.nodeId && target?.fenced === false && !target.inControlledShutdown && partition.peerAlive(preferred)) {
      partition.transferLeadership(preferred);
    }
  }

  /** Reports go out in batches: whatever is pending at the end of this turn, one batch in flight at a time. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.reportInFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = [...this.pending.values()];
      this.pending.clear();
      if (batch.length === 0) return;
      this.reportInFlight = true;
      this.reporter.recordLeaders(batch)
        .catch((err: unknown) => this.log.warn({ err, partitions: batch.length }, 'cannot record partition leaders'))
        .finally(() => {
          this.reportInFlight = false;
          if (this.pending.size > 0) this.scheduleFlush();
        });
    });
  }

  /** Resolves once every replica being started has started (the broker says ready after that). */
  async started(): Promise<void> {
    while (this.opening.size > 0) await Promise.allSettled([...this.opening]);
  }

  /** Periodic: leaders report ISR changes (followers falling behind or catching up). */
  checkLeaders(): void {
    for (const p of this.watched) this.reconcile(p);
  }
}

function configOf(topic: TopicState, name: string): string {
  return topic.configs.get(name) ?? TOPIC_CONFIG_DEFAULTS.get(name)!;
}

/** Kafka's flush.messages and flush.ms defaults (Long.MAX_VALUE): no forced flush. */
const NEVER = '9223372036854775807';

/**
 * The topic's flush.messages / flush.ms as a relaxed flush policy, or undefined (the default):
 * raftka fsyncs every append before Raft counts it unless a topic sets either.
 */
function flushPolicyOf(topic: TopicState): FlushPolicy | undefined {
  const messages = topic.configs.get('flush.messages') ?? NEVER;
  const ms = topic.configs.get('flush.ms') ?? NEVER;
  if (messages === NEVER && ms === NEVER) return undefined;
  return { messages: BigInt(messages), ms: Number(ms) };
}

/** The topic's settings that its partition logs apply (at open, and again whenever they change). */
function logConfigOf(topic: TopicState): Partial<LogConfig> {
  return {
    segmentBytes: Number(configOf(topic, 'segment.bytes')),
    segmentMs: Number(configOf(topic, 'segment.ms')),
    indexIntervalBytes: Number(configOf(topic, 'index.interval.bytes')),
    retentionBytes: Number(configOf(topic, 'retention.bytes')),
    retentionMs: Number(configOf(topic, 'retention.ms')),
    cleanupPolicy: configOf(topic, 'cleanup.policy') as LogConfig['cleanupPolicy'],
    deleteRetentionMs: Number(configOf(topic, 'delete.retention.ms')),
    minCompactionLagMs: Number(configOf(topic, 'min.compaction.lag.ms')),
    minCleanableDirtyRatio: Number(configOf(topic, 'min.cleanable.dirty.ratio')),
    fileDeleteDelayMs: Number(configOf(topic, 'file.delete.delay.ms')),
  };
}
