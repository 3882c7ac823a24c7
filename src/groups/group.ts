/**
 * One classic-protocol group (Kafka's GroupMetadata/MemberMetadata): members, generation, the
 * selected protocol, the state machine and its committed offsets. No timers and no I/O here: the
 * shard (shard.ts) drives it and persists it.
 */
import type { Cancel } from './scheduler.js';
import type { OffsetAndMetadata } from './records.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** Kafka's GroupState.validPreviousStates. */
const VALID_PREVIOUS_STATES: Record<GroupState, readonly GroupState[]> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
};

export interface Protocol { readonly name: string; readonly metadata: Buffer }

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class Member {
  assignment: Buffer = EMPTY;
  awaitingJoin: ((r: JoinResult) => void) | null = null;
  awaitingSync: ((r: SyncResult) => void) | null = null;
  /** Joined in the current rebalance and not yet given a generation (Kafka's isNew). */
  isNew = false;
  /** The session timer (or the new-member join timer) of this member. */
  heartbeatTimer: Cancel | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly Protocol[],
  ) {}

  metadataFor(protocol: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocol);
    if (p === undefined) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata (Kafka's MemberMetadata.matches). */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (p === undefined) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }

  get isAwaitingJoin(): boolean { return this.awaitingJoin !== null; }
  get isAwaitingSync(): boolean { return this.awaitingSync !== null; }
}

export class ClassicGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Wall-clock ms of the last state change (GroupMetadataValue.currentStateTimestamp). */
  currentStateTimestamp: number | null = null;
  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id (KIP-345). */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet (KIP-394). */
  readonly pendingMembers = new Set<string>();
  /** Members that must still SyncGroup in this generation. */
  readonly pendingSyncMembers = new Set<string>();
  /** Committed offsets: topic -> partition -> offset. */
  readonly offsets = new Map<string, Map<number, OffsetAndMetadata>>();
  /** A new member joined while the initial rebalance delay ran. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol), null when unknown. */
  subscribedTopics: Set<string> | null = null;

  constructor(readonly groupId: string, private readonly wallClock: () => number) {}

  is(state: GroupState): boolean { return this.state === state; }

  transitionTo(state: GroupState): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.state)) {
      throw new Error(`group ${this.groupId} cannot move from ${this.state} to ${state}`);
    }
    this.state = state;
    this.currentStateTimestamp = this.wallClock();
  }

  has(memberId: string): boolean { return this.members.has(memberId); }
  get(memberId: string): Member | undefined { return this.members.get(memberId); }
  isLeader(memberId: string): boolean { return this.leaderId === memberId; }

  hasStaticMember(instanceId: string | null): boolean { return instanceId !== null && this.staticMembers.has(instanceId); }
  staticMemberId(instanceId: string): string | undefined { return this.staticMembers.get(instanceId); }

  /** FENCED_INSTANCE_ID when `instanceId` is registered to another member id (Kafka's isStaticMemberFenced). */
  isStaticMemberFenced(memberId: string, instanceId: string | null): boolean {
    if (instanceId === null) return false;
    const current = this.staticMembers.get(instanceId);
    return current !== undefined && current !== memberId;
  }

  add(member: Member, onJoin: ((r: JoinResult) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    member.awaitingJoin = onJoin;
  }

  remove(memberId: string): Member | undefined {
    const m = this.members.get(memberId);
    if (m === undefined) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) this.staticMembers.delete(m.groupInstanceId);
    if (this.leaderId === memberId) {
      // Prefer a member that has rejoined, as Kafka does.
      const joined = [...this.members.values()].find((x) => x.isAwaitingJoin);
      this.leaderId = joined?.memberId ?? this.members.keys().next().value ?? null;
    }
    return m;
  }

  /** A restarted static member takes over its old entry under a new member id (assignment kept). */
  replaceStaticMember(instanceId: string, oldMemberId: string, newMemberId: string): Member {
    const m = this.members.get(oldMemberId);
    if (m === undefined) throw new Error(`static member ${instanceId} has no member ${oldMemberId}`);
    // The old instance's pending requests are answered FENCED_INSTANCE_ID.
    m.awaitingJoin?.(fencedJoin(oldMemberId));
    m.awaitingJoin = null;
    m.awaitingSync?.({ errorCode: FENCED_INSTANCE_ID, protocolType: this.protocolType, protocolName: this.protocolName, assignment: EMPTY });
    m.awaitingSync = null;
    this.members.delete(oldMemberId);
    m.memberId = newMemberId;
    this.members.set(newMemberId, m);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(instanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return m;
  }

  /** Whether a joining member's protocols fit the group (Kafka's supportsProtocols). */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.is('Empty') && this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const counts = this.protocolCounts();
    return protocols.some((p) => (counts.get(p.name) ?? 0) === this.members.size);
  }

  private protocolCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members.values()) for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    return counts;
  }

  /** The protocol every member supports that most members prefer (ties: the first voted). */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`group ${this.groupId} has no members to select a protocol`);
    const counts = this.protocolCounts();
    const candidates = new Set([...counts].filter(([, n]) => n === this.members.size).map(([name]) => name));
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) if (n > bestVotes) { best = name; bestVotes = n; }
    return best;
  }

  get numMembersAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  /** Every member rejoined and no member id handed out is still outstanding. */
  hasAllMembersJoined(): boolean {
    return this.numMembersAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): Member[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** Picks a leader among the members that rejoined if the current one did not. */
  maybeElectNewJoinedLeader(): boolean {
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId);
    if (leader !== undefined && leader.isAwaitingJoin) return true;
    const joined = [...this.members.values()].find((m) => m.isAwaitingJoin);
    this.leaderId = joined?.memberId ?? null;
    return joined !== undefined;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Next generation: CompletingRebalance with a selected protocol, or Empty without members. */
  initNextGeneration(): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance');
    } else {
      this.protocolName = null;
      this.subscribedTopics = null;
      this.transitionTo('Empty');
    }
    this.pendingSyncMembers.clear();
    for (const id of this.members.keys()) this.pendingSyncMembers.add(id);
  }

  private computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) for (const t of decodeSubscriptionTopics(m.metadataFor(this.protocolName))) topics.add(t);
    } catch {
      return null;
    }
    return topics;
  }

  /** Topics whose offsets must not be deleted while members consume them (OffsetDelete). */
  isSubscribedTo(topic: string): boolean {
    if (this.is('Empty') || this.is('Dead')) return false;
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic);
  }

  offset(topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, o: OffsetAndMetadata | null): void {
    if (o === null) {
      const t = this.offsets.get(topic);
      t?.delete(partition);
      if (t !== undefined && t.size === 0) this.offsets.delete(topic);
      return;
    }
    let t = this.offsets.get(topic);
    if (t === undefined) { t = new Map(); this.offsets.set(topic, t); }
    t.set(partition, o);
  }

  get numOffsets(): number {
    let n = 0;
    for (const t of this.offsets.values()) n += t.size;
    return n;
  }

  /** The JoinGroup answer for `member` in the current generation (members listed only for the leader). */
  joinResultFor(member: Member, errorCode = 0): JoinResult {
    const isLeader = this.isLeader(member.memberId);
    return {
      errorCode,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: isLeader && this.protocolName !== null
        ? [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(this.protocolName!) }))
        : [],
    };
  }
}

const FENCED_INSTANCE_ID = 82;

function fencedJoin(memberId: string): JoinResult {
  return { errorCode: FENCED_INSTANCE_ID, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

/** Topics of a ConsumerProtocolSubscription (any version): int16 version, then an array of strings. */
export function decodeSubscriptionTopics(metadata: Buffer): string[] {
  let pos = 2;
  if (metadata.length < 6) throw new RangeError('subscription too short');
  const n = metadata.readInt32BE(pos); pos += 4;
  if (n < 0 || n > metadata.length) throw new RangeError('bad subscription topic count');
  const topics: string[] = [];
  for (let i = 0; i < n; i++) {
    if (pos + 2 > metadata.length) throw new RangeError('subscription truncated');
    const len = metadata.readInt16BE(pos); pos += 2;
    if (len < 0 || pos + len > metadata.length) throw new RangeError('subscription truncated');
    topics.push(metadata.toString('utf8', pos, pos + len)); pos += len;
  }
  return topics;
}
