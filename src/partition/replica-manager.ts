import { join } from 'node:path';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Logger } from '../util/log.js';
import { PartitionLog, type LogConfig } from '../storage/log.js';
import type { StorageIo } from '../storage/io.js';
import { Partition, type PartitionConfig } from './partition.js';
import type { PartitionRaft } from './raft-groups.js';

export interface ReplicaSpec {
  readonly topic: string;
  readonly partition: number;
  /** The Raft group's voters; the first is the preferred leader. */
  readonly replicas: readonly number[];
  /** Members that follow the log without voting (the metadata log on brokers outside the controller quorum). */
  readonly learners?: readonly number[];
  readonly logConfig: Partial<LogConfig>;
  readonly partitionConfig: PartitionConfig;
  /**
   * The topic's id. Kept in the replica's `partition.metadata` file (as Kafka does), so a
   * directory left behind by a deleted topic of the same name is wiped instead of reused.
   */
  readonly topicId?: string;
}

const PARTITION_METADATA = 'partition.metadata';

/** Creates the Raft group of one partition replica over its log (the Raft host's job). */
export type RaftGroupFactory = (groupId: string, log: PartitionLog, replicas: readonly number[], learners: readonly number[], topic: string) => PartitionRaft;

/** The partition replicas this broker hosts, each with its log directory `<data-dir>/<topic>-<partition>`. */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly opening = new Map<string, Promise<Partition>>();
  /** Consecutive storage failures per replica (the restart backoff grows with them). */
  private readonly failures = new Map<string, number>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Called with the new replica after one was restarted following a storage failure. */
  onRestarted: (partition: Partition) => void = () => undefined;

  constructor(
    private readonly dataDir: string,
    private readonly raftGroups: RaftGroupFactory,
    private readonly logger: Logger,
    /** Forgets a removed replica's Raft hard state (term, vote, commit) so a new topic of the same name starts clean. */
    private readonly forgetGroup: (groupId: string) => Promise<void> = async () => undefined,
    /** The replicas' logs' fsync calls (a broker-wide FlushScheduler when raftka.log.flush.rounds is on; default: each log's own). */
    private readonly logIo?: StorageIo,
  ) {}

  private readonly removing = new Map<string, Promise<void>>();
  /** How the logs opened so far were found (the broker's start-up summary). */
  readonly opened = { new: 0, clean: 0, recovered: 0, truncatedBytes: 0 };

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
        if (spec.topicId !== undefined) await this.dropStaleReplica(key, spec.topicId);
        const log = await PartitionLog.open(join(this.dataDir, key), spec.logConfig, this.logger, { io: this.logIo });
        this.opened[log.openInfo.kind]++;
        this.opened.truncatedBytes += log.openInfo.truncatedBytes;
        if (spec.topicId !== undefined) await writePartitionMetadata(join(this.dataDir, key), spec.topicId);
        const raft = this.raftGroups(key, log, spec.replicas, spec.learners ?? [], spec.topic);
        const p = new Partition(spec.topic, spec.partition, log, raft, spec.partitionConfig, this.logger.child({ partition: key }));
        raft.group.once('error', (err) => this.restartAfterFailure(spec, p, err));
        this.partitions.set(key, p);
        this.logger.info({ partition: key, replicas: spec.replicas, logEndOffset: String(log.logEndOffset) }, 'partition replica started');
        return p;
      })().finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  /**
   * A replica whose Raft group stopped on a storage error (a failed write, fsync or truncation) is
   * closed and opened again from disk, which recovers its log, after a backoff of 1 s doubling per
   * consecutive failure up to 60 s; meanwhile the other replicas of its partition carry on.
   */
  private restartAfterFailure(spec: ReplicaSpec, failed: Partition, err: Error): void {
    const key = `${spec.topic}-${spec.partition}`;
    if (this.closed || this.partitions.get(key) !== failed) return;
    this.partitions.delete(key);
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delayMs = Math.min(60_000, 1000 * 2 ** (n - 1));
    this.logger.error({ partition: key, err: err.message, failures: n, restartInMs: delayMs }, 'partition replica failed on a storage error; restarting it');
    const closing = failed.close().catch((e: unknown) => this.logger.warn({ partition: key, err: (e as Error).message }, 'closing the failed replica'));
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      void closing.then(async () => {
        if (this.closed || this.removing.has(key) || this.partitions.has(key)) return;
        try {
          const p = await this.open(spec);
          this.logger.info({ partition: key }, 'partition replica restarted after a storage failure');
          this.onRestarted(p);
          // Healthy again once it has served a while: a later failure starts the backoff over.
          const reset = setTimeout(() => { if (this.partitions.get(key) === p) this.failures.delete(key); }, delayMs * 2);
          reset.unref();
        } catch (e) {
          this.logger.error({ partition: key, err: (e as Error).message }, 'partition replica could not be reopened');
        }
      });
    }, delayMs);
    timer.unref();
    this.restartTimers.add(timer);
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

  /** A directory whose partition.metadata names another topic id belongs to a deleted topic: wipe it and its Raft state. */
  private async dropStaleReplica(key: string, topicId: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.dataDir, key, PARTITION_METADATA), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const found = /^topic_id:\s*(\S+)/m.exec(text)?.[1];
    if (found === undefined || found === topicId) return;
    this.logger.warn({ partition: key, staleTopicId: found, topicId }, 'deleting a replica left behind by a deleted topic of the same name');
    await rm(join(this.dataDir, key), { recursive: true, force: true });
    await this.forgetGroup(key);
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
    this.closed = true;
    for (const t of this.restartTimers) clearTimeout(t);
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.partitions.values()].map((p) => p.close()));
    this.partitions.clear();
  }
}

/** Kafka's partition.metadata format (version 0). Written once per directory; a crash before the rename leaves none, which is safe. */
async function writePartitionMetadata(dir: string, topicId: string): Promise<void> {
  const path = join(dir, PARTITION_METADATA);
  try {
    await readFile(path);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(`${path}.tmp`, `version: 0\ntopic_id: ${topicId}\n`);
  await rename(`${path}.tmp`, path);
}
