import type { EpochStart } from './types.js';

/**
 * The core's in-memory view of the log's epochs: first offset of each epoch, ascending.
 * Enough to answer "epoch of the batch containing offset X" and Kafka's endOffsetForEpoch
 * without holding per-batch metadata (thousands of groups per broker).
 */
export class EpochView {
  private readonly starts: EpochStart[];

  constructor(starts: readonly EpochStart[] = []) {
    this.starts = starts.map((s) => ({ ...s }));
    for (let i = 1; i < this.starts.length; i++) {
      if (this.starts[i]!.epoch <= this.starts[i - 1]!.epoch || this.starts[i]!.startOffset < this.starts[i - 1]!.startOffset) {
        throw new Error('epoch starts must be strictly ascending');
      }
    }
  }

  get lastEpoch(): number { return this.starts.length === 0 ? -1 : this.starts[this.starts.length - 1]!.epoch; }

  list(): EpochStart[] { return this.starts.map((s) => ({ ...s })); }

  /** Epoch of the entry holding offset (caller guarantees offset < log end); undefined before the first epoch. */
  epochAt(offset: bigint): number | undefined {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      if (this.starts[i]!.startOffset <= offset) return this.starts[i]!.epoch;
    }
    return undefined;
  }

  /** Range of the largest epoch <= epoch: [start, end). Undefined when there is none. */
  rangeFor(epoch: number, logEndOffset: bigint): { epoch: number; startOffset: bigint; endOffset: bigint } | undefined {
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const s = this.starts[i]!;
      if (s.epoch <= epoch) {
        const end = i + 1 < this.starts.length ? this.starts[i + 1]!.startOffset : logEndOffset;
        return { epoch: s.epoch, startOffset: s.startOffset, endOffset: end };
      }
    }
    return undefined;
  }

  /** Record that an entry of `epoch` starts at `offset` (appends are in increasing epoch order). */
  append(epoch: number, offset: bigint): void {
    const last = this.starts[this.starts.length - 1];
    if (last !== undefined && last.epoch === epoch) return;
    if (last !== undefined && epoch < last.epoch) throw new Error(`epoch ${epoch} appended after epoch ${last.epoch}`);
    this.starts.push({ epoch, startOffset: offset });
  }

  /** Forget every epoch that starts at or after offset. */
  truncateTo(offset: bigint): void {
    while (this.starts.length > 0 && this.starts[this.starts.length - 1]!.startOffset >= offset) this.starts.pop();
  }
}
