import type { Logger } from '../util/log.js';
import type { Clock } from '../util/clock.js';
import { Random } from '../util/random.js';
import type { HardStateStore } from '../storage/hard-state.js';
import type { PartitionLog } from '../storage/log.js';
import { RaftHost, type HostEnvelope } from '../raft/host.js';
import type { RaftGroup, Appended } from '../raft/group.js';
import type { MembershipChange, MembershipChangeResult, NodeId } from '../raft/types.js';
/** A learner is promoted once it is at most this many offsets behind the leader's log end. */
const MAX_PROMOTION_LAG = 1000n;

/** The Raft side of one partition replica: its group, and appends routed through the host (which wakes quiesced groups). */
export interface PartitionRaft {
  readonly group: RaftGroup;
  append(batches: Buffer): Appended;
  transferLeadership(to: NodeId): void;
  /** One single-server membership change (reassignment), waking the group if it is quiesced. */
  changeMembership(change: MembershipChange): MembershipChangeResult;
  /** Whether this broker has heard from broker `nodeId` recently (the host's per-peer liveness). */
  peerAlive(nodeId: NodeId): boolean;
  close(): Promise<void>;
}

export interface RaftTiming {
  /** Milliseconds per Raft tick (heartbeat interval: 1 tick; election timeout: 10 to 20 ticks). */
  readonly tickMs: number;
}

/**
 * Sends host envelopes to peer brokers; single-broker clusters have no peers to send to. Returns
 * false when the envelope could not be sent because the peer is unreachable (its connection was
 * reset or refused): the groups it leads then start a pre-vote at once (fast failover).
 */
export type EnvelopeSender = (to: NodeId, envelope: HostEnvelope) => boolean | void;

/**
 * Every Raft group of this broker, on one RaftHost ticked by one timer: heartbeats are coalesced
 * per peer broker and idle groups are quiesced.
 */
export class BrokerRaft {
  private readonly host: RaftHost;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly nodeId: NodeId,
    private readonly hardState: HardStateStore,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly logger: Logger,
    timing: RaftTiming,
    send: EnvelopeSender,
  ) {
    this.host = new RaftHost({
      nodeId,
      transport: {
        send: (to, envelope) => {
          // outside the host's flush loop: the pre-votes it starts queue envelopes of their own
          if (send(to, envelope) === false) {
            queueMicrotask(() => {
              const groups = this.host.peerUnreachable(to);
              if (groups > 0) this.logger.info({ peer: to, groups }, 'raft: peer broker unreachable; its groups elect new leaders now');
            });
          }
        },
      },
    });
    this.timer = setInterval(() => this.host.tick(), timing.tickMs);
  }

  receive(envelope: HostEnvelope): void { this.host.receive(envelope); }

  /**
   * Starts the group of one partition replica over its log. The preferred replica (first voter)
   * campaigns at once on a new group; learners follow the log without voting.
   */
  create(groupId: string, log: PartitionLog, voters: readonly NodeId[], learners: readonly NodeId[] = [], commitNotify: 'eager' | 'lazy' = 'eager'): PartitionRaft {
    const group = this.host.addGroup({
      groupId, voters, log, hardStateStore: this.hardState, random: new Random(this.random.nextU32()),
      clock: this.clock, logger: this.logger.child({ group: groupId }),
      core: { campaignOnFirstTick: voters[0] === this.nodeId, learners, maxPromotionLag: MAX_PROMOTION_LAG, commitNotify },
    });
    // A group of one has nobody to wait for: it elects itself now rather than after a timeout.
    if (voters.length === 1) group.campaign();
    return {
      group,
      append: (batches) => this.host.append(groupId, batches),
      transferLeadership: (to) => { this.host.wakeGroup(groupId); group.transferLeadership(to); },
      changeMembership: (change) => { this.host.wakeGroup(groupId); return group.changeMembership(change); },
      peerAlive: (nodeId) => this.host.peerAlive(nodeId),
      close: () => this.host.removeGroup(groupId),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.host.close();
  }
}
