/**
 * Seeded random histories against a model: appends of plain and transactional batches and
 * markers, rolls, truncations, compaction (emptied batches kept as headers, as the broker runs
 * it), clean and unclean reopens. After every step the log's LSO and
 * aborted-transaction list must equal what a scan of the log's current contents gives.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionLog } from '../../src/storage/log.js';
import { Random } from '../../src/util/random.js';
import { buildControlBatch, buildRecordBatch, ControlRecordType, iterateBatches, iterateRecords, readBatchHeader, readControlRecord } from '../../protocol/records/index.js';
import { tempDir } from './helpers.js';

const SEEDS = (process.env.RAFTKA_TXN_MODEL_SEEDS ?? '1,2,3').split(',').map(Number);
const STEPS = Number(process.env.RAFTKA_TXN_MODEL_STEPS ?? 200);
const CFG = { segmentBytes: 400, fileDeleteDelayMs: 0, cleanupPolicy: 'compact' as const, minCleanableDirtyRatio: 0 };
/** No fsyncs: durability is not what this test checks (page cache contents survive a "crash" here). */
const OPTIONS = { checkpointIntervalMs: 0, io: { fdatasync: async (): Promise<void> => {}, fsyncDir: async (): Promise<void> => {} } };

interface Expected { aborted: { producerId: bigint; firstOffset: bigint; lastOffset: bigint; lastStableOffset: bigint }[]; open: Map<bigint, bigint>; markers: { firstOffset: bigint; marker: bigint }[] }

/** What the index should say, from a scan of every batch in the log. */
async function scan(log: PartitionLog): Promise<Expected> {
  const open = new Map<bigint, bigint>();
  const aborted: Expected['aborted'] = [];
  const markers: Expected['markers'] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
    const { records, nextOffset } = await log.read(offset, 1 << 20);
    for (const span of iterateBatches(records)) {
      const h = readBatchHeader(records, span.offset);
      if (!h.isTransactional || h.producerId < 0n) continue;
      if (!h.isControl) { if (!open.has(h.producerId)) open.set(h.producerId, h.baseOffset); continue; }
      const [r] = [...iterateRecords(records, span.offset)];
      const type = readControlRecord(r!).type;
      const first = open.get(h.producerId) ?? h.baseOffset;
      open.delete(h.producerId);
      markers.push({ firstOffset: first, marker: h.baseOffset });
      if (type === ControlRecordType.ABORT) {
        let lso = h.baseOffset + 1n;
        for (const f of open.values()) if (f < lso) lso = f;
        aborted.push({ producerId: h.producerId, firstOffset: first, lastOffset: h.baseOffset, lastStableOffset: lso });
      }
    }
    offset = nextOffset;
  }
  return { aborted, open, markers };
}

function expectedLso(e: Expected, hw: bigint): bigint {
  let lso = hw;
  for (const f of e.open.values()) if (f < lso) lso = f;
  for (const m of e.markers) if (m.marker >= hw && m.firstOffset < lso) lso = m.firstOffset;
  return lso;
}

describe('aborted-transaction index: random histories against a model', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, async () => {
      const t = tempDir();
      const rnd = new Random(seed);
      const abandoned: PartitionLog[] = [];
      try {
        let log = await PartitionLog.open(t.dir, CFG, undefined, OPTIONS);
        let epoch = 1;
        let committedTo = 0n; // the "high watermark" the history has reached: truncations stay above it
        const pids = [1n, 2n, 3n, 4n];
        const trace: string[] = [];
        let compactions = 0;
        for (let step = 0; step < STEPS; step++) {
          const op = rnd.int(0, 99);
          const pid = pids[rnd.int(0, pids.length - 1)]!;
          const endBefore = log.logEndOffset;
          if (op < 40) {
            log.appendAsLeader(buildRecordBatch({ producerId: pid, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{ key: Buffer.from(`k${rnd.int(0, 3)}`), value: Buffer.alloc(rnd.int(1, 60)), timestamp: 1n }] }), epoch);
          } else if (op < 55) {
            log.appendAsLeader(buildRecordBatch({ records: [{ key: Buffer.from(`k${rnd.int(0, 3)}`), value: Buffer.alloc(rnd.int(1, 60)), timestamp: 1n }] }), epoch);
          } else if (op < 75) {
            log.appendAsLeader(buildControlBatch({ type: rnd.bool() ? ControlRecordType.COMMIT : ControlRecordType.ABORT, producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1n }), epoch);
          } else if (op < 82) {
            // Raft suffix truncation of uncommitted entries, then a new leader epoch.
            if (log.logEndOffset > committedTo) {
              await log.truncateTo(committedTo + BigInt(rnd.int(0, Number(log.logEndOffset - committedTo))));
              epoch++;
            }
          } else if (op < 87) {
            await log.flush();
            committedTo = log.logEndOffset;
          } else if (op < 91) {
            await log.close();
            log = await PartitionLog.open(t.dir, CFG, undefined, OPTIONS);
          } else if (op < 94) {
            const stats = await log.compact({ highWatermark: committedTo, nowMs: 1_000_000, retainEmptyBatches: true });
            if (stats.cleaned) compactions++;
          } else {
            if (rnd.bool()) await log.flush();
            abandoned.push(log); // a crash: never closed
            log = await PartitionLog.open(t.dir, CFG, undefined, OPTIONS);
          }
          trace.push(`${step}: op ${op} pid ${pid} end ${endBefore} -> ${log.logEndOffset} segs ${log.segmentBaseOffsets.join(',')}`);
          if (process.env.RAFTKA_TXN_MODEL_TRACE === '1') console.log(trace[trace.length - 1], [...log.txn.openTransactions()].map(([p, f]) => `${p}@${f}`).join(' '), log.flushedOffset);
          const e = await scan(log);
          const end = log.logEndOffset;
          assert.deepEqual(log.collectAbortedTransactions(log.logStartOffset, end + 1n), e.aborted, `step ${step} (op ${op}): aborted list`);
          // The high watermark only grows (the index forgets markers below it).
          assert.equal(log.lastStableOffset(committedTo), expectedLso(e, committedTo), `step ${step} (op ${op}): LSO at high watermark ${committedTo}`);
        }
        await log.close();
        if (process.env.RAFTKA_TXN_MODEL_TRACE === '1') console.log(`seed ${seed}: ${compactions} compaction passes cleaned`);
      } finally {
        t.cleanup();
      }
    });
  }
});
