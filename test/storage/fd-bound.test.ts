import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { FdCache } from '../../src/storage/io.js';
import { valuesBatch } from './batches.js';
import { tempDir } from './helpers.js';

/** Descriptors this process has open on files under `dir` (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', fd)).startsWith(dir)) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

describe('file descriptors of many partitions stay bounded', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir(); });
  after(() => t.cleanup());

  it('writes, fsyncs and reads 20 logs through LRU caches of 4 write and 4 read descriptors, losing nothing', async () => {
    const writers = new FdCache(4, 'r+');
    const readers = new FdCache(4);
    const logs: PartitionLog[] = [];
    for (let i = 0; i < 20; i++) logs.push(await PartitionLog.open(join(t.dir, `p-${i}`), { segmentBytes: 2000 }, undefined, { fdCache: readers, writeFdCache: writers }));
    const expected: Buffer[][] = logs.map(() => []);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < logs.length; i++) {
        const b = valuesBatch(3);
        logs[i]!.appendAsLeader(b, 1);
        expected[i]!.push(b);
      }
      await Promise.all(logs.map((l) => l.flush()));
      assert.ok(writers.size <= 4 && readers.size <= 4, `caches hold ${writers.size} write and ${readers.size} read descriptors`);
      assert.ok(openFilesUnder(t.dir) <= 8, `${openFilesUnder(t.dir)} descriptors open under the data directory`);
    }
    for (let i = 0; i < logs.length; i++) {
      assert.equal(logs[i]!.flushedOffset, 30n);
      const r = await logs[i]!.read(0n, 1 << 20);
      assert.deepEqual(r.records, Buffer.concat(expected[i]!), `log ${i} reads back what was appended`);
      await logs[i]!.close();
    }
    // Reopened after a clean close: every log intact.
    for (let i = 0; i < logs.length; i++) {
      const again = await PartitionLog.open(join(t.dir, `p-${i}`), { segmentBytes: 2000 }, undefined, { fdCache: readers, writeFdCache: writers });
      assert.equal(again.logEndOffset, 30n);
      assert.deepEqual((await again.read(0n, 1 << 20)).records, Buffer.concat(expected[i]!));
      await again.close();
    }
  });
});
