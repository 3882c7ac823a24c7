/**
 * RaftHost: many Raft groups on one broker.
 *
 * - Coalescing: every message any group sends to a peer within one event-loop turn travels in
 *   ONE envelope to that peer; each tick also sends one envelope per peer (empty when nothing is
 *   pending), which doubles as the node-level liveness ping. Traffic between idle brokers is thus
 *   one envelope per peer per tick, whatever the number of groups.
 * - Quiescence (CockroachDB's idea): a leader whose group has been fully replicated and idle for
 *   `quiesceAfterTicks` stops being ticked and tells its followers, in the envelope, to stop
 *   ticking too. An idle group then costs nothing per tick. A quiesced group wakes on any message
 *   for it, on a local append through the host, or when its leader's broker has been silent for
 *   `peerTimeoutTicks` (then its followers tick again and elect).
 * - Fast failover: when the connection to a peer broker is reset or refused (the transport calls
 *   `peerUnreachable`: a SIGKILLed process closes its sockets at once), or the peer has been
 *   silent for `peerTimeoutTicks`, every group led there forgets its leader (so it grants
 *   pre-votes at once instead of honouring the leader lease for an election timeout) and starts
 *   a pre-vote without waiting out its election timeout: the first surviving voter in the group's
 *   replica order at once, the next ones 2 ticks apart each (so that survivors that saw the same
 *   reset do not split their votes). PreVote keeps this safe and CheckQuorum keeps it harmless
 *   when the leader is in fact alive: voters that still hear from their leader ignore the
 *   pre-vote, and the next heartbeat makes the pre-candidate a follower again. At most one such
 *   round per peer per `peerTimeoutTicks`.
 * Envelopes are versioned (`v: 1`); encoding them for a socket is the transport's business.
 */
import { RaftGroup, type Appended, type RaftGroupOptions } from './group.js';
import { NO_NODE, type NodeId, type RaftMessage } from './types.js';

export interface HostEnvelope {
  v: 1;
  from: NodeId;
  messages: { groupId: string; message: RaftMessage }[];
  /** Groups the sender leads that just quiesced. */
  quiesce: string[];
}

export interface HostTransport {
  /** Must not deliver synchronously back into this host. */
  send(to: NodeId, envelope: HostEnvelope): void;
}

export interface RaftHostOptions {
  nodeId: NodeId;
  transport: HostTransport;
  /** Idle ticks before a leader quiesces its group. Default 10. */
  quiesceAfterTicks?: number;
  /** Ticks without any envelope from a peer before the groups it leads are woken. Default 10. */
  peerTimeoutTicks?: number;
}

interface Hosted {
  group: RaftGroup;
  /** Every member (voters and learners). */
  voters: NodeId[];
  /** The voters the group was created with, in replica order (for the fast-failover ranking). */
  initialVoters: NodeId[];
  /** Fast failover: campaign at this host tick if the group is still leaderless (-1: none). */
  campaignAt: number;
  quiesced: boolean;
  idleTicks: number;
}

export interface RaftHostStats {
  groups: number;
  quiesced: number;
  envelopesSent: number;
  messagesSent: number;
  /** Pre-votes started by peerUnreachable or a silent peer (fast failover), since start. */
  fastElections: number;
}

export class RaftHost {
  readonly nodeId: NodeId;
  private readonly transport: HostTransport;
  private readonly quiesceAfter: number;
  private readonly peerTimeout: number;
  private readonly groups = new Map<string, Hosted>();
  private readonly outbox = new Map<NodeId, HostEnvelope>();
  private readonly peers = new Set<NodeId>();
  private readonly lastHeard = new Map<NodeId, number>();
  /** Tick of the last fast pre-vote round for the groups a peer leads. */
  private readonly lastFastElection = new Map<NodeId, number>();
  private fastElections = 0;
  private ticks = 0;
  private flushScheduled = false;
  private envelopesSent = 0;
  private messagesSent = 0;

  constructor(opts: RaftHostOptions) {
    this.nodeId = opts.nodeId;
    this.transport = opts.transport;
    this.quiesceAfter = opts.quiesceAfterTicks ?? 10;
    this.peerTimeout = opts.peerTimeoutTicks ?? 10;
  }

  addGroup(opts: Omit<RaftGroupOptions, 'transport' | 'nodeId'>): RaftGroup {
    if (this.groups.has(opts.groupId)) throw new Error(`group ${opts.groupId} already hosted`);
    const group = new RaftGroup({
      ...opts,
      nodeId: this.nodeId,
      transport: { send: (to, groupId, message) => this.enqueue(to, groupId, message) },
    });
    const voters = [...opts.voters, ...(opts.core?.learners ?? [])]; // every member: voters and learners
    for (const v of voters) if (v !== this.nodeId && !this.peers.has(v)) { this.peers.add(v); this.lastHeard.set(v, this.ticks); }
    this.groups.set(opts.groupId, { group, voters, initialVoters: [...opts.voters], campaignAt: -1, quiesced: false, idleTicks: 0 });
    return group;
  }

  async removeGroup(groupId: string): Promise<void> {
    const h = this.groups.get(groupId);
    if (h === undefined) return;
    this.groups.delete(groupId);
    await h.group.close();
  }

  group(groupId: string): RaftGroup | undefined { return this.groups.get(groupId)?.group; }

  isQuiesced(groupId: string): boolean { return this.groups.get(groupId)?.quiesced ?? false; }

  /** Append through the host so a quiesced group wakes up. */
  append(groupId: string, batches: Buffer): Appended {
    const h = this.groups.get(groupId);
    if (h === undefined) throw new Error(`unknown group ${groupId}`);
    this.wake(h);
    return h.group.append(batches);
  }

  /** Whether anything came from `peer` within the last peerTimeoutTicks (each peer sends every tick). */
  peerAlive(peer: NodeId): boolean {
    return peer === this.nodeId || this.ticks - (this.lastHeard.get(peer) ?? -Infinity) < this.peerTimeout;
  }

  /** Wake a group (e.g. before transferLeadership or when the partition layer needs it). */
  wakeGroup(groupId: string): void {
    const h = this.groups.get(groupId);
    if (h !== undefined) this.wake(h);
  }

  /**
   * The connection to `peer` was reset or refused: its broker is probably gone. Every group whose
   * leader is there forgets it and starts a pre-vote soon (see the file comment for why this is safe).
   * Returns the number of groups that did.
   */
  peerUnreachable(peer: NodeId): number {
    if (peer === this.nodeId) return 0;
    // Not alive until it is heard from again: no leadership is handed to it meanwhile (a transfer
    // to a dead broker refuses writes until it is abandoned).
    this.lastHeard.set(peer, Number.NEGATIVE_INFINITY);
    const last = this.lastFastElection.get(peer);
    if (last !== undefined && this.ticks - last < this.peerTimeout) return 0;
    let started = 0;
    for (const h of this.groups.values()) {
      if (h.group.leaderId !== peer || h.group.role !== 'follower') continue;
      this.wake(h);
      h.group.forgetLeader();
      const survivors = h.initialVoters.filter((v) => v !== peer);
      const rank = survivors.includes(this.nodeId) ? survivors.indexOf(this.nodeId) : survivors.length;
      if (rank === 0) h.group.campaign();
      else h.campaignAt = this.ticks + 2 * rank;
      started++;
    }
    if (started > 0) { this.lastFastElection.set(peer, this.ticks); this.fastElections += started; }
    return started;
  }

  tick(): void {
    this.ticks++;
    // groups whose leader's broker went silent must be able to elect again: wake them, and start
    // their pre-votes now (each peer sends every tick, so a silent peer is a lost leader)
    for (const peer of this.peers) {
      if (this.ticks - (this.lastHeard.get(peer) ?? 0) < this.peerTimeout) continue;
      for (const h of this.groups.values()) if (h.quiesced && h.group.leaderId === peer) this.wake(h);
      this.peerUnreachable(peer);
    }
    for (const [groupId, h] of this.groups) {
      if (h.campaignAt >= 0 && this.ticks >= h.campaignAt) {
        h.campaignAt = -1;
        if (h.group.role === 'follower' && h.group.leaderId === NO_NODE) h.group.campaign();
      }
      if (h.quiesced) continue;
      // judged before this tick's heartbeats: has everything settled since the last tick?
      if (h.group.quiescable) {
        if (++h.idleTicks >= this.quiesceAfter) {
          h.quiesced = true;
          // the members as they are now (membership changes): every one of them may sleep
          const m = h.group.membership;
          h.voters = [...m.voters, ...m.learners];
          for (const v of h.voters) if (v !== this.nodeId && !this.peers.has(v)) { this.peers.add(v); this.lastHeard.set(v, this.ticks); }
          for (const v of h.voters) if (v !== this.nodeId) this.envelope(v).quiesce.push(groupId);
          continue;
        }
      } else {
        h.idleTicks = 0;
      }
      h.group.tick();
    }
    // one envelope per peer per tick: the liveness ping, carrying whatever is pending
    for (const peer of this.peers) this.envelope(peer);
    this.flush();
  }

  receive(envelope: HostEnvelope): void {
    if (envelope.v !== 1) return;
    this.lastHeard.set(envelope.from, this.ticks);
    for (const { groupId, message } of envelope.messages) {
      const h = this.groups.get(groupId);
      if (h === undefined) continue;
      // heartbeats (and their answers) keep nothing awake: a quiescing leader's last ones are in flight
      if (message.type !== 'heartbeat' && message.type !== 'heartbeatResponse') this.wake(h);
      h.group.receive(envelope.from, message);
    }
    for (const groupId of envelope.quiesce) {
      const h = this.groups.get(groupId);
      // only the group's current leader may put its followers to sleep
      if (h !== undefined && h.group.leaderId === envelope.from && !h.group.isLeader) h.quiesced = true;
    }
  }

  stats(): RaftHostStats {
    let quiesced = 0;
    for (const h of this.groups.values()) if (h.quiesced) quiesced++;
    return { groups: this.groups.size, quiesced, envelopesSent: this.envelopesSent, messagesSent: this.messagesSent, fastElections: this.fastElections };
  }

  async close(): Promise<void> {
    for (const h of this.groups.values()) await h.group.close();
    this.groups.clear();
  }

  private wake(h: Hosted): void {
    h.quiesced = false;
    h.idleTicks = 0;
  }

  private envelope(to: NodeId): HostEnvelope {
    let e = this.outbox.get(to);
    if (e === undefined) { e = { v: 1, from: this.nodeId, messages: [], quiesce: [] }; this.outbox.set(to, e); }
    return e;
  }

  private enqueue(to: NodeId, groupId: string, message: RaftMessage): void {
    this.envelope(to).messages.push({ groupId, message });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = [...this.outbox];
    this.outbox.clear();
    for (const [to, e] of out) {
      this.envelopesSent++;
      this.messagesSent += e.messages.length;
      this.transport.send(to, e);
    }
  }
}
