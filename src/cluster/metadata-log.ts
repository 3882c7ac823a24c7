import { EventEmitter } from 'node:events';
import { buildRecordBatch, iterateBatches, iterateRecords, readBatchHeader } from '../../protocol/records/index.js';
import type { Logger } from '../util/log.js';
import type { Partition } from '../partition/partition.js';
import { applyMetadataRecord } from './apply.js';
import { TimeoutError, type MetadataWriter } from './controller.js';
import { MetadataImage } from './image.js';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from './records.js';

export const METADATA_TOPIC = '__cluster_metadata';
/** Metadata batches are checked by the same rules as a current Produce request's. */
const METADATA_PRODUCE_VERSION = 9;

/**
 * Follows the metadata partition (`__cluster_metadata-0`, the controller quorum's Raft group):
 * every committed batch below the high watermark is decoded and applied to the image, in order.
 * On the active controller it is also the writer: records go in as one batch per change.
 */
export class MetadataLog extends EventEmitter implements MetadataWriter {
  private current = MetadataImage.EMPTY;
  private applied = 0n; // next offset to apply
  private applying = false;
  /** A high watermark event arrived during a pass: run another. */
  private again = false;
  private waiters = new Set<() => void>();

  constructor(
    private readonly partition: Partition,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    partition.on('highWatermark', () => {
      this.catchUp().catch((err: unknown) => this.emit('error', err));
    });
  }

  image(): MetadataImage { return this.current; }

  /** Applies everything already committed (at startup: the whole log). */
  async load(): Promise<void> { await this.catchUp(); }

  async append(records: readonly MetadataRecord[]): Promise<bigint> {
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r), headers: [], timestamp: BigInt(Date.now()) })),
    });
    const { lastOffset } = await this.partition.append(batch, -1, METADATA_PRODUCE_VERSION);
    await this.waitForImage((image) => image.offset >= lastOffset, Number.POSITIVE_INFINITY);
    return lastOffset;
  }

  waitForImage(predicate: (image: MetadataImage) => boolean, deadline: number): Promise<void> {
    if (predicate(this.current)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        if (!predicate(this.current)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      if (Number.isFinite(deadline)) {
        timer = setTimeout(() => {
          this.waiters.delete(check);
          reject(new TimeoutError('metadata wait timed out'));
        }, Math.max(0, deadline - this.now()));
      }
    });
  }

  /**
   * Applies every committed record not applied yet, then tells the listeners. A high watermark
   * that moves meanwhile is caught by another pass; a pass that finds nothing new ends the loop
   * (the next high watermark event starts another).
   */
  private async catchUp(): Promise<void> {
    if (this.applying) { this.again = true; return; }
    this.applying = true;
    try {
      for (;;) {
        this.again = false;
        const before = this.applied;
        await this.applyCommitted();
        if (this.applied !== before) {
          this.emit('image', this.current);
          for (const w of [...this.waiters]) w();
        } else if (this.applied < this.partition.highWatermark && !this.again) {
          this.log.warn({ applied: String(this.applied), highWatermark: String(this.partition.highWatermark), logEndOffset: String(this.partition.log.logEndOffset) },
            'metadata log: nothing readable below the high watermark');
        }
        if (!this.again && (this.applied === before || this.applied >= this.partition.highWatermark)) return;
      }
    } finally {
      this.applying = false;
    }
  }

  private async applyCommitted(): Promise<void> {
    while (this.applied < this.partition.highWatermark) {
      const highWatermark = this.partition.highWatermark;
      const { records } = await this.partition.log.read(this.applied, 1 << 20, highWatermark);
      if (records.length === 0) return;
      for (const span of iterateBatches(records)) {
        const batch = readBatchHeader(records, span.offset);
        const lastOffset = batch.baseOffset + BigInt(batch.lastOffsetDelta);
        if (lastOffset < this.applied) continue;
        // Only whole committed batches are applied: nothing at or past the high watermark read
        // before this pass (an applied record cannot be taken back).
        if (lastOffset >= highWatermark) return;
        if (!batch.isControl) {
          for (const rec of iterateRecords(records, span.offset)) {
            const offset = batch.baseOffset + BigInt(rec.offsetDelta);
            if (offset < this.applied || rec.value === null) continue;
            const decoded = decodeMetadataRecord(rec.value);
            if (decoded !== null) this.current = applyMetadataRecord(this.current, decoded, offset);
          }
        }
        this.applied = lastOffset + 1n;
      }
    }
  }
}
