// The log's read path: reads that start where the segment knows the batch (recent batches or an
// offset-index entry) read just the bytes they may return; every read returns what a reference
// over the stored batches returns (whole batches of one segment, the first whole even past
// maxBytes, nothing at or past the limit), before and after a reopen (index path only).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { Segment } from '../../src/storage/segment.js';
import { Random } from '../../src/util/random.js';
import { makeBatch } from './batches.js';
import { tempDir } from './helpers.js';

interface Stored { base: bigint; last: bigint; bytes: Buffer }

/** What read(from, maxBytes, limit) must return, computed from the stored batches and segment bases. */
function expected(stored: Stored[], segmentBases: bigint[], logEnd: bigint, from: bigint, maxBytes: number, maxOffset?: bigint): { records: Buffer; nextOffset: bigint } {
  const limit = maxOffset === undefined || maxOffset > logEnd ? logEnd : maxOffset;
  if (from >= limit) return { records: Buffer.alloc(0), nextOffset: from };
  let seg = 0;
  for (let i = 0; i < segmentBases.length; i++) if (segmentBases[i]! <= from) seg = i;
  for (; seg < segmentBases.length; seg++) {
    const lo = segmentBases[seg]!, hi = segmentBases[seg + 1] ?? logEnd;
    const inSeg = stored.filter((b) => b.base >= lo && b.base < hi);
    const first = inSeg.findIndex((b) => b.last >= from);
    if (first < 0) continue;
    const budget = Math.max(maxBytes, inSeg[first]!.bytes.length);
    const out: Buffer[] = [];
    let used = 0, next = from;
    for (let i = first; i < inSeg.length; i++) {
      const b = inSeg[i]!;
      if (b.last >= limit || used + b.bytes.length > budget) break;
      out.push(b.bytes);
      used += b.bytes.length;
      next = b.last + 1n;
    }
    return { records: Buffer.concat(out), nextOffset: next };
  }
  return { records: Buffer.alloc(0), nextOffset: from };
}

async function fill(dir: string, rnd: Random, batches: number, config: { segmentBytes: number; indexIntervalBytes: number }): Promise<{ log: PartitionLog; stored: Stored[] }> {
  const log = await PartitionLog.open(dir, config);
  const stored: Stored[] = [];
  for (let i = 0; i < batches; i++) {
    const n = rnd.int(1, 4);
    const batch = makeBatch(Array.from({ length: n }, (_, j) => ({ key: `k${i}-${j}`, value: Buffer.alloc(rnd.int(5, 400), i) })));
    const { baseOffset, lastOffset } = log.appendAsLeader(batch, 1);
    stored.push({ base: baseOffset, last: lastOffset, bytes: Buffer.from(batch) });
  }
  return { log, stored };
}

async function checkAll(log: PartitionLog, stored: Stored[], rnd: Random): Promise<number> {
  const bases = log.segmentBaseOffsets, end = log.logEndOffset;
  const boundaries = stored.map((b) => b.base);
  let checked = 0;
  for (let from = 0n; from <= end; from++) {
    for (const maxBytes of [0, 1, 90, 700, 2500, 1 << 20]) {
      const limits: (bigint | undefined)[] = [undefined, boundaries[rnd.int(0, boundaries.length - 1)], BigInt(rnd.int(0, Number(end)))];
      for (const limit of limits) {
        const got = await log.read(from, maxBytes, limit);
        const want = expected(stored, bases, end, from, maxBytes, limit);
        assert.deepEqual(got.records, want.records, `read(${from}, ${maxBytes}, ${limit}) returns the reference batches`);
        assert.equal(got.nextOffset, want.nextOffset, `read(${from}, ${maxBytes}, ${limit}) next offset`);
        checked++;
      }
    }
  }
  return checked;
}

describe('PartitionLog read path', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir(); });
  after(() => t.cleanup());

  for (const shape of [
    { name: 'many small segments', segmentBytes: 3000, indexIntervalBytes: 200, batches: 90 },
    { name: 'one active segment longer than the recent batches', segmentBytes: 1 << 20, indexIntervalBytes: 600, batches: 120 },
  ]) {
    it(`returns what the stored batches say for every offset, size and limit (${shape.name}), also after a reopen`, async () => {
      const rnd = new Random(4242 + shape.batches);
      const dir = join(t.dir, `model-${shape.batches}`);
      const { log, stored } = await fill(dir, rnd, shape.batches, shape);
      assert.ok(await checkAll(log, stored, rnd) > 1000);
      await log.close();
      const again = await PartitionLog.open(dir, shape);
      await checkAll(again, stored, rnd);
      await again.close();
    });
  }

  for (const indexIntervalBytes of [1, 4096]) it(`a sequential reader reads only what it may return: one file read per call, no read-ahead slack (index interval ${indexIntervalBytes})`, async () => {
    const rnd = new Random(7);
    const dir = join(t.dir, `sequential-${indexIntervalBytes}`);
    // With a sparse index (4096) most fetch offsets are not index entries: after the first read
    // the segment's cursor of where the last read ended makes them exact.
    const config = { segmentBytes: 1 << 20, indexIntervalBytes };
    const { log, stored } = await fill(dir, rnd, 150, config);
    const maxBatch = Math.max(...stored.map((b) => b.bytes.length));
    const readAt = Segment.prototype.readAt;
    for (const reopen of [false, true]) {
      const l = reopen ? await PartitionLog.open(dir, config) : log;
      if (reopen) await log.close();
      let calls = 0, bytesRead = 0;
      Segment.prototype.readAt = async function (this: Segment, position: number, length: number): Promise<Buffer> {
        calls++; bytesRead += length;
        return readAt.call(this, position, length);
      };
      try {
        let reads = 0, returned = 0;
        for (let off = 0n; off < l.logEndOffset; reads++) {
          const r = await l.read(off, 2000);
          returned += r.records.length;
          off = r.nextOffset;
        }
        assert.equal(returned, stored.reduce((n, b) => n + b.bytes.length, 0));
        assert.equal(calls, reads, `one file read per log read (reopened: ${reopen})`);
        // At most the 2,000 bytes a read may return (or the one batch it must), never 64 KiB of slack.
        assert.ok(bytesRead <= reads * Math.max(2000, maxBatch) + 64 * 1024, `${bytesRead} bytes read for ${returned} returned in ${reads} reads`);
      } finally {
        Segment.prototype.readAt = readAt;
      }
      if (reopen) await l.close();
    }
  });

  it('a cursor left by a read does not survive a truncation: reads after it return the new batches', async () => {
    const rnd = new Random(99);
    const dir = join(t.dir, 'truncated');
    const config = { segmentBytes: 1 << 20, indexIntervalBytes: 4096 };
    const { log, stored } = await fill(dir, rnd, 40, config);
    await log.close();
    const again = await PartitionLog.open(dir, config); // no recent batches: cursors and the index only
    let off = 0n;
    const cursorOffsets: bigint[] = [];
    for (let i = 0; i < 5; i++) { off = (await again.read(off, 1500)).nextOffset; cursorOffsets.push(off); } // leaves cursors
    const cut = stored[stored.findIndex((b) => b.last >= off) - 2]!.base; // below the newest cursor
    await again.truncateTo(cut);
    const kept = stored.filter((b) => b.last < cut);
    for (let i = 0; i < 100; i++) { // more than the segment's recent batches, so reads near the cut consult cursors
      const batch = makeBatch([{ value: Buffer.alloc(rnd.int(1, 900), i) }, { value: 'x' }]);
      const { baseOffset, lastOffset } = again.appendAsLeader(batch, 2);
      kept.push({ base: baseOffset, last: lastOffset, bytes: Buffer.from(batch) });
    }
    for (const from of cursorOffsets.reverse()) { // first the offsets the old cursors name
      const want = expected(kept, again.segmentBaseOffsets, again.logEndOffset, from, 1500);
      assert.deepEqual((await again.read(from, 1500)).records, want.records, `read from ${from} after the truncation`);
    }
    assert.ok(await checkAll(again, kept, rnd) > 1000);
    await again.close();
  });

  it('a read bounded by a high watermark the recent batches know stops reading there', async () => {
    const dir = join(t.dir, 'bounded');
    const log = await PartitionLog.open(dir);
    const batch = (i: number): Buffer => makeBatch([{ value: Buffer.alloc(1000, i) }, { value: Buffer.alloc(1000, i) }]);
    for (let i = 0; i < 20; i++) log.appendAsLeader(batch(i), 1); // offsets 0..39
    const readAt = Segment.prototype.readAt;
    let bytesRead = 0;
    Segment.prototype.readAt = async function (this: Segment, position: number, length: number): Promise<Buffer> {
      bytesRead += length;
      return readAt.call(this, position, length);
    };
    try {
      const r = await log.read(10n, 1 << 20, 16n);
      assert.equal(r.firstOffset, 10n);
      assert.equal(r.nextOffset, 16n);
      assert.equal(bytesRead, r.records.length, 'only the three batches below the limit are read');
      const none = await log.read(16n, 1 << 20, 16n);
      assert.equal(none.records.length, 0);
      const inside = await log.read(17n, 1 << 20, 17n);
      assert.equal(inside.records.length, 0, 'the batch holding the limit is not returned');
    } finally {
      Segment.prototype.readAt = readAt;
    }
    await log.close();
  });

  it('a first batch larger than maxBytes is returned whole through the exact-position path', async () => {
    const dir = join(t.dir, 'big-first');
    const config = { indexIntervalBytes: 1 };
    const log = await PartitionLog.open(dir, config);
    const big = makeBatch([{ value: Buffer.alloc(200_000, 1) }]);
    const small = makeBatch([{ value: 'x' }]);
    log.appendAsLeader(Buffer.from(small), 1);
    log.appendAsLeader(Buffer.from(big), 1);
    log.appendAsLeader(Buffer.from(small), 1);
    await log.close();
    const again = await PartitionLog.open(dir, config); // index path: the size of batch 1 is unknown
    const r = await again.read(1n, 70_000);
    assert.equal(r.records.length, big.length);
    assert.equal(r.nextOffset, 2n);
    await again.close();
  });
});
