/**
 * Leader epoch cache (Kafka's LeaderEpochFileCache): for each epoch, the first offset written
 * in it. Epochs only grow along the log, so the term of any offset and the end of any epoch
 * are one binary search away; a diverging follower finds its truncation point in one lookup.
 * Persisted in Kafka's `leader-epoch-checkpoint` text format: "0\n<count>\n<epoch> <offset>\n...".
 */
export interface EpochEntry { epoch: number; startOffset: bigint }

export class EpochCache {
  private list: EpochEntry[] = [];

  get entries(): readonly EpochEntry[] { return this.list; }
  get latestEpoch(): number { return this.list.length === 0 ? -1 : this.list[this.list.length - 1]!.epoch; }

  /** Record that `epoch` starts at `offset` if it is newer than the latest; returns whether it changed. */
  assign(epoch: number, offset: bigint): boolean {
    const last = this.list[this.list.length - 1];
    if (last !== undefined) {
      if (epoch < last.epoch) throw new Error(`epoch ${epoch} is older than the latest epoch ${last.epoch}`);
      if (epoch === last.epoch) return false;
      if (offset < last.startOffset) throw new Error(`epoch ${epoch} starts at ${offset}, before epoch ${last.epoch} at ${last.startOffset}`);
    }
    this.list.push({ epoch, startOffset: offset });
    return true;
  }

  startOffset(epoch: number): bigint | undefined {
    return this.list.find((e) => e.epoch === epoch)?.startOffset;
  }

  /** Index of the last entry whose start offset is <= offset, or -1. */
  private floorByOffset(offset: bigint): number {
    let lo = 0, hi = this.list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.startOffset <= offset) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  epochForOffset(offset: bigint): number | undefined {
    const i = this.floorByOffset(offset);
    return i < 0 ? undefined : this.list[i]!.epoch;
  }

  /**
   * Kafka's endOffsetFor: the latest epoch answers the log end; otherwise the largest epoch
   * <= requested, ending where the next higher epoch starts; (-1, -1) when the requested epoch
   * is above every known epoch but not the latest (or the cache is empty).
   */
  endOffsetFor(requested: number, logEndOffset: bigint): { epoch: number; endOffset: bigint } {
    if (requested < 0) return { epoch: -1, endOffset: -1n };
    if (this.list.length > 0 && this.latestEpoch === requested) return { epoch: requested, endOffset: logEndOffset };
    const higher = this.list.find((e) => e.epoch > requested);
    if (higher === undefined) return { epoch: -1, endOffset: -1n };
    let floor: EpochEntry | undefined;
    for (const e of this.list) if (e.epoch <= requested) floor = e;
    return floor === undefined
      ? { epoch: requested, endOffset: higher.startOffset }
      : { epoch: floor.epoch, endOffset: higher.startOffset };
  }

  /** Remove epochs starting at or after endOffset (log truncated to endOffset). */
  truncateFromEnd(endOffset: bigint): boolean {
    const before = this.list.length;
    while (this.list.length > 0 && this.list[this.list.length - 1]!.startOffset >= endOffset) this.list.pop();
    return this.list.length !== before;
  }

  /**
   * Log start moved to startOffset: drop older epochs, except the one covering startOffset - 1,
   * which now starts there. Unlike Kafka (which keeps the epoch covering startOffset, moved to
   * it), the epoch of the last deleted offset stays known: it is what a Raft snapshot's
   * lastIncludedTerm is, the last epoch of a log emptied up to its start, which the Raft vote
   * compares (an epoch that starts exactly at startOffset would otherwise hide it, and a later
   * truncation back to startOffset would leave the log with no epoch at all).
   */
  truncateFromStart(startOffset: bigint): boolean {
    const keepAt = startOffset > 0n ? startOffset - 1n : startOffset;
    const i = this.floorByOffset(keepAt);
    if (i < 0) return false;
    const changed = i > 0 || this.list[i]!.startOffset !== keepAt;
    this.list = this.list.slice(i);
    this.list[0] = { epoch: this.list[0]!.epoch, startOffset: keepAt };
    return changed;
  }

  /**
   * The log was emptied and restarted at startOffset (truncateFullyAndStartAt): forget every
   * epoch, and keep `epochBelow`, the epoch of the (deleted) entry at startOffset - 1, when known
   * (>= 0): the emptied log's last epoch, durable with the checkpoint.
   */
  resetAt(startOffset: bigint, epochBelow: number): void {
    this.list = [];
    if (startOffset > 0n && epochBelow >= 0) this.list.push({ epoch: epochBelow, startOffset: startOffset - 1n });
  }

  serialize(): string {
    return `0\n${this.list.length}\n${this.list.map((e) => `${e.epoch} ${e.startOffset}\n`).join('')}`;
  }

  /** Parse a checkpoint; undefined when malformed or not monotonic. */
  static parse(text: string): EpochCache | undefined {
    const lines = text.split('\n');
    if (lines[0] !== '0') return undefined;
    const count = Number(lines[1]);
    if (!Number.isInteger(count) || count < 0 || lines.length < count + 2) return undefined;
    const cache = new EpochCache();
    for (let i = 0; i < count; i++) {
      const m = /^(\d+) (\d+)$/.exec(lines[i + 2] ?? '');
      if (m === null) return undefined;
      const epoch = Number(m[1]), offset = BigInt(m[2]!);
      const last = cache.list[cache.list.length - 1];
      if (last !== undefined && (epoch <= last.epoch || offset < last.startOffset)) return undefined;
      cache.list.push({ epoch, startOffset: offset });
    }
    return cache;
  }
}
