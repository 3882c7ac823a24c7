// Child process for storage-crash.test.ts: appends batches to a log forever, flushing with the
// default group commit, and prints every offset a flush reported durable. The parent SIGKILLs it.
// argv: <dir> <seed> <first batch sequence number> [rounds]
// With `rounds`, the log flushes through a broker-wide FlushScheduler that a second ("noise") log
// in a sibling directory shares, appending and flushing concurrently, so the reported offsets come
// from sync rounds covering both partitions.
import { dirname, join } from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { PartitionLog } from '../../src/storage/log.js';
import { Random } from '../../src/util/random.js';
import { makeBatch, testVerifyCrc } from '../storage/batches.js';

const [dir, seedArg, seqArg, mode] = process.argv.slice(2);
const random = new Random(Number(seedArg));
let seq = Number(seqArg);
const io = mode === 'rounds' ? new FlushScheduler() : undefined;
const cfg = { segmentBytes: 32 * 1024, indexIntervalBytes: 512, verifyCrc: testVerifyCrc };
const log = await PartitionLog.open(dir!, cfg, undefined, { checkpointIntervalMs: random.int(0, 50), io });
if (io !== undefined) {
  const noise = await PartitionLog.open(join(dirname(dir!), 'noise'), cfg, undefined, { io });
  const filler = makeBatch([{ value: 'n'.repeat(300) }]);
  void (async () => {
    for (;;) {
      noise.appendAsLeader(Buffer.from(filler), Math.max(1, noise.lastEpoch));
      await noise.flush();
    }
  })();
}
process.stdout.write(`ready ${log.logEndOffset}\n`);

/** Batch `seq` has 1 + seq % 4 records and carries seq as its timestamps, so the parent can check it. */
function batch(s: number): Buffer {
  const n = 1 + (s % 4);
  return makeBatch(Array.from({ length: n }, (_, i) => ({ value: `b${s}-${i}`.repeat(1 + (s % 7)), timestamp: BigInt(s) })));
}

for (;;) {
  const flushes: Promise<void>[] = [];
  for (let j = random.int(1, 6); j > 0; j--) {
    const count = random.int(1, 3);
    const bufs = Array.from({ length: count }, () => batch(seq++));
    log.appendAsLeader(Buffer.concat(bufs), 1 + Math.floor(seq / 50));
    if (random.bool(0.6)) flushes.push(log.flush().then((off) => { process.stdout.write(`durable ${off}\n`); }));
  }
  await Promise.all(flushes);
}
