import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Logger } from '../util/log.js';
import { PartitionLog, type LogConfig } from '../storage/log.js';
import { Partition, type PartitionConfig } from './partition.js';
import type { PartitionRaft } from './raft-groups.js';

export interface ReplicaSpec {
  readonly topic: string;
  readonly partition: number;
  /** The Raft group's voters; the first is the preferred leader. */
  readonly replicas: readonly number[];
  readonly logConfig: Partial<LogConfig>;
  readonly partitionConfig: PartitionConfig;
}

/** Creates the Raft group of one partition replica over its log (the Raft host's job). */
export type RaftGroupFactory = (groupId: string, log: PartitionLog, replicas: readonly number[]) => PartitionRaft;

/** The partition replicas this broker hosts, each with its log directory `<data-dir>/<topic>-<partition>`. */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly opening = new Map<string, Promise<Partition>>();

  constructor(
    private readonly dataDir: string,
    private readonly raftGroups: RaftGroupFactory,
    private readonly logger: Logger,
    /** Forgets a removed replica's Raft hard state (term, vote, commit) so a new topic of the same name starts clean. */
    private readonly forgetGroup: (groupId: string) => Promise<void> = async () => undefined,
  ) {}

  private readonly removing = new Map<string, Promise<void>>();

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(`${topic}-${partition}`);
  }

  all(): IterableIterator<Partition> { return this.partitions.values(); }

  /** Opens (recovering its log) and starts the replica if it is not running yet. */
  open(spec: ReplicaSpec): Promise<Partition> {
    const key = `${spec.topic}-${spec.partition}`;
    const running = this.partitions.get(key);
    if (running !== undefined) return Promise.resolve(running);
    let opening = this.opening.get(key);
    if (opening === undefined) {
      opening = (async () => {
        await this.removing.get(key);
        const log = await PartitionLog.open(join(this.dataDir, key), spec.logConfig, this.logger);
        const raft = this.raftGroups(key, log, spec.replicas);
        const p = new Partition(spec.topic, spec.partition, log, raft, spec.partitionConfig, this.logger.child({ partition: key }));
        this.partitions.set(key, p);
        this.logger.info({ partition: key, replicas: spec.replicas, logEndOffset: String(log.logEndOffset) }, 'partition replica started');
        return p;
      })().finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  /**
   * Stops a replica of a deleted topic (or one moved off this broker) and deletes its log
   * directory and Raft hard state. A later open of the same partition waits for this to finish.
   */
  remove(topic: string, partition: number): Promise<void> {
    const key = `${topic}-${partition}`;
    const earlier = this.removing.get(key);
    if (earlier !== undefined) return earlier;
    // Gone from get() at once, so a topic re-created under the same name opens a fresh replica.
    const running = this.partitions.get(key);
    this.partitions.delete(key);
    const removal = (async () => {
      const opened = await this.opening.get(key)?.catch(() => undefined);
      if (opened !== undefined && this.partitions.get(key) === opened) this.partitions.delete(key);
      for (const p of new Set([running, opened])) if (p !== undefined) await p.close();
      await rm(join(this.dataDir, key), { recursive: true, force: true });
      await this.forgetGroup(key);
      this.logger.info({ partition: key }, 'partition replica deleted');
    })().finally(() => this.removing.delete(key));
    this.removing.set(key, removal);
    return removal;
  }

  /** Resolves when any of the partitions' high watermarks moves, or after timeoutMs. */
  waitForHighWatermark(partitions: readonly Partition[], timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const p of partitions) p.off('highWatermark', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      for (const p of partitions) p.on('highWatermark', done);
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.partitions.values()].map((p) => p.close()));
    this.partitions.clear();
  }
}
