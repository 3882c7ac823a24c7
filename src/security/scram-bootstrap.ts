/**
 * The first SCRAM users (`raftka.bootstrap.scram.users`, Kafka's `kafka-storage format
 * --add-scram`): written once into the replicated metadata by whichever broker is the active
 * controller: at start-up, or later when leadership of the metadata log moves to it (the
 * previous controller may have died before writing them). "Once" is the image's
 * `scram.everWritten`: after any SCRAM record was ever committed, the bootstrap list is ignored,
 * so a password changed through AlterUserScramCredentials is never reverted.
 */
import type { Logger } from '../util/log.js';
import type { ScramBootstrapEntry } from './scram.js';

export interface ScramBootstrapDeps {
  /** This broker is the active controller (leader of the metadata log). */
  isActiveController(): boolean;
  /** The metadata log's end offset on this broker (the leader's log holds every committed record). */
  metadataLogEndOffset(): bigint;
  /** Offset of the last record applied to this broker's image. */
  imageOffset(): bigint;
  /** Resolves once this broker's image reaches `offset` (rejects at the deadline). */
  waitForImageOffset(offset: bigint, timeoutMs: number): Promise<void>;
  /** A SCRAM record was ever committed. */
  everWritten(): boolean;
  /** The controller's write (Controller.bootstrapScram): the number of records written. */
  write(entries: readonly ScramBootstrapEntry[]): Promise<number>;
  /** Retry a failed attempt after this many ms (default 1000). */
  readonly retryMs?: number;
  readonly log: Logger;
}

export class ScramBootstrapper {
  private running: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly entries: readonly ScramBootstrapEntry[], private readonly deps: ScramBootstrapDeps) {}

  /**
   * Call at start-up and whenever this broker becomes the active controller: writes the bootstrap
   * credentials if nobody has yet, after this broker's image has applied everything its metadata
   * log held when it took over (so a stale image never mistakes "not applied yet" for "never").
   * Resolves when this attempt (or the one under way) is over; never rejects.
   */
  maybeApply(): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.stopped || this.entries.length === 0) return Promise.resolve();
    if (!this.deps.isActiveController() || this.deps.everWritten()) return Promise.resolve();
    this.running = this.apply().finally(() => { this.running = null; });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
  }

  private async apply(): Promise<void> {
    try {
      const end = this.deps.metadataLogEndOffset();
      if (this.deps.imageOffset() < end - 1n) await this.deps.waitForImageOffset(end - 1n, 30_000);
      if (!this.deps.isActiveController() || this.deps.everWritten()) return;
      const written = await this.deps.write(this.entries);
      if (written > 0) this.deps.log.info({ users: this.entries.map((e) => `${e.name}/${e.mechanism.name}`) }, 'bootstrap SCRAM credentials written');
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'bootstrap SCRAM credentials not written yet; retrying while this broker is the active controller');
      if (this.stopped) return;
      this.retry = setTimeout(() => { this.retry = null; void this.maybeApply(); }, this.deps.retryMs ?? 1000);
      this.retry.unref();
    }
  }
}
