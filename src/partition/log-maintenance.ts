import type { Logger } from '../util/log.js';
import type { Clock } from '../util/clock.js';
import type { Partition } from './partition.js';

export interface LogMaintenanceConfig {
  /** log.retention.check.interval.ms: how often time and size retention run (Kafka default 300000). */
  readonly retentionCheckIntervalMs: number;
  /** log.cleaner.backoff.ms: how often compacted logs are looked at (Kafka default 15000). */
  readonly cleanerBackoffMs: number;
}

/**
 * Retention and compaction of every partition replica on this broker (Kafka's LogManager cleanup
 * and LogCleaner schedules). Each replica applies its topic's policy to its own log, below its
 * high watermark only. Compaction keeps emptied batches as bare headers so that offsets stay
 * contiguous for Raft followers copying the log.
 */
export class LogMaintenance {
  private readonly timers: NodeJS.Timeout[] = [];
  private running = false;

  constructor(
    private readonly partitions: () => Iterable<Partition>,
    private readonly config: LogMaintenanceConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timers.push(setInterval(() => { void this.run('retention'); }, this.config.retentionCheckIntervalMs));
    this.timers.push(setInterval(() => { void this.run('compaction'); }, this.config.cleanerBackoffMs));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** One pass over every replica; passes never overlap. */
  async run(kind: 'retention' | 'compaction'): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const p of this.partitions()) {
        const policy = p.log.config.cleanupPolicy;
        try {
          if (kind === 'retention' && policy.includes('delete')) {
            const deleted = await p.log.deleteOldSegments(this.clock.now(), p.highWatermark);
            if (deleted > 0) this.log.info({ topic: p.topic, partition: p.index, segments: deleted, logStartOffset: String(p.logStartOffset) }, 'retention deleted segments');
          } else if (kind === 'compaction' && policy.includes('compact')) {
            const stats = await p.log.compact({ highWatermark: p.highWatermark, nowMs: this.clock.now(), retainEmptyBatches: true });
            if (stats.cleaned) this.log.info({ topic: p.topic, partition: p.index, recordsRemoved: stats.recordsRemoved, bytesWritten: stats.bytesWritten }, 'compacted log');
          }
        } catch (err) {
          this.log.warn({ err, topic: p.topic, partition: p.index, kind }, 'log maintenance failed');
        }
      }
    } finally {
      this.running = false;
    }
  }
}
