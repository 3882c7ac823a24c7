import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, type LogConfig } from '../../src/storage/log.js';
import { parseTxnIndexFile, txnIndexFileName, TxnIndex } from '../../src/storage/txn-index.js';
import { buildControlBatch, buildRecordBatch, ControlRecordType, iterateBatches, iterateRecords, readBatchHeader } from '../../protocol/records/index.js';
import { tempDir } from './helpers.js';

const data = (pid: bigint, n = 2, transactional = true): Buffer => buildRecordBatch({
  producerId: pid, producerEpoch: 0, baseSequence: 0, isTransactional: transactional,
  records: Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: 1000n })),
});
const plain = (n = 1): Buffer => buildRecordBatch({ records: Array.from({ length: n }, () => ({ key: Buffer.from('k'), value: Buffer.from('p'), timestamp: 1000n })) });
const marker = (pid: bigint, commit: boolean): Buffer => buildControlBatch({
  type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1000n,
});

const keyed = (pid: bigint, key: string, value: string, transactional: boolean): Buffer => buildRecordBatch({
  producerId: pid, producerEpoch: pid < 0n ? -1 : 0, baseSequence: pid < 0n ? -1 : 0, isTransactional: transactional,
  records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: 1000n }],
});

async function open(dir: string, cfg: Partial<LogConfig> = {}): Promise<PartitionLog> {
  return PartitionLog.open(dir, { fileDeleteDelayMs: 0, ...cfg }, undefined, { checkpointIntervalMs: 0 });
}

describe('aborted-transaction index and last stable offset', () => {
  it('LSO: the oldest transaction whose marker is not below the high watermark; aborts go to the index', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir);
      const a = log.appendAsLeader(data(1n), 1);            // 0-1  txn A
      log.appendAsLeader(plain(), 1);                        // 2
      const b = log.appendAsLeader(data(2n), 1);            // 3-4  txn B
      assert.equal(log.lastStableOffset(log.logEndOffset), a.baseOffset);
      const abortA = log.appendAsLeader(marker(1n, false), 1); // 5
      // The marker is not yet below the high watermark: A still holds the LSO.
      assert.equal(log.lastStableOffset(abortA.baseOffset), a.baseOffset);
      assert.equal(log.lastStableOffset(abortA.baseOffset + 1n), b.baseOffset);
      const commitB = log.appendAsLeader(marker(2n, true), 1); // 6
      assert.equal(log.lastStableOffset(commitB.baseOffset + 1n), commitB.baseOffset + 1n);
      assert.deepEqual(log.collectAbortedTransactions(0n, log.logEndOffset), [
        { producerId: 1n, firstOffset: a.baseOffset, lastOffset: abortA.baseOffset, lastStableOffset: b.baseOffset },
      ]);
      // A fetch range past the abort marker does not overlap it; one inside A's data does.
      assert.deepEqual(log.collectAbortedTransactions(abortA.baseOffset + 1n, log.logEndOffset), []);
      assert.equal(log.collectAbortedTransactions(1n, 2n).length, 1);
      // A marker with no data (partition added, nothing written): an entry starting at the marker.
      const lone = log.appendAsLeader(marker(3n, false), 1);
      assert.deepEqual(log.collectAbortedTransactions(lone.baseOffset, log.logEndOffset).map((x) => x.firstOffset), [lone.baseOffset]);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('file round trip; a torn or corrupt file reads as missing', async () => {
    const t = tempDir();
    try {
      const idx = new TxnIndex(t.dir);
      idx.load([0n]);
      idx.observe(0n, data(7n), 0);
      // fix the marker's base offset to 2 as the log would have it
      const m = marker(7n, false); m.writeBigInt64BE(2n, 0);
      idx.observe(0n, m, 0);
      idx.onRoll(3n);
      idx.observe(3n, (() => { const d = data(8n); d.writeBigInt64BE(3n, 0); return d; })(), 0);
      await idx.writeDirty({ fdatasync: async () => {}, fsyncDir: async () => {} });
      const f0 = readFileSync(join(t.dir, txnIndexFileName(0n)));
      assert.deepEqual(parseTxnIndexFile(f0)?.aborted, [{ producerId: 7n, firstOffset: 0n, lastOffset: 2n, lastStableOffset: 3n }]);
      // Segment 3 opened with nothing open and has no abort yet: no file at all.
      assert.equal(existsSync(join(t.dir, txnIndexFileName(3n))), false);
      assert.equal(parseTxnIndexFile(f0.subarray(0, f0.length - 3)), undefined);
      const bad = Buffer.from(f0); bad[10]! ^= 1;
      assert.equal(parseTxnIndexFile(bad), undefined);
      const again = new TxnIndex(t.dir);
      again.load([0n, 3n]);
      assert.deepEqual(again.abortedIn(0n), [{ producerId: 7n, firstOffset: 0n, lastOffset: 2n, lastStableOffset: 3n }]);
    } finally { t.cleanup(); }
  });

  it('survives rolls, a clean reopen and an unclean one (crash: rebuilt from the segment snapshot)', async () => {
    const t = tempDir();
    try {
      const seg = { segmentBytes: 300 };
      let log = await open(t.dir, seg);
      const a = log.appendAsLeader(data(1n), 1);
      for (let i = 0; i < 4; i++) log.appendAsLeader(plain(), 1); // rolls while A is open
      log.appendAsLeader(marker(1n, false), 1);
      const b = log.appendAsLeader(data(2n), 1);
      for (let i = 0; i < 4; i++) log.appendAsLeader(plain(), 1);
      assert.ok(log.segmentCount >= 3, `segments: ${log.segmentCount}`);
      const aborted = log.collectAbortedTransactions(0n, log.logEndOffset);
      assert.equal(aborted.length, 1);
      const end = log.logEndOffset;
      await log.close();

      log = await open(t.dir, seg); // clean: the saved tail says B is open
      assert.equal(log.lastStableOffset(end), b.baseOffset);
      assert.deepEqual(log.collectAbortedTransactions(0n, end), aborted);
      log.appendAsLeader(plain(), 1);
      await log.flush(); // checkpoints: recovery point and txn files
      log.appendAsLeader(marker(2n, false), 1); // not flushed: lost... or not, the page cache keeps it
      // Abandon without close (a crash): recovery rescans from the recovery point's segment.
      const reopened = await open(t.dir, seg);
      assert.equal(reopened.lastStableOffset(reopened.logEndOffset), reopened.logEndOffset);
      const all = reopened.collectAbortedTransactions(0n, reopened.logEndOffset);
      assert.deepEqual(all.map((x) => [x.producerId, x.firstOffset]), [[1n, a.baseOffset], [2n, b.baseOffset]]);
      await reopened.close();
    } finally { t.cleanup(); }
  });

  it('a crash before any checkpoint: a full scan finds open transactions from the first segment', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir, { segmentBytes: 300 });
      const a = log.appendAsLeader(data(1n), 1);
      for (let i = 0; i < 6; i++) log.appendAsLeader(plain(), 1);
      // no flush, no close
      const reopened = await open(t.dir, { segmentBytes: 300 });
      assert.equal(reopened.lastStableOffset(reopened.logEndOffset), a.baseOffset);
      await reopened.close();
    } finally { t.cleanup(); }
  });

  it('truncation removes markers and index entries past the cut: the transaction is open again', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir, { segmentBytes: 300 });
      const a = log.appendAsLeader(data(1n), 1);
      for (let i = 0; i < 4; i++) log.appendAsLeader(plain(), 1);
      const abort = log.appendAsLeader(marker(1n, false), 1);
      for (let i = 0; i < 4; i++) log.appendAsLeader(plain(), 1);
      assert.equal(log.collectAbortedTransactions(0n, log.logEndOffset).length, 1);
      await log.truncateTo(abort.baseOffset);
      assert.equal(log.logEndOffset, abort.baseOffset);
      assert.deepEqual(log.collectAbortedTransactions(0n, log.logEndOffset + 10n), []);
      assert.equal(log.lastStableOffset(log.logEndOffset), a.baseOffset);
      // A new leader aborts it again: one entry, at the new marker.
      const again = log.appendAsLeader(marker(1n, false), 2);
      assert.deepEqual(log.collectAbortedTransactions(0n, log.logEndOffset).map((x) => x.lastOffset), [again.baseOffset]);
      await log.close();
      const reopened = await open(t.dir, { segmentBytes: 300 });
      assert.deepEqual(reopened.collectAbortedTransactions(0n, reopened.logEndOffset).map((x) => x.lastOffset), [again.baseOffset]);
      await reopened.close();
    } finally { t.cleanup(); }
  });

  it('compaction keeps the aborted-transaction entries of the segments it merges', async () => {
    const t = tempDir();
    try {
      const cfg = { segmentBytes: 300, cleanupPolicy: 'compact' as const, minCleanableDirtyRatio: 0, retentionMs: -1 };
      const log = await open(t.dir, cfg);
      for (let pid = 1n; pid <= 3n; pid++) {
        log.appendAsLeader(data(pid), 1);
        for (let i = 0; i < 3; i++) log.appendAsLeader(plain(), 1);
        log.appendAsLeader(marker(pid, false), 1);
      }
      for (let i = 0; i < 3; i++) log.appendAsLeader(plain(), 1);
      const before = log.collectAbortedTransactions(0n, log.logEndOffset);
      assert.equal(before.length, 3);
      const segmentsBefore = log.segmentCount;
      await log.close();
      // Larger segments from now on, so the cleaner may merge the small ones.
      const big = await open(t.dir, { ...cfg, segmentBytes: 1 << 20 });
      const stats = await big.compact({ highWatermark: big.logEndOffset, nowMs: 10_000_000 });
      assert.ok(stats.cleaned && big.segmentCount < segmentsBefore, `compaction merged segments (${segmentsBefore} -> ${big.segmentCount})`);
      assert.deepEqual(big.collectAbortedTransactions(0n, big.logEndOffset), before);
      await big.close();
      const reopened = await open(t.dir, cfg);
      assert.deepEqual(reopened.collectAbortedTransactions(0n, reopened.logEndOffset), before);
      await reopened.close();
    } finally { t.cleanup(); }
  });

  it('compaction as Kafka\'s cleaner: aborted records go, committed ones supersede, nothing past the LSO is cleaned', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir, { segmentBytes: 200, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 });
      log.appendAsLeader(keyed(-1n, 'a', 'plain-a', false), 1);
      log.appendAsLeader(keyed(1n, 'a', 'aborted-a', true), 1);
      log.appendAsLeader(marker(1n, false), 1);
      log.appendAsLeader(keyed(2n, 'a', 'committed-a', true), 1);
      log.appendAsLeader(marker(2n, true), 1);
      log.appendAsLeader(keyed(-1n, 'b', 'plain-b', false), 1);
      log.appendAsLeader(keyed(3n, 'b', 'open-b', true), 1); // never decided: the LSO stays here
      log.appendAsLeader(keyed(-1n, 'b', 'plain-b2', false), 1);
      log.appendAsLeader(keyed(-1n, 'c', 'active', false), 1);
      const end = log.logEndOffset;
      const stats = await log.compact({ highWatermark: end, nowMs: 10_000_000, retainEmptyBatches: true });
      assert.ok(stats.cleaned, `cleaned (${stats.skipped ?? ''})`);
      assert.ok(stats.firstUncleanableOffset <= log.lastStableOffset(end));
      const values: string[] = [];
      for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
        const { records, nextOffset } = await log.read(offset, 1 << 20);
        for (const span of iterateBatches(records)) {
          if (readBatchHeader(records, span.offset).isControl) continue;
          for (const r of iterateRecords(records, span.offset)) values.push(String(r.value));
        }
        offset = nextOffset;
      }
      // plain-b2 (past the LSO) does not supersede plain-b: nothing at or past the LSO is mapped.
      assert.deepEqual(values, ['committed-a', 'plain-b', 'open-b', 'plain-b2', 'active']);
      assert.equal(log.logEndOffset, end);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('retention deletes a segment\'s txn index with the segment', async () => {
    const t = tempDir();
    try {
      const cfg = { segmentBytes: 300, retentionMs: -1 };
      const log = await open(t.dir, cfg);
      for (let pid = 1n; pid <= 3n; pid++) {
        log.appendAsLeader(data(pid), 1);
        for (let i = 0; i < 3; i++) log.appendAsLeader(plain(), 1);
        log.appendAsLeader(marker(pid, false), 1);
      }
      log.appendAsLeader(plain(), 1);
      await log.flush();
      const before = log.collectAbortedTransactions(0n, log.logEndOffset);
      const firstEntrySegment = txnIndexFileName(log.segmentBaseOffsets.filter((b) => b <= before[0]!.lastOffset).pop()!);
      assert.ok(existsSync(join(t.dir, firstEntrySegment)));
      await log.deleteRecordsBefore(before[2]!.firstOffset);
      assert.ok(log.logStartOffset > before[0]!.lastOffset);
      assert.equal(existsSync(join(t.dir, firstEntrySegment)), false, 'the deleted segment\'s txn index is gone');
      const files = readdirSync(t.dir).filter((f) => f.endsWith('.txnindex'));
      const bases = new Set(log.segmentBaseOffsets.map((b) => txnIndexFileName(b)));
      for (const f of files) assert.ok(bases.has(f), `${f} belongs to a live segment`);
      assert.deepEqual(log.collectAbortedTransactions(log.logStartOffset, log.logEndOffset), before.slice(2));
      await log.close();
    } finally { t.cleanup(); }
  });

  it('the LSO never falls below the log start offset (retention cut into an open transaction)', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir, { segmentBytes: 300 });
      const a = log.appendAsLeader(data(1n), 1);
      for (let i = 0; i < 8; i++) log.appendAsLeader(plain(), 1);
      assert.equal(log.lastStableOffset(log.logEndOffset), a.baseOffset);
      await log.deleteRecordsBefore(5n);
      assert.ok(log.logStartOffset >= 5n);
      assert.equal(log.lastStableOffset(log.logEndOffset), log.logStartOffset);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('an orphan file of a merged-away segment joins the segment that now holds its offsets', async () => {
    const t = tempDir();
    try {
      const log = await open(t.dir);
      log.appendAsLeader(plain(5), 1);
      await log.close();
      // As if a compaction crashed after installing a merged segment at 0 but before rewriting
      // its txn file: the old segment 3's file is still there.
      const idx = new TxnIndex(t.dir);
      idx.load([3n]);
      const d = data(9n); d.writeBigInt64BE(3n, 0);
      idx.observe(3n, d, 0);
      const m = marker(9n, false); m.writeBigInt64BE(4n, 0);
      idx.observe(3n, m, 0);
      await idx.writeDirty({ fdatasync: async () => {}, fsyncDir: async () => {} });
      assert.ok(existsSync(join(t.dir, txnIndexFileName(3n))));
      const reopened = await open(t.dir);
      assert.deepEqual(reopened.collectAbortedTransactions(0n, 10n).map((x) => x.producerId), [9n]);
      reopened.appendAsLeader(plain(), 1);
      await reopened.close(); // rewrites segment 0's file with the entry and drops the orphan
      assert.equal(existsSync(join(t.dir, txnIndexFileName(3n))), false);
      const final = await open(t.dir);
      assert.deepEqual(final.collectAbortedTransactions(0n, 10n).map((x) => x.producerId), [9n]);
      await final.close();
    } finally { t.cleanup(); }
  });
});
