/**
 * Transactions as the log sees them, on every replica (Kafka's TransactionIndex plus the part of
 * ProducerStateManager that decides the last stable offset).
 *
 * Per segment, `<base>.txnindex` holds:
 *  - the transactions open at the segment's base offset (producer id, first offset): where a
 *    rescan of this segment (crash recovery, truncation) starts, like Kafka's producer snapshot
 *    taken at each roll;
 *  - the aborted transactions whose ABORT marker lies in the segment (producer id, first offset,
 *    marker offset, last stable offset after the marker), as Kafka's `.txnindex`: a read_committed
 *    fetch collects the aborted transactions overlapping its range from here, without reading data;
 *  - on a clean close only, for the active segment: the open transactions at the log end and the
 *    markers not yet known committed, so a clean reopen needs no scan.
 *
 * File format (big-endian): "RTXN", version int16 (1), open count int32 + (pid int64, first int64)*,
 * aborted count int32 + (pid, first, last, lso: 4 int64)*, tail flag int8 (+ end offset int64, open
 * count int32 + (pid, first)*, completed count int32 + (pid, first, marker)*), crc32 (zlib) of all
 * that precedes. Written whole and atomically (temp + rename, durable) with the log's checkpoints,
 * before the recovery point: a recovery point on disk always has the txn files of the segments
 * below it on disk. A segment without a file has no open transactions at its base and no aborts.
 */
import { existsSync, readdirSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic, type StorageIo } from './io.js';
import { walkBatchesSync } from './segment.js';

const MAGIC = 'RTXN';
const UNSTABLE_MAGIC = 'RTXU';
/** Markers not yet known below the high watermark, as of the last checkpoint (see writeDirty). */
const UNSTABLE_CHECKPOINT = 'txn-unstable-checkpoint';
const VERSION = 1;
const SUFFIX = '.txnindex';
const FILE = /^(\d{20})\.txnindex$/;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const OFF_ATTRIBUTES = 21;
const OFF_PRODUCER_ID = 43;
const RECORDS_OFFSET = 61;
/** Control record types of transaction markers (ControlRecordType ABORT / COMMIT). */
const ABORT = 0;
const COMMIT = 1;

/** One aborted transaction (Kafka's AbortedTxn): its data lies in [firstOffset, lastOffset), the ABORT marker at lastOffset. */
export interface AbortedTxn {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /** The partition's last stable offset right after the marker (bounds the index search). */
  readonly lastStableOffset: bigint;
}

/** A transaction whose marker is in the log: open for read_committed until the marker is below the high watermark. */
export interface CompletedTxn {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
  readonly markerOffset: bigint;
  readonly commit: boolean;
}

interface SegmentTxns {
  /** Transactions open at the segment's base offset: producer id → first offset. */
  open: Map<bigint, bigint>;
  aborted: AbortedTxn[];
  /** Bases of the files holding this segment's entries (several after compaction merged segments). */
  files: bigint[];
  dirty: boolean;
  tail?: { endOffset: bigint; open: Map<bigint, bigint>; completed: CompletedTxn[] };
}

export function txnIndexFileName(base: bigint): string { return `${base.toString().padStart(20, '0')}${SUFFIX}`; }

/** The aborted-transaction index and open-transaction tracking of one partition log. */
export class TxnIndex {
  private readonly segs = new Map<bigint, SegmentTxns>();
  /** Transactions with data in the log and no marker yet: producer id → first offset. */
  private ongoing = new Map<bigint, bigint>();
  /** Transactions whose marker is in the log but may not be below the high watermark yet, oldest first. */
  private completed: CompletedTxn[] = [];
  private lastHighWatermark = -1n;
  private unstableFileExists = false;

  constructor(private readonly dir: string) {}

  /** Transactions open at the log end (producer id → first offset). */
  openTransactions(): ReadonlyMap<bigint, bigint> { return this.ongoing; }

  // ---- load ------------------------------------------------------------------------------

  /**
   * Read every `.txnindex` file of the directory for segments `bases` (ascending). A file whose
   * base is not a segment (left behind by a compaction that merged segments) joins the segment
   * containing it; files below the first segment are deleted.
   */
  load(bases: readonly bigint[]): void {
    this.segs.clear();
    for (const b of bases) this.segs.set(b, emptySeg(b));
    const found: bigint[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = FILE.exec(name);
      if (m !== null) found.push(BigInt(m[1]!));
    }
    found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const fb of found) {
      const path = join(this.dir, txnIndexFileName(fb));
      let owner: bigint | undefined;
      for (const b of bases) if (b <= fb) owner = b;
      if (owner === undefined) { unlinkQuietly(path); continue; }
      const parsed = parseTxnIndexFile(readFileSync(path));
      const seg = this.segs.get(owner)!;
      if (parsed === undefined) { seg.dirty = true; continue; } // corrupt: the segment is rescanned or loses nothing it can know
      if (fb === owner) { seg.open = parsed.open; seg.tail = parsed.tail; } else { seg.files.push(fb); seg.dirty = true; }
      seg.aborted.push(...parsed.aborted);
    }
    for (const seg of this.segs.values()) seg.aborted.sort((a, b) => (a.lastOffset < b.lastOffset ? -1 : a.lastOffset > b.lastOffset ? 1 : 0));
    // Markers that were not known committed at the last checkpoint: a replay from the recovery
    // point's segment re-adds those at or after it; the ones before it only come from here.
    const unstablePath = join(this.dir, UNSTABLE_CHECKPOINT);
    this.unstableFileExists = existsSync(unstablePath);
    this.completed = this.unstableFileExists ? parseUnstable(readFileSync(unstablePath)) ?? [] : [];
    this.ongoing = new Map();
  }

  /**
   * Clean open: adopt the state saved at close. 'none' when close saved nothing (no open
   * transaction, no unstable marker: nothing to adopt), 'stale' when the saved state does not
   * describe this log end (the caller replays the active segment).
   */
  adoptTail(activeBase: bigint, logEndOffset: bigint): 'adopted' | 'none' | 'stale' {
    const seg = this.segs.get(activeBase) ?? this.addSeg(activeBase);
    const tail = seg.tail;
    seg.tail = undefined;
    this.ongoing = new Map();
    if (tail === undefined) { this.completed = []; return 'none'; }
    seg.dirty = true; // rewrite without the tail: it is only valid until the next append
    if (tail.endOffset !== logEndOffset) return 'stale'; // keeps the checkpointed unstable markers
    this.ongoing = new Map(tail.open);
    this.completed = [...tail.completed];
    return 'adopted';
  }

  // ---- scans -----------------------------------------------------------------------------

  /**
   * Start replaying segment `base` from its beginning (recovery, truncation, a clean open
   * without a usable tail): the open transactions become its snapshot, its aborts and every
   * later marker are forgotten (the replay adds them back).
   */
  beginSegmentScan(base: bigint): void {
    const seg = this.segs.get(base) ?? this.addSeg(base);
    seg.aborted = [];
    seg.tail = undefined;
    seg.dirty = true;
    this.ongoing = new Map(seg.open);
    this.completed = this.completed.filter((c) => c.markerOffset < base);
  }

  /** A later segment reached during the same replay: its snapshot is what is open now. */
  enterSegment(base: bigint): void {
    const seg = this.segs.get(base) ?? this.addSeg(base);
    seg.open = new Map(this.ongoing);
    seg.aborted = [];
    seg.tail = undefined;
    seg.dirty = true;
  }

  /** Replay segment `base` (a file of `size` bytes, open as `fd`) up to its end; beginSegmentScan/enterSegment first. */
  scanFile(base: bigint, fd: number, size: number): void {
    for (const step of walkBatchesSync(fd, 0, size, false)) {
      if (step.problem !== undefined) break;
      this.observeAt(base, fd, step.position, step.header.attributes, step.header.size);
    }
  }

  /** Like observe(), for a batch in a file (read only when transactional). */
  observeAt(base: bigint, fd: number, position: number, attributes: number, size: number): void {
    if ((attributes & ATTR_TRANSACTIONAL) === 0) return;
    const head = Buffer.allocUnsafe((attributes & ATTR_CONTROL) !== 0 ? Math.min(size, 256) : RECORDS_OFFSET);
    let n = 0;
    while (n < head.length) { const r = readSync(fd, head, n, head.length - n, position + n); if (r === 0) break; n += r; }
    if (n >= RECORDS_OFFSET) this.observe(base, head.subarray(0, n), 0);
  }

  // ---- appends ---------------------------------------------------------------------------

  /** A new active segment starting at `base`: it opens with the transactions open now. */
  onRoll(base: bigint): void {
    const seg = this.addSeg(base);
    seg.open = new Map(this.ongoing);
    seg.dirty = seg.open.size > 0 || existsSync(join(this.dir, txnIndexFileName(base)));
  }

  /** The batch at `buf[pos]` was appended to segment `base`. Cheap for non-transactional batches. */
  observe(base: bigint, buf: Buffer, pos: number): void {
    const attributes = buf.readInt16BE(pos + OFF_ATTRIBUTES);
    if ((attributes & ATTR_TRANSACTIONAL) === 0) return;
    const producerId = buf.readBigInt64BE(pos + OFF_PRODUCER_ID);
    if (producerId < 0n) return;
    const offset = buf.readBigInt64BE(pos);
    if ((attributes & ATTR_CONTROL) === 0) {
      if (!this.ongoing.has(producerId)) this.ongoing.set(producerId, offset);
      return;
    }
    const type = markerType(buf, pos);
    if (type !== ABORT && type !== COMMIT) return;
    const firstOffset = this.ongoing.get(producerId) ?? offset;
    this.ongoing.delete(producerId);
    this.completed.push({ producerId, firstOffset, markerOffset: offset, commit: type === COMMIT });
    if (this.completed.length > 1024 && this.lastHighWatermark >= 0n) this.prune(this.lastHighWatermark);
    if (type === ABORT) {
      let lso = offset + 1n;
      for (const first of this.ongoing.values()) if (first < lso) lso = first;
      const seg = this.segs.get(base) ?? this.addSeg(base);
      seg.aborted.push({ producerId, firstOffset, lastOffset: offset, lastStableOffset: lso });
      seg.dirty = true;
    }
  }

  // ---- queries ---------------------------------------------------------------------------

  /**
   * Kafka's last stable offset: the first offset of the oldest transaction not completed by a
   * marker below the high watermark, or the high watermark when there is none.
   */
  lastStableOffset(highWatermark: bigint): bigint {
    this.prune(highWatermark);
    let lso = highWatermark;
    for (const first of this.ongoing.values()) if (first < lso) lso = first;
    for (const c of this.completed) if (c.firstOffset < lso) lso = c.firstOffset;
    return lso;
  }

  /** The high watermark moved (every replica): forget markers now below it. */
  noteHighWatermark(highWatermark: bigint): void {
    if (this.completed.length > 0) this.prune(highWatermark); else this.lastHighWatermark = highWatermark;
  }

  /** Completed transactions whose marker is not below the high watermark yet (for tests and tools). */
  unstableCompleted(): readonly CompletedTxn[] { return this.completed; }

  /**
   * The aborted transactions overlapping [fetchOffset, upperBound), searching the segments
   * `bases` (ascending, from the one holding fetchOffset) as Kafka's collectAbortedTransactions.
   */
  collectAborted(bases: Iterable<bigint>, fetchOffset: bigint, upperBound: bigint): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (const b of bases) {
      const seg = this.segs.get(b);
      if (seg === undefined) continue;
      // Entries are in marker order: skip those ending before fetchOffset (binary search). Their
      // last stable offset is at most their marker + 1 <= fetchOffset, so none could end the search.
      const list = seg.aborted;
      let lo = 0, hi = list.length;
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (list[mid]!.lastOffset < fetchOffset) lo = mid + 1; else hi = mid; }
      for (let i = lo; i < list.length; i++) {
        const a = list[i]!;
        if (a.firstOffset < upperBound) out.push(a);
        if (a.lastStableOffset >= upperBound) return out;
      }
    }
    return out;
  }

  /** Aborted entries of one segment (tests, tools). */
  abortedIn(base: bigint): readonly AbortedTxn[] { return this.segs.get(base)?.aborted ?? []; }

  // ---- segment lifecycle -----------------------------------------------------------------

  /** The log was emptied and restarts at `base` (a follower behind its leader's log start): nothing of before is kept. */
  reset(base: bigint): void {
    for (const b of [...this.segs.keys()]) this.dropSegment(b);
    this.segs.set(base, emptySeg(base));
    this.ongoing = new Map();
    this.completed = [];
    unlinkQuietly(join(this.dir, UNSTABLE_CHECKPOINT));
    this.unstableFileExists = false;
  }

  /** Segment `base` is gone (retention, truncation): its files too. */
  dropSegment(base: bigint): void {
    const seg = this.segs.get(base);
    this.segs.delete(base);
    for (const f of seg?.files ?? [base]) unlinkQuietly(join(this.dir, txnIndexFileName(f)));
  }

  /**
   * Truncation cut segment `base` at `newEnd`: its entries at or past the cut go; the caller then
   * replays the segment (beginSegmentScan + scanFile) to rebuild the open transactions.
   */
  truncatedSegment(base: bigint): void {
    this.beginSegmentScan(base);
  }

  /** Compaction replaced segments `oldBases` (ascending) by one segment at `oldBases[0]`. */
  merged(oldBases: readonly bigint[]): void {
    const first = this.segs.get(oldBases[0]!) ?? this.addSeg(oldBases[0]!);
    for (const b of oldBases.slice(1)) {
      const s = this.segs.get(b);
      this.segs.delete(b);
      if (s === undefined) continue;
      first.aborted.push(...s.aborted);
      for (const f of s.files) if (!first.files.includes(f)) first.files.push(f);
      first.dirty = true;
    }
  }

  /** Remember the open transactions and unstable markers at `logEndOffset` in the active segment's file (close). */
  saveTail(activeBase: bigint, logEndOffset: bigint): void {
    const seg = this.segs.get(activeBase) ?? this.addSeg(activeBase);
    if (this.ongoing.size === 0 && this.completed.length === 0) {
      if (seg.tail !== undefined) { seg.tail = undefined; seg.dirty = true; }
      return;
    }
    seg.tail = { endOffset: logEndOffset, open: new Map(this.ongoing), completed: [...this.completed] };
    seg.dirty = true;
  }

  /**
   * Write the files of changed segments (durably), drop merged-away files, and checkpoint the
   * markers not yet known below the high watermark. Called before the recovery point is
   * checkpointed.
   */
  async writeDirty(io: StorageIo): Promise<void> {
    const unstablePath = join(this.dir, UNSTABLE_CHECKPOINT);
    if (this.completed.length > 0) {
      await writeFileAtomic(unstablePath, serializeUnstable(this.completed), true, io);
      this.unstableFileExists = true;
    } else if (this.unstableFileExists) {
      unlinkQuietly(unstablePath);
      this.unstableFileExists = false;
    }
    for (const [base, seg] of [...this.segs]) {
      if (!seg.dirty) continue;
      seg.dirty = false;
      const path = join(this.dir, txnIndexFileName(base));
      if (seg.open.size === 0 && seg.aborted.length === 0 && seg.tail === undefined) {
        unlinkQuietly(path);
      } else {
        try {
          await writeFileAtomic(path, serializeTxnIndex(seg), true, io);
        } catch (e) {
          seg.dirty = true;
          throw e;
        }
      }
      if (this.segs.get(base) !== seg) { unlinkQuietly(path); continue; } // dropped meanwhile
      for (const f of seg.files) if (f !== base) unlinkQuietly(join(this.dir, txnIndexFileName(f)));
      seg.files = [base];
    }
  }

  private prune(highWatermark: bigint): void {
    this.lastHighWatermark = highWatermark;
    if (this.completed.length > 0 && this.completed[0]!.markerOffset < highWatermark) {
      this.completed = this.completed.filter((c) => c.markerOffset >= highWatermark);
    }
  }

  private addSeg(base: bigint): SegmentTxns {
    const seg = emptySeg(base);
    this.segs.set(base, seg);
    return seg;
  }
}

function emptySeg(base: bigint): SegmentTxns {
  return { open: new Map(), aborted: [], files: [base], dirty: false };
}

function unlinkQuietly(path: string): void {
  try { unlinkSync(path); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
}

/** The control record type of the (single, uncompressed) record of the control batch at `pos`; -1 if unreadable. */
function markerType(buf: Buffer, pos: number): number {
  // record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint, key
  let p = pos + RECORDS_OFFSET;
  const end = buf.length;
  const skipVarint = (): number => {
    let raw = 0, shift = 0;
    for (;;) {
      if (p >= end || shift > 63) return Number.NaN;
      const byte = buf[p++]!;
      if (shift < 28) raw |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    return (raw >>> 1) ^ -(raw & 1);
  };
  skipVarint(); // length
  p += 1; // attributes
  skipVarint(); // timestamp delta
  skipVarint(); // offset delta
  const keyLength = skipVarint();
  if (!(keyLength >= 4) || p + 4 > end) return -1;
  return buf.readInt16BE(p + 2);
}

function serializeTxnIndex(seg: SegmentTxns): Buffer {
  const tail = seg.tail;
  const size = 4 + 2 + 4 + seg.open.size * 16 + 4 + seg.aborted.length * 32 + 1
    + (tail === undefined ? 0 : 8 + 4 + tail.open.size * 16 + 4 + tail.completed.length * 25) + 4;
  const b = Buffer.alloc(size);
  let p = b.write(MAGIC, 0, 'latin1');
  p = b.writeInt16BE(VERSION, p);
  p = b.writeInt32BE(seg.open.size, p);
  for (const [pid, first] of seg.open) { p = b.writeBigInt64BE(pid, p); p = b.writeBigInt64BE(first, p); }
  p = b.writeInt32BE(seg.aborted.length, p);
  for (const a of seg.aborted) {
    p = b.writeBigInt64BE(a.producerId, p); p = b.writeBigInt64BE(a.firstOffset, p);
    p = b.writeBigInt64BE(a.lastOffset, p); p = b.writeBigInt64BE(a.lastStableOffset, p);
  }
  p = b.writeInt8(tail === undefined ? 0 : 1, p);
  if (tail !== undefined) {
    p = b.writeBigInt64BE(tail.endOffset, p);
    p = b.writeInt32BE(tail.open.size, p);
    for (const [pid, first] of tail.open) { p = b.writeBigInt64BE(pid, p); p = b.writeBigInt64BE(first, p); }
    p = b.writeInt32BE(tail.completed.length, p);
    for (const c of tail.completed) {
      p = b.writeBigInt64BE(c.producerId, p); p = b.writeBigInt64BE(c.firstOffset, p);
      p = b.writeBigInt64BE(c.markerOffset, p); p = b.writeInt8(c.commit ? 1 : 0, p);
    }
  }
  b.writeUInt32BE(crc32(b.subarray(0, p)), p);
  return b;
}

/** Parses a `.txnindex` file; undefined when it is torn or corrupt. Exported for tests. */
export function parseTxnIndexFile(b: Buffer): Pick<SegmentTxns, 'open' | 'aborted' | 'tail'> | undefined {
  try {
    if (b.length < 4 + 2 + 4 + 4 + 1 + 4 || b.toString('latin1', 0, 4) !== MAGIC || b.readInt16BE(4) !== VERSION) return undefined;
    if (crc32(b.subarray(0, b.length - 4)) !== b.readUInt32BE(b.length - 4)) return undefined;
    let p = 6;
    const readOpen = (): Map<bigint, bigint> => {
      const n = b.readInt32BE(p); p += 4;
      const m = new Map<bigint, bigint>();
      for (let i = 0; i < n; i++) { m.set(b.readBigInt64BE(p), b.readBigInt64BE(p + 8)); p += 16; }
      return m;
    };
    const open = readOpen();
    const na = b.readInt32BE(p); p += 4;
    const aborted: AbortedTxn[] = [];
    for (let i = 0; i < na; i++) {
      aborted.push({ producerId: b.readBigInt64BE(p), firstOffset: b.readBigInt64BE(p + 8), lastOffset: b.readBigInt64BE(p + 16), lastStableOffset: b.readBigInt64BE(p + 24) });
      p += 32;
    }
    let tail: SegmentTxns['tail'];
    if (b.readInt8(p++) === 1) {
      const endOffset = b.readBigInt64BE(p); p += 8;
      const tailOpen = readOpen();
      const nc = b.readInt32BE(p); p += 4;
      const completed: CompletedTxn[] = [];
      for (let i = 0; i < nc; i++) {
        completed.push({ producerId: b.readBigInt64BE(p), firstOffset: b.readBigInt64BE(p + 8), markerOffset: b.readBigInt64BE(p + 16), commit: b.readInt8(p + 24) === 1 });
        p += 25;
      }
      tail = { endOffset, open: tailOpen, completed };
    }
    if (p !== b.length - 4) return undefined;
    return { open, aborted, tail };
  } catch {
    return undefined;
  }
}

function serializeUnstable(completed: readonly CompletedTxn[]): Buffer {
  const b = Buffer.alloc(4 + 4 + completed.length * 25 + 4);
  let p = b.write(UNSTABLE_MAGIC, 0, 'latin1');
  p = b.writeInt32BE(completed.length, p);
  for (const c of completed) {
    p = b.writeBigInt64BE(c.producerId, p); p = b.writeBigInt64BE(c.firstOffset, p);
    p = b.writeBigInt64BE(c.markerOffset, p); p = b.writeInt8(c.commit ? 1 : 0, p);
  }
  b.writeUInt32BE(crc32(b.subarray(0, p)), p);
  return b;
}

function parseUnstable(b: Buffer): CompletedTxn[] | undefined {
  try {
    if (b.length < 12 || b.toString('latin1', 0, 4) !== UNSTABLE_MAGIC) return undefined;
    if (crc32(b.subarray(0, b.length - 4)) !== b.readUInt32BE(b.length - 4)) return undefined;
    const n = b.readInt32BE(4);
    if (8 + n * 25 + 4 !== b.length) return undefined;
    const out: CompletedTxn[] = [];
    for (let i = 0, p = 8; i < n; i++, p += 25) {
      out.push({ producerId: b.readBigInt64BE(p), firstOffset: b.readBigInt64BE(p + 8), markerOffset: b.readBigInt64BE(p + 16), commit: b.readInt8(p + 24) === 1 });
    }
    return out;
  } catch {
    return undefined;
  }
}
