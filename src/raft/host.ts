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
 * Envelopes are versioned (`v: 1`); encoding them for a socket is the transport's business.
 */
import { RaftGroup, type Appended, type RaftGroupOptions } from './group.js';
import type { NodeId, RaftMessage } from './types.js';

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
  voters: NodeId[];
  quiesced: boolean;
  idleTicks: number;
}

export interface RaftHostStats {
  groups: number;
  quiesced: number;
  envelopesSent: number;
  messagesSent: number;
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
    this.groups.set(opts.groupId, { group, voters, quiesced: false, idleTicks: 0 });
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

  tick(): void {
    this.ticks++;
    // groups whose leader's broker went silent must be able to elect again
    for (const peer of this.peers) {
      if (this.ticks - (this.lastHeard.get(peer) ?? 0) < this.peerTimeout) continue;
      for (const h of this.groups.values()) if (h.quiesced && h.group.leaderId === peer) this.wake(h);
    }
    for (const [groupId, h] of this.groups) {
      if (h.quiesced) continue;
      // judged before this tick's heartbeats: has everything settled since the last tick?
      if (h.group.quiescable) {
        if (++h.idleTicks >= this.quiesceAfter) {
          h.quiesced = true;
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
    return { groups: this.groups.size, quiesced, envelopesSent: this.envelopesSent, messagesSent: this.messagesSent };
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
