import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import {
  buildRecordBatch, iterateBatches, iterateRecords, readBatchHeader, CompressionType,
} from '../../protocol/records/index.js';
import { PartitionLog, CompactionInterrupted, DEFAULT_LOG_CONFIG, type LogConfig, type SwapStep } from '../../src/storage/log.js';
import { FdCache } from '../../src/storage/io.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from './helpers.js';

// ---- helpers ----

interface KV { key: string | null; value: string | null; ts?: bigint }

/** A real RecordBatch v2 (CRC32C) of key/value records. */
function kvBatch(records: KV[], opts: { compression?: CompressionType; producerId?: bigint; ts?: bigint } = {}): Buffer {
  return buildRecordBatch({
    records: records.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: r.ts ?? opts.ts ?? 1_000n,
    })),
    compression: opts.compression ?? CompressionType.NONE,
    ...(opts.producerId === undefined ? {} : { producerId: opts.producerId, producerEpoch: 0, baseSequence: 0 }),
  });
}

interface ReadRecord { offset: bigint; key: string | null; value: string | null; timestamp: bigint }

/**
 * Every record of the log via read() (one segment per read, as Fetch), checking that each
 * returned chunk is whole batches with valid CRC32C.
 */
async function readAll(log: PartitionLog, maxOffset?: bigint): Promise<{ records: ReadRecord[]; batches: number; codecs: number[] }> {
  const out: ReadRecord[] = [];
  const codecs: number[] = [];
  let batches = 0;
  let from = log.logStartOffset;
  for (;;) {
    const res = await log.read(from, 1 << 30, maxOffset);
    const bytes = res.records;
    if (bytes.length === 0) break;
    const it = iterateBatches(bytes, { verifyCrc: true });
    for (;;) {
      const n = it.next();
      if (n.done) { assert.equal(n.value, false, 'read returned a partial batch'); break; }
      batches++;
      const h = readBatchHeader(bytes, n.value.offset);
      codecs.push(h.compression);
      for (const r of iterateRecords(bytes, n.value.offset)) {
        out.push({
          offset: h.baseOffset + BigInt(r.offsetDelta),
          key: r.key === null ? null : r.key.toString(),
          value: r.value === null ? null : r.value.toString(),
          timestamp: h.baseTimestamp + r.timestampDelta,
        });
      }
    }
    assert.ok(res.nextOffset > from);
    from = res.nextOffset;
  }
  return { records: out, batches, codecs };
}

/** Kafka's compaction result for records below `end`: the latest record of each key; everything from `end` on. */
function expectedAfterCompaction(all: ReadRecord[], end: bigint): ReadRecord[] {
  const latest = new Map<string, bigint>();
  for (const r of all) if (r.offset < end && r.key !== null) latest.set(r.key, r.offset);
  return all.filter((r) => r.offset >= end || (r.key !== null && latest.get(r.key) === r.offset));
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'));
}

function segmentFile(dir: string, base: bigint): Buffer {
  return readFileSync(join(dir, `${base.toString().padStart(20, '0')}.log`));
}

const CFG: Partial<LogConfig> = { cleanupPolicy: 'compact', segmentBytes: 2048, indexIntervalBytes: 256, fileDeleteDelayMs: 0 };

let dirs = 0;
function openLog(root: string, name?: string, cfg: Partial<LogConfig> = {}): Promise<PartitionLog> {
  return PartitionLog.open(join(root, name ?? `p-${dirs++}`), { ...CFG, ...cfg }, undefined, { fdCache: new FdCache(64) });
}

/** Append `n` batches of `perBatch` records over `keys` keys (seeded), values unique. */
function fill(log: PartitionLog, rnd: Random, n: number, perBatch: number, keys: number, compression?: CompressionType): void {
  for (let b = 0; b < n; b++) {
    const recs: KV[] = [];
    for (let i = 0; i < perBatch; i++) recs.push({ key: `k${rnd.int(0, keys - 1)}`, value: `v${log.logEndOffset + BigInt(i)}` });
    log.appendAsLeader(kvBatch(recs, compression === undefined ? {} : { compression }), 1);
  }
}

describe('log compaction', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir('raftka-compaction-'); });
  after(() => t.cleanup());

  it('has Kafka defaults for the compaction configs', () => {
    assert.equal(DEFAULT_LOG_CONFIG.deleteRetentionMs, 86_400_000);
    assert.equal(DEFAULT_LOG_CONFIG.minCompactionLagMs, 0);
    assert.equal(DEFAULT_LOG_CONFIG.minCleanableDirtyRatio, 0.5);
  });

  it('keeps exactly the latest record of each key across segments, offsets unchanged, active segment untouched', async () => {
    const log = await openLog(t.dir);
    const rnd = new Random(42);
    fill(log, rnd, 120, 4, 15);
    await log.flush();
    const before = await readAll(log);
    const segsBefore = log.segmentCount;
    const active = log.segmentBaseOffsets.at(-1)!;
    const activeBytes = segmentFile(log.dir, active);
    const stats = await log.compact({ highWatermark: log.logEndOffset });
    assert.equal(stats.cleaned, true);
    assert.equal(stats.firstUncleanableOffset, active);
    assert.equal(stats.cleanedUpTo, active);
    const afterRead = await readAll(log);
    assert.deepEqual(afterRead.records, expectedAfterCompaction(before.records, active));
    assert.ok(stats.recordsRemoved > 0 && stats.recordsRemoved === before.records.length - afterRead.records.length);
    assert.deepEqual(segmentFile(log.dir, active), activeBytes, 'the active segment is byte-identical');
    assert.equal(log.segmentCount, segsBefore, 'full segments are not merged');
    assert.equal(log.logEndOffset, before.records.at(-1)!.offset + 1n);
    // every surviving offset is readable from itself, and a read from a removed offset starts at the next survivor
    for (const r of afterRead.records.slice(0, 20)) {
      const res = await log.read(r.offset, 1);
      assert.ok(res.firstOffset <= r.offset && res.nextOffset > r.offset);
    }
    // appends continue and a second pass with nothing new dirty does nothing
    fill(log, rnd, 1, 4, 15);
    const again = await log.compact({ highWatermark: log.logEndOffset });
    assert.equal(again.cleaned, false);
    assert.equal(again.skipped, 'nothing-cleanable');
    // the next pass groups the now small cleaned segments (each group fits segment.bytes)
    fill(log, rnd, 30, 4, 15);
    const before2 = await readAll(log);
    const segs2 = log.segmentCount;
    const third = await log.compact({ highWatermark: log.logEndOffset });
    assert.equal(third.cleaned, true);
    assert.ok(log.segmentCount < segs2, `small cleaned segments are grouped (${segs2} -> ${log.segmentCount})`);
    const afterRead2 = await readAll(log);
    assert.deepEqual(afterRead2.records, expectedAfterCompaction(before2.records, log.segmentBaseOffsets.at(-1)!));
    assert.deepEqual(leftovers(log.dir), []);
    // survives close and reopen, also with a full recovery scan (gaps between batches are legal)
    await log.close();
    const reopened = await PartitionLog.open(log.dir, CFG, undefined, { fdCache: new FdCache(8) });
    const afterReopen = await readAll(reopened);
    assert.deepEqual(afterReopen.records, afterRead2.records);
    assert.equal(reopened.firstDirtyOffset, third.cleanedUpTo);
    await reopened.close();
    unlinkSync(join(log.dir, 'recovery-point-checkpoint'));
    const scanned = await PartitionLog.open(log.dir, CFG, undefined, { fdCache: new FdCache(8) });
    assert.deepEqual((await readAll(scanned)).records, afterReopen.records);
    await scanned.close();
  });

  it('never touches segments at or above the high watermark', async () => {
    const log = await openLog(t.dir);
    fill(log, new Random(7), 80, 4, 5);
    await log.flush();
    const bases = log.segmentBaseOffsets;
    const hw = bases[Math.floor(bases.length / 2)]! + 2n; // inside a segment: that segment is uncleanable
    const cleanableEnd = bases[Math.floor(bases.length / 2)]!;
    const untouched = bases.filter((b) => b >= cleanableEnd).map((b) => [b, segmentFile(log.dir, b)] as const);
    const before = await readAll(log);
    const stats = await log.compact({ highWatermark: hw });
    assert.equal(stats.firstUncleanableOffset, cleanableEnd);
    for (const [b, bytes] of untouched) assert.deepEqual(segmentFile(log.dir, b), bytes, `segment ${b} unchanged`);
    assert.deepEqual((await readAll(log)).records, expectedAfterCompaction(before.records, cleanableEnd));
    await log.close();
  });

  it('respects min.compaction.lag.ms by batch timestamps', async () => {
    const log = await openLog(t.dir);
    for (let i = 0; i < 60; i++) log.appendAsLeader(kvBatch([{ key: 'a', value: `x${i}` }, { key: 'b', value: `y${i}` }], { ts: BigInt(1_000 + i * 100) }), 1);
    await log.flush();
    const now = 1_000 + 60 * 100;
    const lag = 3_000; // batches newer than ts 3000 are too young
    const stats = await log.compact({ highWatermark: log.logEndOffset, nowMs: now, minCompactionLagMs: lag });
    assert.equal(stats.cleaned, true);
    const { records } = await readAll(log);
    const end = stats.firstUncleanableOffset;
    assert.ok(end > 0n && end < log.segmentBaseOffsets.at(-1)!);
    assert.ok(records.every((r) => r.offset >= end || r.timestamp <= BigInt(now - lag)), 'cleaned section only holds old enough batches');
    assert.deepEqual(records.filter((r) => r.offset < end).map((r) => r.key).sort(), ['a', 'b']);
    await log.close();
  });

  it('cleans only when the dirty ratio exceeds min.cleanable.dirty.ratio', async () => {
    const log = await openLog(t.dir);
    fill(log, new Random(3), 100, 4, 100_000); // nearly all keys unique: the clean section stays big
    const first = await log.compact({ highWatermark: log.logEndOffset });
    assert.equal(first.cleaned, true);
    const segs = log.segmentCount;
    while (log.segmentCount < segs + 1) fill(log, new Random(4), 1, 4, 100_000); // roll one new dirty segment
    const skipped = await log.compact({ highWatermark: log.logEndOffset, minCleanableDirtyRatio: 0.99 });
    assert.equal(skipped.skipped, 'below-dirty-ratio');
    assert.ok(skipped.dirtyRatio > 0 && skipped.dirtyRatio <= 0.99);
    const done = await log.compact({ highWatermark: log.logEndOffset, minCleanableDirtyRatio: 0 });
    assert.equal(done.cleaned, true);
    await log.close();
  });

  it('keeps tombstones until delete.retention.ms after the pass that first cleaned them, then removes them', async () => {
    const log = await openLog(t.dir, undefined, { segmentBytes: 400 });
    const T = 1_000_000;
    log.appendAsLeader(kvBatch([{ key: 'a', value: 'a1' }, { key: 'b', value: 'b1' }], { ts: 5_000n }), 1);
    log.appendAsLeader(kvBatch([{ key: 'a', value: null, ts: 6_000n }, { key: 'c', value: 'c1', ts: 6_500n }]), 1);
    for (let i = 0; i < 8; i++) log.appendAsLeader(kvBatch([{ key: `f${i}`, value: 'x'.repeat(100) }], { ts: 7_000n }), 1);
    const retention = 10_000;
    const s1 = await log.compact({ highWatermark: log.logEndOffset, nowMs: T, deleteRetentionMs: retention, minCleanableDirtyRatio: 0 });
    assert.equal(s1.cleaned, true);
    let recs = (await readAll(log)).records;
    assert.deepEqual(recs.filter((r) => r.key === 'a').map((r) => r.value), [null], 'a1 is gone, the tombstone stays');
    const tomb = recs.find((r) => r.key === 'a')!;
    assert.equal(tomb.timestamp, 6_000n, 'record timestamps survive the delete-horizon rebase');
    assert.equal(recs.find((r) => r.key === 'c')!.timestamp, 6_500n);
    const { records: bytes } = await log.read(tomb.offset, 1);
    const h = readBatchHeader(bytes, 0);
    assert.equal(h.hasDeleteHorizon, true);
    assert.equal(h.baseTimestamp, BigInt(T + retention));
    assert.equal(h.maxTimestamp, 6_500n);

    const more = (): void => { for (let i = 0; i < 6; i++) log.appendAsLeader(kvBatch([{ key: `g${i}`, value: 'y'.repeat(100) }], { ts: 8_000n }), 1); };
    more();
    const s2 = await log.compact({ highWatermark: log.logEndOffset, nowMs: T + retention - 1, deleteRetentionMs: retention, minCleanableDirtyRatio: 0 });
    assert.equal(s2.cleaned, true);
    recs = (await readAll(log)).records;
    assert.deepEqual(recs.filter((r) => r.key === 'a').map((r) => r.value), [null], 'still inside delete.retention.ms');
    more();
    const s3 = await log.compact({ highWatermark: log.logEndOffset, nowMs: T + retention, deleteRetentionMs: retention, minCleanableDirtyRatio: 0 });
    assert.equal(s3.cleaned, true);
    assert.equal(s3.tombstonesRemoved, 1);
    recs = (await readAll(log)).records;
    assert.equal(recs.filter((r) => r.key === 'a').length, 0, 'tombstone removed after the horizon');
    assert.deepEqual(recs.filter((r) => r.key === 'b' || r.key === 'c').map((r) => r.value), ['b1', 'c1']);
    await log.close();
  });

  it('drops records without a key and drops emptied batches, except the last batch of a producer id', async () => {
    const log = await openLog(t.dir, undefined, { segmentBytes: 600 });
    log.appendAsLeader(kvBatch([{ key: null, value: 'nokey' }, { key: 'a', value: 'a1' }]), 1); // 0-1
    log.appendAsLeader(kvBatch([{ key: 'a', value: 'a2' }], { producerId: 7n }), 1); // 2: producer 7, superseded, not its last
    log.appendAsLeader(kvBatch([{ key: 'a', value: 'a3' }], { producerId: 7n }), 1); // 3: producer 7's last batch, superseded
    log.appendAsLeader(kvBatch([{ key: 'b', value: 'b1' }]), 1); // 4: superseded, no producer: dropped
    log.appendAsLeader(kvBatch([{ key: 'a', value: 'a4' }, { key: 'b', value: 'b2' }]), 1); // 5-6
    for (let i = 0; i < 8; i++) log.appendAsLeader(kvBatch([{ key: `f${i}`, value: 'x'.repeat(120) }]), 1);
    const s = await log.compact({ highWatermark: log.logEndOffset, minCleanableDirtyRatio: 0 });
    assert.equal(s.keylessRemoved, 1);
    const { records } = await readAll(log);
    assert.deepEqual(records.filter((r) => r.offset < 7n).map((r) => [r.offset, r.value]), [[5n, 'a4'], [6n, 'b2']]);
    const { records: bytes } = await log.read(0n, 1 << 20, 7n);
    const headers = [...iterateBatches(bytes)].map((sp) => readBatchHeader(bytes, sp.offset));
    assert.deepEqual(headers.map((h) => [h.baseOffset, h.recordsCount, h.producerId]), [[3n, 0, 7n], [5n, 2, -1n]],
      'batches 0 (now empty), 2 and 4 are dropped; producer 7 keeps its last batch as an empty header');
    assert.equal(headers[0]!.lastOffsetDelta, 0);
    await log.close();
  });

  it('with retainEmptyBatches, batch offset ranges stay contiguous so a replica can appendAsFollower the compacted log', async () => {
    const log = await openLog(t.dir);
    fill(log, new Random(5), 80, 4, 4);
    const before = await readAll(log);
    const active = log.segmentBaseOffsets.at(-1)!;
    const s = await log.compact({ highWatermark: log.logEndOffset, retainEmptyBatches: true });
    assert.equal(s.cleaned, true);
    assert.equal(s.batchesDropped, 0);
    const follower = await openLog(t.dir);
    let from = log.logStartOffset;
    while (from < log.logEndOffset) {
      const r = await log.read(from, 1 << 20);
      follower.appendAsFollower(Buffer.from(r.records));
      from = r.nextOffset;
    }
    assert.equal(follower.logEndOffset, log.logEndOffset);
    assert.deepEqual((await readAll(follower)).records, expectedAfterCompaction(before.records, active));
    await follower.close();
    await log.close();
  });

  it('decompresses, filters and recompresses with the same codec', async () => {
    for (const codec of [CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]) {
      const log = await openLog(t.dir);
      fill(log, new Random(codec), 60, 8, 6, codec);
      const before = await readAll(log);
      const active = log.segmentBaseOffsets.at(-1)!;
      const s = await log.compact({ highWatermark: log.logEndOffset });
      assert.equal(s.cleaned, true);
      assert.ok(s.batchesRewritten > 0);
      const after = await readAll(log);
      assert.deepEqual(after.records, expectedAfterCompaction(before.records, active));
      assert.ok(after.codecs.every((c) => c === codec), `codec ${codec} kept`);
      await log.close();
    }
  });

  it('applies retention first with cleanup.policy=compact,delete', async () => {
    const log = await openLog(t.dir, undefined, { cleanupPolicy: 'compact,delete', retentionMs: 1_000 });
    for (let i = 0; i < 40; i++) log.appendAsLeader(kvBatch([{ key: `k${i % 3}`, value: 'v'.repeat(100) }], { ts: BigInt(i < 20 ? 1_000 : 100_000) }), 1);
    const s = await log.compact({ highWatermark: log.logEndOffset, nowMs: 100_500 });
    assert.ok(s.retentionDeletedSegments > 0);
    assert.ok(log.logStartOffset > 0n);
    const { records } = await readAll(log);
    assert.ok(records.every((r) => r.offset >= log.logStartOffset));
    await log.close();
  });

  it('does not block appends and reads while it runs', async () => {
    const log = await openLog(t.dir);
    const rnd = new Random(11);
    fill(log, rnd, 150, 4, 10);
    const running = log.compact({ highWatermark: log.logEndOffset });
    const busy = await log.compact({ highWatermark: log.logEndOffset });
    assert.equal(busy.skipped, 'busy');
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      fill(log, rnd, 1, 4, 10);
      reads.push(readAll(log));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(reads); // every read during the swap saw whole, valid batches
    const s = await running;
    assert.equal(s.cleaned, true);
    const { records } = await readAll(log);
    for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset);
    assert.equal(records.at(-1)!.offset, log.logEndOffset - 1n);
    await log.close();
  });
});

describe('log compaction crash safety', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir('raftka-compaction-crash-'); });
  after(() => t.cleanup());

  const steps: SwapStep[] = ['cleaned', 'swap', 'deleted-first-old', 'deleted-old'];
  for (const step of steps) {
    it(`recovers a consistent log after a crash right after step '${step}'`, async () => {
      const dir = join(t.dir, step);
      const log = await PartitionLog.open(dir, CFG, undefined, { fdCache: new FdCache(16) });
      fill(log, new Random(99), 100, 4, 8);
      await log.flush();
      const before = await readAll(log);
      const active = log.segmentBaseOffsets.at(-1)!;
      await assert.rejects(log.compact({ highWatermark: log.logEndOffset, stopAfter: step }), CompactionInterrupted);
      // The process "dies" here: the old object is abandoned, a new one opens the same directory.
      const reopened = await PartitionLog.open(dir, CFG, undefined, { fdCache: new FdCache(16) });
      assert.deepEqual(leftovers(dir), [], 'no .cleaned or .swap file survives recovery');
      const after = await readAll(reopened);
      // The first group is either fully swapped in (steps after the commit point) or not at all.
      const firstGroupEnd = step === 'cleaned' ? 0n : reopened.segmentBaseOffsets[1]!;
      const expected = expectedAfterCompaction(before.records, active)
        .filter((r) => r.offset < firstGroupEnd)
        .concat(before.records.filter((r) => r.offset >= firstGroupEnd));
      assert.deepEqual(after.records, expected);
      assert.equal(reopened.logEndOffset, log.logEndOffset);
      // The log works: append, and a full compaction pass converges to Kafka's result.
      reopened.appendAsLeader(kvBatch([{ key: 'k0', value: 'late' }]), 2);
      const s = await reopened.compact({ highWatermark: reopened.logEndOffset, minCleanableDirtyRatio: 0 });
      assert.equal(s.cleaned, true);
      assert.deepEqual((await readAll(reopened, active)).records, expectedAfterCompaction(before.records, active).filter((r) => r.offset < active));
      await reopened.close();
    });
  }
});
