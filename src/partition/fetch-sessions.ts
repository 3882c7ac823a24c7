import { systemClock, type Clock } from '../util/clock.js';
import { Random } from '../util/random.js';

/** max.incremental.fetch.session.cache.slots */
export const DEFAULT_MAX_FETCH_SESSIONS = 1000;
/** min.incremental.fetch.session.eviction.ms: an idle session younger than this is never evicted. */
export const DEFAULT_FETCH_SESSION_EVICTION_MS = 120_000;

export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

/** What a session remembers of one partition: the client's fetch position and what it was last told. */
export interface SessionPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** Last high watermark and log start offset sent (-1: resend on the next fetch). */
  sentHighWatermark: bigint;
  sentLogStartOffset: bigint;
  /** Last last-stable-offset sent (undefined: none yet). */
  sentLastStableOffset?: bigint;
}

/** One KIP-227 incremental fetch session. */
export class FetchSession {
  /** The epoch the next incremental request must carry. */
  epoch = 1;
  lastUsedMs: number;
  /** Keyed by `${topicId or name}:${partition}`, in the order the client added them. */
  readonly partitions = new Map<string, SessionPartition>();

  constructor(readonly id: number, readonly usesTopicIds: boolean, nowMs: number) { this.lastUsedMs = nowMs; }

  static key(topicOrId: string, partition: number): string { return `${topicOrId}:${partition}`; }

  nextEpoch(): void { this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1; }

  /**
   * Kafka's CachedPartition.maybeUpdateResponseData for one partition's answer: whether an
   * incremental response must carry it (records, a moved high watermark or log start, an error,
   * a diverging epoch), remembering what was sent.
   */
  mustRespond(p: SessionPartition, r: { records: number; highWatermark: bigint; logStartOffset: bigint; errorCode: number; divergingEpoch: number; lastStableOffset?: bigint }): boolean {
    let must = r.records > 0 || r.divergingEpoch !== -1;
    if (r.errorCode !== 0) {
      p.sentHighWatermark = -1n; // resend once the error clears
      return true;
    }
    if (p.sentHighWatermark !== r.highWatermark) { p.sentHighWatermark = r.highWatermark; must = true; }
    if (p.sentLogStartOffset !== r.logStartOffset) { p.sentLogStartOffset = r.logStartOffset; must = true; }
    if (r.lastStableOffset !== undefined && p.sentLastStableOffset !== r.lastStableOffset) { p.sentLastStableOffset = r.lastStableOffset; must = true; }
    return must;
  }
}

/**
 * The broker's fetch sessions (Kafka's FetchSessionCache): at most `maxSessions`; when full, a new
 * session evicts the least recently used one idle for longer than `evictionMs`, or is not created
 * (the client then gets session id 0 and keeps sending full fetches).
 */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();

  constructor(
    private readonly maxSessions = DEFAULT_MAX_FETCH_SESSIONS,
    private readonly evictionMs = DEFAULT_FETCH_SESSION_EVICTION_MS,
    private readonly clock: Clock = systemClock,
    private readonly random: Random = new Random(0x5e551011),
  ) {}

  get size(): number { return this.sessions.size; }

  /** The session, marked as just used; undefined if unknown or evicted. */
  get(id: number): FetchSession | undefined {
    const s = this.sessions.get(id);
    if (s === undefined) return undefined;
    // Map order is recency order: move to the back.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    s.lastUsedMs = this.clock.monotonic();
    return s;
  }

  remove(id: number): boolean { return this.sessions.delete(id); }

  create(usesTopicIds: boolean): FetchSession | undefined {
    const now = this.clock.monotonic();
    if (this.sessions.size >= this.maxSessions) {
      const [oldestId, oldest] = this.sessions.entries().next().value ?? [];
      if (oldest === undefined || oldestId === undefined || now - oldest.lastUsedMs < this.evictionMs) return undefined;
      this.sessions.delete(oldestId);
    }
    let id: number;
    do { id = this.random.int(1, 0x7fffffff); } while (this.sessions.has(id));
    const s = new FetchSession(id, usesTopicIds, now);
    this.sessions.set(id, s);
    return s;
  }
}
