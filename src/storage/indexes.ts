/**
 * Sparse per-segment indexes, kept in memory and persisted in Kafka's file formats:
 * `.index` entries are (relativeOffset int32, position int32) and `.timeindex` entries are
 * (timestamp int64, relativeOffset int32), big-endian. Offsets are relative to the segment's
 * base offset. Both are derived data: a missing or inconsistent file is rebuilt from the log.
 */

/** Offset index: base offset of a batch (relative) → its file position. */
export class OffsetIndex {
  private data = new Int32Array(16);
  private n = 0;

  get entries(): number { return this.n; }

  append(relOffset: number, position: number): void {
    if (this.n > 0 && (relOffset <= this.data[2 * this.n - 2]! || position <= this.data[2 * this.n - 1]!)) {
      throw new Error(`offset index entry (${relOffset}, ${position}) does not increase`);
    }
    if (2 * this.n + 2 > this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[2 * this.n] = relOffset;
    this.data[2 * this.n + 1] = position;
    this.n++;
  }

  /** Position of the last indexed batch whose base offset is <= relOffset (0 when none). */
  lookup(relOffset: number): { relOffset: number; position: number } {
    let lo = 0, hi = this.n - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.data[2 * mid]! <= relOffset) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found < 0 ? { relOffset: 0, position: 0 } : { relOffset: this.data[2 * found]!, position: this.data[2 * found + 1]! };
  }

  /** Drop entries at or beyond the given file position (after a truncation). */
  truncateToPosition(position: number): void {
    while (this.n > 0 && this.data[2 * this.n - 1]! >= position) this.n--;
  }

  serialize(): Buffer {
    const buf = Buffer.allocUnsafe(8 * this.n);
    for (let i = 0; i < this.n; i++) {
      buf.writeInt32BE(this.data[2 * i]!, 8 * i);
      buf.writeInt32BE(this.data[2 * i + 1]!, 8 * i + 4);
    }
    return buf;
  }

  /** Parse a file; undefined when it is inconsistent with a segment of `logSize` bytes. */
  static parse(buf: Buffer, logSize: number): OffsetIndex | undefined {
    if (buf.length % 8 !== 0) return undefined;
    const idx = new OffsetIndex();
    for (let p = 0; p < buf.length; p += 8) {
      const rel = buf.readInt32BE(p), pos = buf.readInt32BE(p + 4);
      if (rel < 0 || pos < 0 || pos >= logSize) return undefined;
      if (idx.n > 0 && (rel <= idx.data[2 * idx.n - 2]! || pos <= idx.data[2 * idx.n - 1]!)) return undefined;
      idx.append(rel, pos);
    }
    return idx;
  }
}

/** Time index: largest timestamp seen so far → relative base offset of the batch that reached it. */
export class TimeIndex {
  private ts: bigint[] = [];
  private rel: number[] = [];

  get entries(): number { return this.ts.length; }
  get lastTimestamp(): bigint { return this.ts.length === 0 ? -1n : this.ts[this.ts.length - 1]!; }
  get lastRelOffset(): number { return this.rel.length === 0 ? 0 : this.rel[this.rel.length - 1]!; }

  /** Appends only when the timestamp grows (entries strictly increase in both columns). */
  maybeAppend(timestamp: bigint, relOffset: number): void {
    const n = this.ts.length;
    if (n > 0 && (timestamp <= this.ts[n - 1]! || relOffset <= this.rel[n - 1]!)) return;
    this.ts.push(timestamp);
    this.rel.push(relOffset);
  }

  /**
   * Relative offset of a batch from which a scan for the first record with timestamp >= ts may
   * start: the last entry whose timestamp is < ts (everything up to that batch is older), or 0.
   */
  scanStart(timestamp: bigint): number {
    let lo = 0, hi = this.ts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < timestamp) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.rel[found]!;
  }

  /** Drop entries whose batch starts at or after relOffset. */
  truncateToRelOffset(relOffset: number): void {
    while (this.rel.length > 0 && this.rel[this.rel.length - 1]! >= relOffset) { this.rel.pop(); this.ts.pop(); }
  }

  serialize(): Buffer {
    const buf = Buffer.allocUnsafe(12 * this.ts.length);
    for (let i = 0; i < this.ts.length; i++) {
      buf.writeBigInt64BE(this.ts[i]!, 12 * i);
      buf.writeInt32BE(this.rel[i]!, 12 * i + 8);
    }
    return buf;
  }

  static parse(buf: Buffer, maxRelOffset: number): TimeIndex | undefined {
    if (buf.length % 12 !== 0) return undefined;
    const idx = new TimeIndex();
    for (let p = 0; p < buf.length; p += 12) {
      const t = buf.readBigInt64BE(p), r = buf.readInt32BE(p + 8);
      if (r < 0 || r > maxRelOffset) return undefined;
      const n = idx.ts.length;
      if (n > 0 && (t <= idx.ts[n - 1]! || r <= idx.rel[n - 1]!)) return undefined;
      idx.ts.push(t);
      idx.rel.push(r);
    }
    return idx;
  }
}
