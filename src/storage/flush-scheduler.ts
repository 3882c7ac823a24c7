import { defaultIo, type StorageIo } from './io.js';

/** Counters of a FlushScheduler (tests, benchmarks, metrics). */
export interface FlushSchedulerStats {
  /** Sync rounds run so far. */
  readonly rounds: number;
  /** fdatasync calls issued (one per distinct file per round). */
  readonly fileSyncs: number;
  /** Directory fsync calls issued (one per distinct directory per round). */
  readonly dirSyncs: number;
  /** Requests answered (successfully or not). */
  readonly requests: number;
  /** Largest number of syncs one round issued. */
  readonly maxRoundSyncs: number;
}

interface Waiter { resolve: () => void; reject: (e: unknown) => void }
interface Item { run: () => Promise<void>; waiters: Waiter[]; kind: 'file' | 'dir' }

/**
 * A broker-wide flush scheduler (one per data directory): the group commit of issue #4 across
 * partitions, as close as Node allows without syncfs(2) or a shared write-ahead log.
 *
 * Every partition log of the broker uses it as its StorageIo. A flush asks for its dirty files
 * (and, after a roll or a new partition, its directory) to be synced; the request joins the next
 * sync round. One round runs at a time: it issues the fdatasync / directory fsync of every file
 * and directory requested since the previous round began, all together (libuv's thread pool runs
 * them), and answers each request as soon as its own sync completed.
 * A request arriving while a round runs waits for the next round, so everything a log wrote
 * before it asked is covered by syncs that began after the ask.
 *
 * A file or directory asked for twice before its round starts is synced once for both callers.
 * A failed sync rejects every request that asked for that file or directory (never reported
 * durable); the round's other syncs are answered as they complete.
 */
export class FlushScheduler implements StorageIo {
  /** Requests for the next round, by file descriptor (`f<fd>`) or directory (`d<path>`). */
  private next = new Map<string, Item>();
  private running: Promise<void> | undefined;
  private startScheduled = false;
  private counts = { rounds: 0, fileSyncs: 0, dirSyncs: 0, requests: 0, maxRoundSyncs: 0 };

  /** `base`: the real calls (default: fdatasync(2) and fsync(2) of the directory). */
  constructor(private readonly base: StorageIo = defaultIo) {}

  /**
   * Resolves once a round that began after this call has fdatasync'd `fd`. The caller keeps `fd`
   * open until then (PartitionLog holds a reference to the descriptor during its flush).
   */
  fdatasync(fd: number): Promise<void> {
    return this.request(`f${fd}`, 'file', () => this.base.fdatasync(fd));
  }

  /** Resolves once a round that began after this call has fsync'd the directory `dir`. */
  fsyncDir(dir: string): Promise<void> {
    return this.request(`d${dir}`, 'dir', () => this.base.fsyncDir(dir));
  }

  get stats(): FlushSchedulerStats { return { ...this.counts }; }

  /** True while a round runs or requests wait for one. */
  get busy(): boolean { return this.running !== undefined || this.next.size > 0; }

  private request(key: string, kind: Item['kind'], run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let item = this.next.get(key);
      if (item === undefined) { item = { run, waiters: [], kind }; this.next.set(key, item); }
      item.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /**
   * Starts a round on the next turn of the event loop when none runs (every flush asked for in
   * this turn joins it); otherwise the running round starts the next one when it ends.
   */
  private schedule(): void {
    if (this.running !== undefined || this.startScheduled) return;
    this.startScheduled = true;
    setImmediate(() => { this.startScheduled = false; this.startRound(); });
  }

  private startRound(): void {
    if (this.running !== undefined || this.next.size === 0) return;
    const items = [...this.next.values()];
    this.next = new Map();
    this.counts.rounds++;
    if (items.length > this.counts.maxRoundSyncs) this.counts.maxRoundSyncs = items.length;
    const done = items.map((item) => {
      if (item.kind === 'file') this.counts.fileSyncs++; else this.counts.dirSyncs++;
      let p: Promise<void>;
      try { p = item.run(); } catch (e) { p = Promise.reject(e); }
      // Each request is answered as soon as its own sync completed (the next round starts only
      // when the slowest one of this round ended).
      return p.then(
        () => { this.counts.requests += item.waiters.length; for (const w of item.waiters) w.resolve(); },
        (e: unknown) => { this.counts.requests += item.waiters.length; for (const w of item.waiters) w.reject(e); },
      );
    });
    this.running = Promise.all(done).then(() => undefined).finally(() => {
      this.running = undefined;
      if (this.next.size > 0) this.startRound();
    });
  }
}
