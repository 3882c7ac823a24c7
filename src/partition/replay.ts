/**
 * Replay of a coordinator partition (`__consumer_offsets`, `__transaction_state`) by its new
 * leader: the group and transaction coordinators rebuild their state from the log this way.
 */
import type { Partition } from './partition.js';
import { iterateBatches, iterateRecords, readBatchHeader, type BatchHeader } from '../../protocol/records/index.js';
import type { RecordView } from '../../protocol/records/record.js';

/** Bytes read per step of a replay. */
const REPLAY_READ_BYTES = 1 << 20;

export interface ReplayHandlers {
  /** A control batch (transaction markers); `records` are its records. */
  control?(header: BatchHeader, records: Iterable<RecordView>): void;
  /** One data record with a key, at `offset`. */
  record(header: BatchHeader, record: RecordView, offset: bigint): void;
}

/**
 * Waits until every entry the leader held when called is committed (its own epoch's first entry
 * included, so nothing a predecessor wrote is missed), then hands every record from the log start
 * to the high watermark to `handlers`, in offset order. `isCurrent` says whether the replay still
 * matters (this broker still leads the partition in the same epoch, the consumer is still open):
 * when it turns false the replay stops with an error.
 */
export async function replayCommitted(partition: Partition, isCurrent: () => boolean, handlers: ReplayHandlers): Promise<void> {
  const stale = (): Error => new Error('leadership changed while loading');
  const target = partition.logEndOffset;
  while (partition.highWatermark < target) {
    if (!isCurrent()) throw stale();
    await new Promise<void>((resolve) => {
      const done = (): void => { partition.off('highWatermark', done); partition.off('leadership', done); resolve(); };
      partition.on('highWatermark', done);
      partition.on('leadership', done);
    });
  }
  let offset = partition.logStartOffset;
  const end = partition.highWatermark;
  while (offset < end) {
    if (!isCurrent()) throw stale();
    const { records } = await partition.read(offset, REPLAY_READ_BYTES);
    if (records === null) break;
    let next = offset;
    for (const span of iterateBatches(records)) {
      const header = readBatchHeader(records, span.offset);
      next = header.baseOffset + BigInt(header.lastOffsetDelta) + 1n;
      if (next <= offset) continue; // the read starts at the batch holding `offset`
      if (header.isControl) {
        handlers.control?.(header, iterateRecords(records, span.offset));
        continue;
      }
      for (const r of iterateRecords(records, span.offset)) {
        const recordOffset = header.baseOffset + BigInt(r.offsetDelta);
        if (recordOffset < offset || r.key === null) continue;
        handlers.record(header, r, recordOffset);
      }
    }
    if (next <= offset) break;
    offset = next;
  }
}
