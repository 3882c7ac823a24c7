import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PartitionLog } from '../../src/storage/log.js';
import { Random } from '../../src/util/random.js';
import { testVerifyCrc, batchesIn } from '../storage/batches.js';
import { tempDir } from '../storage/helpers.js';

const CHILD = fileURLToPath(new URL('./storage-child.js', import.meta.url));
const ITERATIONS = Number(process.env.RAFTKA_CRASH_ITERATIONS ?? 50);
const SEED = Number(process.env.RAFTKA_CRASH_SEED ?? 20240607);

/** Run the child until it has reported `killAfter` durable offsets, SIGKILL it, return the highest. */
function runAndKill(dir: string, seed: number, nextSeq: number, killAfter: number, rounds = false): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, dir, String(seed), String(nextSeq), ...(rounds ? ['rounds'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let durable = -1n, reports = 0, pending = '', stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('durable ')) {
          const off = BigInt(line.slice(8));
          if (off > durable) durable = off;
          if (++reports === killAfter) child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(durable);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

/** Everything in the log: whole batches, valid CRCs, contiguous offsets, batch sequence numbers in order. */
async function checkLog(dir: string, durable: bigint): Promise<number> {
  const log = await PartitionLog.open(dir, { segmentBytes: 32 * 1024, indexIntervalBytes: 512, verifyCrc: testVerifyCrc });
  try {
    assert.ok(log.logEndOffset >= durable, `log end ${log.logEndOffset} is below the reported durable offset ${durable}`);
    let offset = log.logStartOffset, seq = 0;
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 256 * 1024);
      assert.ok(r.records.length > 0);
      let p = 0;
      for (const b of batchesIn(r.records)) {
        assert.ok(testVerifyCrc(r.records, p), `CRC of batch at offset ${b.baseOffset}`);
        assert.equal(b.baseOffset, offset, 'contiguous offsets');
        assert.equal(r.records.readBigInt64BE(p + 27), BigInt(seq), 'batches in the order they were written');
        assert.equal(Number(b.lastOffset - b.baseOffset) + 1, 1 + (seq % 4), 'whole batches only');
        offset = b.lastOffset + 1n;
        p += b.size;
        seq++;
      }
    }
    return seq;
  } finally { await log.close(); }
}

describe('storage crash safety (SIGKILL while appending and flushing)', () => {
  it(`keeps every offset reported durable across ${ITERATIONS} kills`, { timeout: 300_000 }, async () => {
    const t = tempDir('raftka-crash-');
    try {
      const random = new Random(SEED);
      let nextSeq = 0, lastDurable = 0n;
      for (let i = 0; i < ITERATIONS; i++) {
        const durable = await runAndKill(t.dir, random.nextU32(), nextSeq, random.int(1, 40));
        if (durable > lastDurable) lastDurable = durable;
        nextSeq = await checkLog(t.dir, lastDurable);
      }
      assert.ok(nextSeq > ITERATIONS, 'the children made progress');
    } finally { t.cleanup(); }
  });

  const roundIterations = Math.ceil(ITERATIONS / 5);
  it(`keeps every offset reported durable across ${roundIterations} kills when flushing through broker-wide sync rounds shared with another partition`, { timeout: 300_000 }, async () => {
    const t = tempDir('raftka-crash-rounds-');
    try {
      const dir = join(t.dir, 'p-0');
      const random = new Random(SEED + 1);
      let nextSeq = 0, lastDurable = 0n;
      for (let i = 0; i < roundIterations; i++) {
        const durable = await runAndKill(dir, random.nextU32(), nextSeq, random.int(1, 40), true);
        if (durable > lastDurable) lastDurable = durable;
        nextSeq = await checkLog(dir, lastDurable);
      }
      assert.ok(nextSeq > roundIterations, 'the children made progress');
    } finally { t.cleanup(); }
  });
});
