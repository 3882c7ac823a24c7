import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, openSync, readFileSync, closeSync, writeSync, unlinkSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, LogCorruptionError, type LogConfig } from '../../src/storage/log.js';
import { pino } from 'pino';
import { valuesBatch, batchesIn, testVerifyCrc } from './batches.js';
import { tempDir } from './helpers.js';

const SEG0 = '00000000000000000000.log';
const BATCH = valuesBatch(4).length; // every batch in these tests has 4 records

/** A logger that keeps warnings in memory, to check that recovery says what it did. */
function recordingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => { lines.push(s); } });
  return { logger, lines };
}

/**
 * Writes `flushed` batches and flushes them (the recovery point follows every flush here), then
 * `unflushed` more without a flush, and abandons the log as a crash would.
 */
async function crashedLog(dir: string, flushed: number, unflushed: number, cfg: Partial<LogConfig> = {}): Promise<void> {
  const log = await PartitionLog.open(dir, { verifyCrc: testVerifyCrc, ...cfg }, undefined, { checkpointIntervalMs: 0 });
  for (let i = 0; i < flushed; i++) log.appendAsLeader(valuesBatch(4), 1);
  await log.flush();
  for (let i = 0; i < unflushed; i++) log.appendAsLeader(valuesBatch(4), 2);
}

function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  const data = readFileSync(path);
  b[0] = data[position]! ^ 0xff;
  writeSync(fd, b, 0, 1, position);
  closeSync(fd);
}

describe('recovery after an unclean stop', () => {
  it('keeps every whole batch of an unflushed tail that survived', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 3);
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc });
      assert.equal(log.logEndOffset, 32n);
      assert.equal(log.flushedOffset, 32n, 'recovery makes what it kept durable');
      assert.deepEqual(log.epochEntries, [{ epoch: 1, startOffset: 0n }, { epoch: 2, startOffset: 20n }]);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('cuts a torn tail (partial batch) and says so', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 0);
      appendFileSync(join(t.dir, SEG0), valuesBatch(4).subarray(0, 30));
      const { logger, lines } = recordingLogger();
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc }, logger);
      assert.equal(log.logEndOffset, 20n);
      assert.equal(statSync(join(t.dir, SEG0)).size, 5 * BATCH);
      assert.ok(lines.some((l) => l.includes('truncated a torn or corrupt tail')), lines.join('\n'));
      log.appendAsLeader(valuesBatch(4), 3);
      assert.equal(log.logEndOffset, 24n);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('cuts at a CRC failure in the unflushed tail and never serves that batch', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 3);
      flipByte(join(t.dir, SEG0), 6 * BATCH + 70); // inside batch 6 (offsets 24..27), a record byte
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc });
      assert.equal(log.logEndOffset, 24n);
      const r = await log.read(0n, 1 << 20);
      assert.deepEqual(batchesIn(r.records).map((b) => b.baseOffset), [0n, 4n, 8n, 12n, 16n, 20n]);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('refuses to open when a batch below the recovery point (durable data) is corrupt', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 3);
      flipByte(join(t.dir, SEG0), 2 * BATCH + 70);
      await assert.rejects(PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc }), (e: unknown) => {
        assert.ok(e instanceof LogCorruptionError);
        assert.match(e.message, /recovery point 20.*CRC mismatch|CRC mismatch.*recovery point/s);
        return true;
      });
      // an operator (or Raft, which re-replicates) may choose to cut there instead
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc }, undefined, { onCorruption: 'truncate' });
      assert.equal(log.logEndOffset, 8n);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('refuses to open when the log file lost durable data (truncated file)', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 0);
      truncateSync(join(t.dir, SEG0), 3 * BATCH);
      await assert.rejects(PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc }), LogCorruptionError);
    } finally { t.cleanup(); }
  });

  it('rebuilds a deleted or corrupt index and reads correctly', async () => {
    const t = tempDir();
    try {
      const dir = t.dir;
      const cfg = { segmentBytes: BATCH * 10, indexIntervalBytes: 1 };
      const log = await PartitionLog.open(dir, cfg);
      for (let i = 0; i < 25; i++) log.appendAsLeader(valuesBatch(4), 1);
      await log.close();
      unlinkSync(join(dir, '00000000000000000000.index'));
      writeFileSync(join(dir, '00000000000000000040.index'), Buffer.alloc(40, 0xff));
      const { logger, lines } = recordingLogger();
      const again = await PartitionLog.open(dir, cfg, logger);
      for (let o = 0n; o < 100n; o += 3n) assert.equal(batchesIn((await again.read(o, 1)).records)[0]!.baseOffset, o - (o % 4n));
      assert.equal(lines.filter((l) => l.includes('rebuilt it from the log')).length, 2, lines.join('\n'));
      assert.ok(statSync(join(dir, '00000000000000000000.index')).size > 0, 'the rebuilt index is written back');
      await again.close();
    } finally { t.cleanup(); }
  });

  it('recovers across segments: a torn roll leaves the older segments intact', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 3, 9, { segmentBytes: BATCH * 4 });
      const names = ['00000000000000000032.log'];
      appendFileSync(join(t.dir, names[0]!), Buffer.alloc(17, 7)); // garbage on the tail of the active segment
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc, segmentBytes: BATCH * 4 });
      assert.equal(log.logEndOffset, 48n);
      assert.deepEqual(log.segmentBaseOffsets, [0n, 16n, 32n]);
      for (let o = 0n; o < 48n; o += 5n) assert.equal(batchesIn((await log.read(o, 1)).records)[0]!.baseOffset, o - (o % 4n));
      await log.close();
    } finally { t.cleanup(); }
  });

  it('rebuilds the epoch cache when its checkpoint is missing', async () => {
    const t = tempDir();
    try {
      await crashedLog(t.dir, 5, 3);
      unlinkSync(join(t.dir, 'leader-epoch-checkpoint'));
      const log = await PartitionLog.open(t.dir, { verifyCrc: testVerifyCrc });
      assert.deepEqual(log.epochEntries, [{ epoch: 1, startOffset: 0n }, { epoch: 2, startOffset: 20n }]);
      await log.close();
    } finally { t.cleanup(); }
  });
});
