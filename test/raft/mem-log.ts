import type { RaftHardStateStore, RaftLog, StoredHardState } from '../../src/raft/group.js';

/**
 * An in-memory RaftLog for host tests (storage itself is tested with PartitionLog): batches as
 * appended, epochs from their headers; it cannot restart at a leader's log start.
 */
export class MemLog implements RaftLog {
  private batches: { base: bigint; last: bigint; epoch: number; bytes: Buffer }[] = [];
  readonly logStartOffset = 0n;
  get logEndOffset(): bigint { const b = this.batches[this.batches.length - 1]; return b === undefined ? 0n : b.last + 1n; }
  get epochEntries(): { epoch: number; startOffset: bigint }[] {
    const out: { epoch: number; startOffset: bigint }[] = [];
    for (const b of this.batches) if (out.length === 0 || out[out.length - 1]!.epoch !== b.epoch) out.push({ epoch: b.epoch, startOffset: b.base });
    return out;
  }
  appendAsFollower(buf: Buffer): { baseOffset: bigint; lastOffset: bigint } {
    const first = this.logEndOffset;
    for (let pos = 0; pos < buf.length;) {
      const size = 12 + buf.readInt32BE(pos + 8);
      const base = buf.readBigInt64BE(pos);
      if (base !== this.logEndOffset) throw new Error(`append at ${base}, end ${this.logEndOffset}`);
      this.batches.push({ base, last: base + BigInt(buf.readInt32BE(pos + 23)), epoch: buf.readInt32BE(pos + 12), bytes: buf.subarray(pos, pos + size) });
      pos += size;
    }
    return { baseOffset: first, lastOffset: this.logEndOffset - 1n };
  }
  flush(): Promise<bigint> { return Promise.resolve(this.logEndOffset); }
  /** Memory is as durable as this log gets. */
  get flushedOffset(): bigint { return this.logEndOffset; }
  read(from: bigint, maxBytes: number): Promise<{ records: Buffer; firstOffset: bigint; nextOffset: bigint }> {
    const out: Buffer[] = []; let bytes = 0; let next = from;
    for (const b of this.batches) {
      if (b.last < from) continue;
      if (out.length > 0 && bytes + b.bytes.length > maxBytes) break;
      out.push(b.bytes); bytes += b.bytes.length; next = b.last + 1n;
    }
    return Promise.resolve({ records: Buffer.concat(out), firstOffset: from, nextOffset: next });
  }
  truncateTo(offset: bigint): Promise<void> { this.batches = this.batches.filter((b) => b.last < offset); return Promise.resolve(); }
  truncateFullyAndStartAt(): Promise<void> { return Promise.reject(new Error('not supported by this test log')); }
}

export class MemHardState implements RaftHardStateStore {
  private readonly m = new Map<string, StoredHardState>();
  get(g: string): StoredHardState | undefined { return this.m.get(g); }
  set(g: string, s: StoredHardState): Promise<void> { this.m.set(g, { ...s }); return Promise.resolve(); }
}
