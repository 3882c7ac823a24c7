import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, OffsetOutOfRangeError, InvalidRecordError, StorageStateError, DEFAULT_LOG_CONFIG } from '../../src/storage/log.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeBatch, valuesBatch, batchesIn, testVerifyCrc } from './batches.js';
import { tempDir, countingIo } from './helpers.js';

describe('PartitionLog basics', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir(); });
  after(() => t.cleanup());

  it('has Kafka defaults', () => {
    assert.equal(DEFAULT_LOG_CONFIG.segmentBytes, 1073741824);
    assert.equal(DEFAULT_LOG_CONFIG.retentionMs, 604800000);
    assert.equal(DEFAULT_LOG_CONFIG.indexIntervalBytes, 4096);
    assert.equal(DEFAULT_LOG_CONFIG.retentionBytes, -1);
    assert.equal(DEFAULT_LOG_CONFIG.cleanupPolicy, 'delete');
  });

  it('assigns offsets, patches base offset and epoch in place, and reads the same bytes back', async () => {
    const log = await PartitionLog.open(join(t.dir, 'a-0'));
    assert.equal(log.logEndOffset, 0n);
    assert.equal(log.lastEpoch, -1);
    const b1 = valuesBatch(3), b2 = valuesBatch(2);
    const two = Buffer.concat([b1, b2]);
    assert.deepEqual(log.appendAsLeader(two, 5), { baseOffset: 0n, lastOffset: 4n });
    assert.deepEqual(batchesIn(two).map((b) => [b.baseOffset, b.epoch]), [[0n, 5], [3n, 5]]);
    const b3 = valuesBatch(1);
    assert.deepEqual(log.appendAsLeader(b3, 6), { baseOffset: 5n, lastOffset: 5n });
    assert.equal(log.logEndOffset, 6n);
    assert.equal(log.lastEpoch, 6);
    const r = await log.read(0n, 1 << 20);
    assert.deepEqual(r.records, Buffer.concat([two, b3]));
    assert.equal(r.firstOffset, 0n);
    assert.equal(r.nextOffset, 6n);
    assert.ok(testVerifyCrc(r.records, 0), 'patching base offset and epoch keeps the CRC valid');
    await log.close();
  });

  it('reads from the batch containing the offset, honours maxBytes (first batch whole) and maxOffset', async () => {
    const log = await PartitionLog.open(join(t.dir, 'b-0'));
    for (let i = 0; i < 10; i++) log.appendAsLeader(valuesBatch(2), 1); // offsets 0..19, batches of 2
    const size = batchesIn((await log.read(0n, 1)).records)[0]!.size;
    const mid = await log.read(7n, size * 2);
    assert.deepEqual(batchesIn(mid.records).map((b) => b.baseOffset), [6n, 8n]);
    assert.equal(mid.firstOffset, 6n);
    assert.equal(mid.nextOffset, 10n);
    const tiny = await log.read(0n, 1);
    assert.equal(batchesIn(tiny.records).length, 1, 'one whole batch even when larger than maxBytes');
    const capped = await log.read(0n, 1 << 20, 5n);
    assert.deepEqual(batchesIn(capped.records).map((b) => b.baseOffset), [0n, 2n], 'batch 4..5 crosses maxOffset 5');
    const none = await log.read(4n, 1 << 20, 5n);
    assert.equal(none.records.length, 0);
    const atEnd = await log.read(20n, 100);
    assert.equal(atEnd.records.length, 0);
    assert.equal(atEnd.nextOffset, 20n);
    await assert.rejects(log.read(21n, 100), OffsetOutOfRangeError);
    await assert.rejects(log.read(-1n, 100), OffsetOutOfRangeError);
    await log.close();
  });

  it('rejects malformed batches without changing the log', async () => {
    const log = await PartitionLog.open(join(t.dir, 'c-0'));
    const bad = valuesBatch(2);
    bad.writeInt8(1, 16); // magic 1
    assert.throws(() => log.appendAsLeader(bad, 0), InvalidRecordError);
    const torn = valuesBatch(2).subarray(0, 40);
    assert.throws(() => log.appendAsLeader(torn, 0), InvalidRecordError);
    assert.throws(() => log.appendAsLeader(Buffer.alloc(0), 0), InvalidRecordError);
    assert.equal(log.logEndOffset, 0n);
    log.appendAsLeader(valuesBatch(1), 3);
    assert.throws(() => log.appendAsLeader(valuesBatch(1), 2), StorageStateError, 'epochs never go backwards');
    await log.close();
  });

  it('follower appends keep offsets and epochs and must start at the log end', async () => {
    const log = await PartitionLog.open(join(t.dir, 'd-0'));
    const a = makeBatch([{ value: 'x' }, { value: 'y' }], { baseOffset: 0n, epoch: 2 });
    const b = makeBatch([{ value: 'z' }], { baseOffset: 2n, epoch: 4 });
    assert.deepEqual(log.appendAsFollower(Buffer.concat([a, b])), { baseOffset: 0n, lastOffset: 2n });
    assert.deepEqual(log.epochEntries, [{ epoch: 2, startOffset: 0n }, { epoch: 4, startOffset: 2n }]);
    assert.throws(() => log.appendAsFollower(makeBatch([{ value: 'w' }], { baseOffset: 5n, epoch: 4 })), StorageStateError);
    assert.throws(() => log.appendAsFollower(makeBatch([{ value: 'w' }], { baseOffset: 3n, epoch: 3 })), StorageStateError);
    await log.close();
  });
});

describe('PartitionLog segments, epochs and truncation', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir(); });
  after(() => t.cleanup());

  it('rolls on segment.bytes and segment.ms, names files by base offset, reads across segments', async () => {
    const clock = new ManualClock(1_000_000);
    const dir = join(t.dir, 'roll-0');
    const batchSize = valuesBatch(5).length;
    const log = await PartitionLog.open(dir, { segmentBytes: batchSize * 4, segmentMs: 60_000, indexIntervalBytes: 100 }, undefined, { clock });
    for (let i = 0; i < 10; i++) log.appendAsLeader(valuesBatch(5), 1); // 4 batches per segment
    assert.deepEqual(log.segmentBaseOffsets, [0n, 20n, 40n]);
    clock.advance(60_001);
    log.appendAsLeader(valuesBatch(5), 1);
    assert.deepEqual(log.segmentBaseOffsets, [0n, 20n, 40n, 50n], 'segment.ms rolled a non-full segment');
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    assert.deepEqual(files, ['00000000000000000000.log', '00000000000000000020.log', '00000000000000000040.log', '00000000000000000050.log']);
    assert.ok(readdirSync(dir).includes('00000000000000000020.index'));
    assert.ok(readdirSync(dir).includes('00000000000000000020.timeindex'));
    for (let o = 0n; o < 55n; o += 3n) {
      const r = await log.read(o, 1);
      const [b] = batchesIn(r.records);
      assert.ok(b !== undefined && b.baseOffset <= o && o <= b.lastOffset, `offset ${o}`);
    }
    // a fetch returns data from one segment only (as Kafka does)
    const r = await log.read(15n, 1 << 20);
    assert.deepEqual([r.firstOffset, r.nextOffset], [15n, 20n]);
    await log.close();
    const again = await PartitionLog.open(dir, { segmentBytes: batchSize * 4, indexIntervalBytes: 100 }, undefined, { clock });
    assert.equal(again.logEndOffset, 55n);
    for (let o = 0n; o < 55n; o += 7n) assert.equal(batchesIn((await again.read(o, 1)).records)[0]!.baseOffset, o - (o % 5n));
    await again.close();
  });

  it('answers epoch questions with Kafka OffsetForLeaderEpoch semantics', async () => {
    const log = await PartitionLog.open(join(t.dir, 'epochs-0'));
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: -1, endOffset: -1n });
    log.appendAsLeader(valuesBatch(10), 1); // 0..9
    log.appendAsLeader(valuesBatch(10), 3); // 10..19
    log.appendAsLeader(valuesBatch(10), 4); // 20..29
    assert.equal(log.epochStartOffset(3), 10n);
    assert.equal(log.epochStartOffset(2), undefined);
    assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 4, endOffset: 30n }, 'latest epoch ends at the log end');
    assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 20n });
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 10n }, 'largest epoch <= requested');
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 0n }, 'below every epoch: the first start offset');
    assert.deepEqual(log.endOffsetForEpoch(7), { epoch: -1, endOffset: -1n });
    assert.equal(log.epochAt(0n), 1);
    assert.equal(log.epochAt(19n), 3);
    assert.equal(log.epochAt(29n), 4);
    assert.equal(log.epochAt(30n), undefined);
    await log.close();
  });

  it('truncates across segment boundaries, drops later epochs, refuses to go below the commit point, and persists it', async () => {
    const dir = join(t.dir, 'trunc-0');
    const cfg = { segmentBytes: valuesBatch(5).length * 2 };
    const io = countingIo();
    const log = await PartitionLog.open(dir, cfg, undefined, { io });
    for (let i = 0; i < 8; i++) log.appendAsLeader(valuesBatch(5), i < 3 ? 1 : i < 6 ? 2 : 3); // 40 offsets, segments of 10
    await log.flush();
    assert.deepEqual(log.segmentBaseOffsets, [0n, 10n, 20n, 30n]);
    await assert.rejects(log.truncateTo(12n, 20n), StorageStateError);
    await log.truncateTo(12n, 10n); // inside batch 10..14: the whole batch goes
    assert.equal(log.logEndOffset, 10n);
    assert.deepEqual(log.segmentBaseOffsets, [0n, 10n]);
    assert.deepEqual(log.epochEntries, [{ epoch: 1, startOffset: 0n }, { epoch: 2, startOffset: 15n }].slice(0, 1));
    assert.ok(log.flushedOffset <= 10n);
    assert.equal(log.epochAt(9n), 1);
    // the follower then takes the leader's suffix
    log.appendAsFollower(makeBatch([{ value: 'n1' }, { value: 'n2' }], { baseOffset: 10n, epoch: 5 }));
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 10n });
    await log.flush();
    // crash-reopen (no close): the truncation and the new suffix are what recovery sees
    const reopened = await PartitionLog.open(dir, cfg);
    assert.equal(reopened.logEndOffset, 12n);
    assert.deepEqual(reopened.epochEntries, [{ epoch: 1, startOffset: 0n }, { epoch: 5, startOffset: 10n }]);
    const r = await reopened.read(10n, 1 << 20);
    assert.deepEqual(batchesIn(r.records).map((b) => [b.baseOffset, b.epoch]), [[10n, 5]]);
    await reopened.truncateTo(0n);
    assert.equal(reopened.logEndOffset, 0n);
    assert.equal(reopened.lastEpoch, -1);
    await reopened.close();
    await log.close().catch(() => undefined);
  });
});

describe('PartitionLog flush (group commit)', () => {
  it('shares one fdatasync among concurrent flush() calls and reports the durable end', async () => {
    const t = tempDir();
    try {
      const io = countingIo();
      const log = await PartitionLog.open(join(t.dir, 'f-0'), {}, undefined, { io, checkpointIntervalMs: 1e9 });
      io.syncs = 0;
      log.appendAsLeader(valuesBatch(1), 0);
      const first = log.flush();
      const waves: Promise<bigint>[] = [];
      for (let i = 0; i < 100; i++) { log.appendAsLeader(valuesBatch(1), 0); waves.push(log.flush()); }
      assert.equal(await first, 1n);
      const results = await Promise.all(waves);
      assert.ok(results.every((r) => r === 101n), 'callers that arrived during the first fsync share the second');
      assert.equal(io.syncs, 2);
      assert.equal(log.flushedOffset, 101n);
      assert.equal(await log.flush(), 101n);
      assert.equal(io.syncs, 2, 'nothing new: no fsync');
      await log.close();
    } finally { t.cleanup(); }
  });
});

describe('PartitionLog time index', () => {
  it('finds the first record at or after a timestamp (ListOffsets)', async () => {
    const t = tempDir();
    try {
      const log = await PartitionLog.open(join(t.dir, 'ts-0'), { indexIntervalBytes: 50, segmentBytes: 600 });
      for (let i = 0; i < 20; i++) {
        log.appendAsLeader(makeBatch([{ value: 'a', timestamp: BigInt(1000 + i * 10) }, { value: 'b', timestamp: BigInt(1005 + i * 10) }]), 0);
      }
      assert.ok(log.segmentCount > 2);
      assert.deepEqual(await log.offsetForTimestamp(0n), { offset: 0n, timestamp: 1000n });
      assert.deepEqual(await log.offsetForTimestamp(1005n), { offset: 1n, timestamp: 1005n });
      assert.deepEqual(await log.offsetForTimestamp(1101n), { offset: 21n, timestamp: 1105n });
      assert.deepEqual(await log.offsetForTimestamp(1190n), { offset: 38n, timestamp: 1190n });
      assert.equal(await log.offsetForTimestamp(2000n), undefined);
      await log.close();
    } finally { t.cleanup(); }
  });
});

describe('PartitionLog retention', () => {
  it('deletes whole old segments by size and by time, moves and persists the log start offset', async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'ret-0');
      const bs = valuesBatch(5).length;
      const cfg = { segmentBytes: bs * 2, retentionBytes: bs * 5, retentionMs: 10_000, fileDeleteDelayMs: 0 };
      const log = await PartitionLog.open(dir, cfg);
      for (let i = 0; i < 10; i++) log.appendAsLeader(makeBatch(Array.from({ length: 5 }, () => ({ value: 'x', timestamp: BigInt(i * 1000) }))), i);
      assert.equal(log.segmentCount, 5);
      // size: 10 batches, keep <= 5 batches' worth in whole segments; HW bounds what may go
      assert.equal(await log.deleteOldSegments(0, 10n), 1, 'the high watermark protects segments above it');
      assert.equal(log.logStartOffset, 10n);
      assert.equal(await log.deleteOldSegments(0), 1);
      assert.equal(log.logStartOffset, 20n);
      assert.equal(await log.deleteOldSegments(0), 0, '6 batches left: deleting a 2-batch segment would go below 5');
      await assert.rejects(log.read(19n, 100), OffsetOutOfRangeError);
      assert.equal(batchesIn((await log.read(20n, 1)).records)[0]!.baseOffset, 20n);
      // the epoch of the last deleted offset (19, epoch 3) stays known, at 19: a Raft log's last
      // epoch below its start (an epoch starting exactly at the log start would hide it otherwise)
      assert.deepEqual(log.epochEntries.slice(0, 2), [{ epoch: 3, startOffset: 19n }, { epoch: 4, startOffset: 20n }]);
      // time: segments whose newest record is older than retention.ms (the active one is kept)
      assert.equal(await log.deleteOldSegments(15_500), 1); // 20..29 max ts 5000 expired; 30..39 (7000) not
      assert.equal(log.logStartOffset, 30n);
      assert.equal(await log.deleteOldSegments(100_000), 1, 'never the active segment');
      assert.equal(log.logStartOffset, 40n);
      assert.equal(readdirSync(dir).filter((f) => f.endsWith('.log')).length, 1);
      // DeleteRecords inside the active segment
      assert.equal(await log.deleteRecordsBefore(45n), 45n);
      await log.close();
      const again = await PartitionLog.open(dir, cfg);
      assert.equal(again.logStartOffset, 45n);
      assert.equal(again.logEndOffset, 50n);
      await assert.rejects(again.read(44n, 10), OffsetOutOfRangeError);
      await again.close();
    } finally { t.cleanup(); }
  });

  it('keeps the epoch of the last deleted offset when DeleteRecords empties the log, across a reopen', async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'ret-empty-0');
      const log = await PartitionLog.open(dir);
      log.appendAsLeader(valuesBatch(5), 2);
      log.appendAsLeader(valuesBatch(5), 3);
      await log.flush();
      assert.equal(await log.deleteRecordsBefore(10n), 10n);
      assert.deepEqual(log.epochEntries, [{ epoch: 3, startOffset: 9n }]);
      assert.equal(log.lastEpoch, 3);
      await log.close();
      const again = await PartitionLog.open(dir);
      assert.equal(again.logStartOffset, 10n);
      assert.equal(again.logEndOffset, 10n);
      assert.equal(again.lastEpoch, 3, 'the empty log still knows the epoch of offset 9');
      await again.close();
    } finally { t.cleanup(); }
  });
});

describe('PartitionLog truncateFullyAndStartAt', () => {
  it('restarts the log empty at the offset, keeping the epoch of the entry just below it durably (a Raft follower reset to its leader\'s log start)', async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'reset-0');
      const log = await PartitionLog.open(dir);
      log.appendAsLeader(valuesBatch(3), 7); // a diverged log: 0..2@7
      await log.flush();
      await log.truncateFullyAndStartAt(20n, 4);
      assert.equal(log.logStartOffset, 20n);
      assert.equal(log.logEndOffset, 20n);
      assert.deepEqual(log.epochEntries, [{ epoch: 4, startOffset: 19n }]);
      assert.equal(log.lastEpoch, 4);
      // crash (no close): the checkpoint written by the reset is what recovery sees
      const crashed = await PartitionLog.open(dir);
      assert.equal(crashed.logStartOffset, 20n);
      assert.equal(crashed.logEndOffset, 20n);
      assert.deepEqual(crashed.epochEntries, [{ epoch: 4, startOffset: 19n }]);
      // the leader's entries follow; an entry of the same epoch continues it
      crashed.appendAsFollower(makeBatch([{ value: 'a' }, { value: 'b' }], { baseOffset: 20n, epoch: 4 }));
      crashed.appendAsFollower(makeBatch([{ value: 'c' }], { baseOffset: 22n, epoch: 6 }));
      assert.deepEqual(crashed.epochEntries, [{ epoch: 4, startOffset: 19n }, { epoch: 6, startOffset: 22n }]);
      assert.equal(crashed.epochAt(20n), 4);
      await crashed.truncateTo(20n);
      assert.equal(crashed.lastEpoch, 4, 'a truncation back to the start keeps the epoch below it');
      await crashed.close();
      const clean = await PartitionLog.open(dir);
      assert.deepEqual(clean.epochEntries, [{ epoch: 4, startOffset: 19n }]);
      // without an epoch (unknown), the emptied log has none
      await clean.truncateFullyAndStartAt(30n);
      assert.deepEqual(clean.epochEntries, []);
      await clean.close();
      await log.close().catch(() => undefined);
    } finally { t.cleanup(); }
  });
});

describe('PartitionLog files', () => {
  it('keeps index files consistent with the log after close', async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'idx-0');
      const log = await PartitionLog.open(dir, { indexIntervalBytes: 10 });
      for (let i = 0; i < 20; i++) log.appendAsLeader(valuesBatch(1), 0);
      await log.close();
      assert.equal(statSync(join(dir, '00000000000000000000.index')).size % 8, 0);
      assert.ok(statSync(join(dir, '00000000000000000000.index')).size >= 8 * 18);
      assert.equal(statSync(join(dir, '00000000000000000000.timeindex')).size % 12, 0);
    } finally { t.cleanup(); }
  });
});
