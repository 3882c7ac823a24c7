import type { Logger } from '../util/log.js';
import type { Partition } from '../partition/partition.js';
import type { ReplicaManager } from '../partition/replica-manager.js';
import { TOPIC_CONFIG_DEFAULTS } from './topic-config.js';
import type { MetadataImage, PartitionState, TopicState } from './image.js';
import type { LogConfig } from '../storage/log.js';
import type { FlushPolicy } from '../raft/group.js';
import { isReassigning, nextMembershipStep, originalReplicas, targetReplicas } from './reassignment.js';

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
 * Kafka's automatic leader balancing: `auto.leader.rebalance.enable` (default true),
 * `leader.imbalance.check.interval.seconds` (default 300; the broker runs the timer) and
 * `leader.imbalance.per.broker.percentage` (default 10).
 */
export interface LeaderBalancerConfig {
  readonly enabled: boolean;
  readonly imbalancePerBrokerPercentage: number;
  /**
   * raftka's `leader.rebalance.immediate.enable` (default true): with the balancer enabled, a
   * leader also hands over at once whenever its partition's preferred replica is live (the
   * behaviour before the balancer), so a restarted broker gets its leaderships back within a
   * second. ElectLeaders no longer depends on it (the controller asks each leader's broker:
   * leader-transfer.ts). False gives Kafka's behaviour exactly: only the periodic check and
   * ElectLeaders move leaderships back (see README for why the default stays true).
   */
  readonly immediate: boolean;
}

export const DEFAULT_LEADER_BALANCER: LeaderBalancerConfig = { enabled: true, imbalancePerBrokerPercentage: 10, immediate: true };

/** Per broker: how many partitions it is the preferred leader of, and how many of those another broker leads. */
export function leaderImbalance(image: MetadataImage): Map<number, { preferred: number; notLeading: number }> {
  const out = new Map<number, { preferred: number; notLeading: number }>();
  for (const t of image.topics.values()) {
    for (const p of t.partitions) {
      const preferred = p.replicas[0];
      if (preferred === undefined) continue;
      const e = out.get(preferred) ?? { preferred: 0, notLeading: 0 };
      e.preferred++;
      if (p.leader !== preferred) e.notLeading++;
      out.set(preferred, e);
    }
  }
  return out;
}

/**
 * The leader balancer's decision (Kafka's controller check, run by every broker for the
 * partitions it leads, on the same image): a partition moves to its preferred replica when that
 * broker's imbalance ratio (partitions it prefers but does not lead / partitions it prefers)
 * exceeds the percentage, and the preferred replica is live (registered, not fenced, not in
 * controlled shutdown, heard from lately) and in the ISR.
 */
export function preferredLeaderMoves(
  image: MetadataImage,
  led: readonly { readonly topic: string; readonly partition: number }[],
  nodeId: number,
  imbalancePerBrokerPercentage: number,
  peerAlive: (nodeId: number) => boolean,
): { topic: string; partition: number; to: number }[] {
  const imbalance = leaderImbalance(image);
  const moves: { topic: string; partition: number; to: number }[] = [];
  for (const { topic, partition } of led) {
    const p = image.partition(topic, partition);
    const preferred = p?.replicas[0];
    if (p === undefined || preferred === undefined || preferred === nodeId || p.leader === preferred) continue;
    const i = imbalance.get(preferred)!;
    if (i.notLeading * 100 <= imbalancePerBrokerPercentage * i.preferred) continue;
    const b = image.brokers.get(preferred);
    if (b === undefined || b.fenced || b.inControlledShutdown || !p.isr.includes(preferred) || !peerAlive(preferred)) continue;
    moves.push({ topic, partition, to: preferred });
  }
  return moves;
}

/**
 * Applies each new metadata image to this broker: starts the replicas it hosts, reports the
 * leaders their Raft groups elect, and moves leadership back to preferred replicas (the first in
 * the replica list): at once while a new partition is being established (CreateTopics and
 * CreatePartitions answer only when preferred leaders are in place; in the rare case another
 * replica won the first election), and otherwise only through the leader balancer
 * (`balanceLeaders`, Kafka's auto.leader.rebalance.* settings).
 */
export class MetadataPublisher {
  private image: MetadataImage | null = null;
  private readonly watched = new Set<Partition>();
  /** Reports waiting for the next batch (the latest per partition). */
  private readonly pending = new Map<string, LeaderReport>();
  private flushScheduled = false;
  private readonly opening = new Set<Promise<void>>();
  private reportInFlight = false;
  /** Partitions opened here before any leader was recorded for them, until their preferred replica leads. */
  private readonly establishing = new Set<string>();

  constructor(
    private readonly nodeId: number,
    private readonly replicas: ReplicaManager,
    private readonly reporter: LeaderReporter,
    /** replica.lag.time.max.ms in Raft ticks. */
    private readonly isrLagTicks: number,
    private readonly log: Logger,
    private readonly balancer: LeaderBalancerConfig = DEFAULT_LEADER_BALANCER,
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
        if (p.leaderEpoch < 0) this.establishing.add(`${p.topic}-${p.partition}`);
        // A replica being added starts as a Raft learner of the group as it was; the log (or the
        // leader's LogStartRequest) then gives it every configuration since.
        const adding = p.addingReplicas ?? [];
        const opening = this.replicas.open({
          topic: p.topic, partition: p.partition, topicId: topic.topicId,
          replicas: isReassigning(p) ? originalReplicas(p) : p.replicas,
          learners: adding.includes(this.nodeId) ? [this.nodeId] : [],
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
      this.establishing.delete(key);
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
    // while its Raft configuration moves (reassignment), each committed step starts the next one
    partition.on('highWatermark', () => { if (this.converging.has(partition)) this.reconcile(partition); });
    this.reconcile(partition);
  }

  /** Led partitions whose Raft configuration is not yet what the metadata wants. */
  private readonly converging = new Set<Partition>();

  /**
   * The leader moves its group's Raft configuration towards the partition's target replicas, one
   * single-server change at a time (reassignment.ts). A step that cannot go yet (a learner still
   * catching up, a change not committed) is retried on the next high watermark or check.
   */
  private moveMembership(partition: Partition, target: readonly number[]): void {
    const pending = partition.membershipChangePending;
    const step = nextMembershipStep(partition.membership, pending, target, this.nodeId, (n) => partition.peerAlive(n));
    if (step.kind === 'none' && !pending) { this.converging.delete(partition); return; }
    this.converging.add(partition);
    if (step.kind === 'transfer') {
      this.log.info({ topic: partition.topic, partition: partition.index, to: step.to }, 'reassignment: the leader is being removed; handing leadership over first');
      partition.transferLeadership(step.to);
    } else if (step.kind === 'change') {
      const r = partition.changeMembership(step.change);
      if (r.ok) {
        this.log.info({ topic: partition.topic, partition: partition.index, change: step.change, voters: r.membership.voters, learners: r.membership.learners }, 'reassignment: Raft membership change');
      } else if (r.reason === 'invalid' || r.reason === 'remove_leader') {
        this.log.warn({ topic: partition.topic, partition: partition.index, change: step.change, reason: r.reason, message: r.message }, 'reassignment: membership change refused');
      }
    }
  }

  /**
   * The leader reports itself; a leader of a partition still being established that is not its
   * preferred replica hands over to it at once.
   */
  private reconcile(partition: Partition): void {
    const state = this.image?.partition(partition.topic, partition.index);
    if (state === undefined) return;
    const preferred = state.replicas[0]!;
    const key = `${partition.topic}-${partition.index}`;
    if (state.leader === preferred) this.establishing.delete(key);
    if (!partition.isLeader) return;
    // The controller keeps fenced brokers out of every ISR: compare on the same terms, or the
    // leader would report the same ISR again and again until the follower falls behind.
    // Only Raft voters count as in sync: a learner still catching up is not, and a removed voter
    // no longer is (so an ISR equal to the target tells the controller a reassignment is done).
    const voters = partition.membership.voters;
    const isr = partition.inSyncReplicas(this.isrLagTicks).filter((r) => this.image?.brokers.get(r)?.fenced === false && voters.includes(r));
    const isrChanged = isr.length !== state.isr.length || isr.some((r) => !state.isr.includes(r));
    if (!this.recordedAsLeader(state, partition) || isrChanged) {
      this.pending.set(`${partition.topic}-${partition.index}`, {
        topic: partition.topic, partition: partition.index, leader: this.nodeId, leaderEpoch: partition.leaderEpoch, isr,
      });
      this.scheduleFlush();
    }
    // Then, for a partition being established, hand leadership to the preferred replica if it is
    // another live broker. A leader always reports itself first, and does not try a broker it has
    // not heard from lately: the preferred replica may be dead but not fenced yet, and a transfer
    // in progress refuses writes. Later moves are the leader balancer's (balanceLeaders).
    this.moveMembership(partition, targetReplicas(state));
    if (!partition.isLeader) return;
    const target = this.image?.brokers.get(preferred);
    const atOnce = this.establishing.has(key) || (this.balancer.enabled && this.balancer.immediate);
    if (atOnce && preferred !== this.nodeId && target?.fenced === false && !target.inControlledShutdown && partition.peerAlive(preferred)) {
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

  /** Every partition this broker leads is recorded with it as leader in `image` (at its Raft epoch). */
  leadershipsRecorded(image: MetadataImage): boolean {
    for (const p of this.watched) {
      if (!p.isLeader) continue;
      const state = image.partition(p.topic, p.index);
      if (state !== undefined && !this.recordedAsLeader(state, p)) return false;
    }
    return true;
  }

  /** The metadata names this broker leader of `partition` at its current Raft epoch. */
  private recordedAsLeader(state: PartitionState, partition: Partition): boolean {
    return state.leader === this.nodeId && state.leaderEpoch === partition.leaderEpoch;
  }

  /**
   * Periodic: leaders report ISR changes (followers falling behind or catching up). Only the
   * replicas this broker leads: for the others reconcile does nothing a metadata image or a
   * leadership event would not do (at 10,000 idle replicas per broker, visiting every one twice a
   * second was most of a broker's idle CPU).
   */
  checkLeaders(): void {
    for (const p of this.watched) if (p.isLeader) this.reconcile(p);
  }

  /**
   * The leader balancer, run every leader.imbalance.check.interval.seconds: moves the partitions
   * this broker leads back to their preferred replicas where preferredLeaderMoves says so.
   * Returns the number of transfers started.
   */
  balanceLeaders(): number {
    const image = this.image;
    if (!this.balancer.enabled || image === null) return 0;
    const led = [...this.watched].filter((p) => p.isLeader);
    const byKey = new Map(led.map((p) => [`${p.topic}-${p.index}`, p]));
    // liveness of peers is the broker's RaftHost view, the same through any of its partitions
    const host = led[0];
    if (host === undefined) return 0;
    const moves = preferredLeaderMoves(image, led.map((p) => ({ topic: p.topic, partition: p.index })), this.nodeId,
      this.balancer.imbalancePerBrokerPercentage, (id) => host.peerAlive(id));
    for (const m of moves) byKey.get(`${m.topic}-${m.partition}`)!.transferLeadership(m.to);
    if (moves.length > 0) this.log.info({ partitions: moves.length }, 'leader balancer: moving leaderships back to preferred replicas');
    return moves.length;
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
