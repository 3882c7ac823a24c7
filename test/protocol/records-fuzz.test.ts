// Mutation fuzzing of record-batch decoding: only RecordsError may come out, whatever the bytes.
// RAFTKA_RECORDS_FUZZ_CASES raises the case count (default keeps the file at about a second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BATCH_LENGTH_OFFSET, CompressionType, ControlRecordType, RECORDS_COUNT_OFFSET, RECORDS_OFFSET, RecordsError,
  batchRecordsSection, buildControlBatch, buildRecordBatch, checkProduceRecords, decompress, iterateRecords,
  readBatchHeader, readControlRecord, splitBatches, verifyBatchCrc, writeBatchCrc,
} from '../../protocol/records/index.js';
import { Random } from '../../src/util/random.js';

const CASES = Number(process.env['RAFTKA_RECORDS_FUZZ_CASES'] ?? 20_000);
const CAP = 1 << 20;
const fixtureDir = fileURLToPath(new URL('../../../test/protocol/fixtures/', import.meta.url));

function seeds(): Buffer[] {
  const out: Buffer[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((c) => readFileSync(`${fixtureDir}kcat-${c}.bin`));
  const records = Array.from({ length: 20 }, (_, i) => ({
    key: Buffer.from(`k${i}`), value: i % 4 === 0 ? null : Buffer.from('v'.repeat(i * 7)),
    headers: [{ key: 'h', value: Buffer.from([i]) }], timestamp: 1_700_000_000_000n + BigInt(i),
  }));
  for (const compression of [CompressionType.NONE, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD, CompressionType.GZIP]) {
    out.push(buildRecordBatch({ records, compression, producerId: 5n, producerEpoch: 1, baseSequence: 0, isTransactional: true }));
  }
  out.push(buildControlBatch({ type: ControlRecordType.ABORT, producerId: 5n, producerEpoch: 1, coordinatorEpoch: 3, timestamp: 1n }));
  return out;
}

function mutate(rnd: Random, seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  switch (rnd.int(0, 5)) {
    case 0: { // flip a few bytes anywhere
      for (let n = rnd.int(1, 4); n > 0; n--) b[rnd.int(0, b.length - 1)]! ^= 1 << rnd.int(0, 7);
      return b;
    }
    case 1: // truncate
      return b.subarray(0, rnd.int(0, b.length));
    case 2: { // random bytes in the records section, re-signed so the parser sees them
      const at = rnd.int(RECORDS_OFFSET, b.length - 1);
      for (let i = at, n = rnd.int(1, 16); i < b.length && n > 0; i++, n--) b[i] = rnd.int(0, 255);
      writeBatchCrc(b);
      return b;
    }
    case 3: { // extreme length or count fields
      const field = rnd.bool() ? BATCH_LENGTH_OFFSET : RECORDS_COUNT_OFFSET;
      b.writeInt32BE(rnd.pick([-1, 0, 1, 48, 49, 0x7fffffff, -0x80000000, rnd.int(0, 100_000)]), field);
      if (field === RECORDS_COUNT_OFFSET) writeBatchCrc(b);
      return b;
    }
    case 4: { // a byte flip inside the records section, re-signed
      if (b.length > RECORDS_OFFSET) b[rnd.int(RECORDS_OFFSET, b.length - 1)]! ^= 1 << rnd.int(0, 7);
      writeBatchCrc(b);
      return b;
    }
    default: { // trailing garbage or a second copy cut short
      return Buffer.concat([b, seed.subarray(0, rnd.int(0, seed.length))]);
    }
  }
}

/** Everything a broker or consumer might do with untrusted records bytes. */
function exercise(b: Buffer): void {
  try {
    checkProduceRecords(b, 9, 1 << 20);
  } catch (e) {
    if (!(e instanceof RecordsError)) throw e;
  }
  const { batches } = splitBatches(b, { verifyCrc: false, maxBatchBytes: 1 << 20 });
  for (const span of batches) {
    verifyBatchCrc(b, span.offset);
    const h = readBatchHeader(b, span.offset);
    let n = 0;
    for (const r of iterateRecords(b, span.offset, { maxDecompressedBytes: CAP })) {
      n++;
      if (h.isControl) readControlRecord(r);
    }
    assert.ok(n <= h.recordsCount);
  }
}

test(`fuzz: ${CASES} mutated batches raise only RecordsError`, () => {
  const rnd = new Random(0xba7c4);
  const pool = seeds();
  const counts = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const input = mutate(rnd, rnd.pick(pool));
    try {
      exercise(input);
      counts.set('ok', (counts.get('ok') ?? 0) + 1);
    } catch (e) {
      if (!(e instanceof RecordsError)) {
        assert.fail(`case ${i}: non-RecordsError ${String(e)}\ninput ${input.toString('hex').slice(0, 400)}`);
      }
      counts.set(e.errorName, (counts.get(e.errorName) ?? 0) + 1);
    }
  }
  // Both outcomes must be common, or the mutations are not reaching the parsers.
  assert.ok((counts.get('ok') ?? 0) > CASES / 20, JSON.stringify([...counts]));
  assert.ok((counts.get('INVALID_RECORD') ?? 0) > CASES / 50, JSON.stringify([...counts]));
  assert.ok((counts.get('CORRUPT_MESSAGE') ?? 0) > CASES / 50, JSON.stringify([...counts]));
});

test(`fuzz: mutated compressed sections decompress within the cap or fail with RecordsError`, () => {
  const rnd = new Random(0xc0dec);
  const sections = seeds()
    .map((b) => ({ codec: readBatchHeader(b).compression, data: b.subarray(RECORDS_OFFSET) }))
    .filter((s) => s.codec !== CompressionType.NONE);
  for (let i = 0; i < CASES / 4; i++) {
    const s = rnd.pick(sections);
    const d = Buffer.from(s.data);
    for (let n = rnd.int(1, 3); n > 0; n--) d[rnd.int(0, d.length - 1)] = rnd.int(0, 255);
    const input = rnd.bool(0.2) ? d.subarray(0, rnd.int(0, d.length)) : d;
    const cap = rnd.pick([0, 100, 10_000, CAP]);
    try {
      const out = decompress(s.codec, input, cap);
      assert.ok(out.length <= cap);
    } catch (e) {
      if (!(e instanceof RecordsError)) assert.fail(`case ${i} codec ${s.codec}: non-RecordsError ${String(e)}`);
    }
  }
});

test('fuzz seeds decode cleanly (the mutations start from valid input)', () => {
  for (const b of seeds()) {
    assert.ok(verifyBatchCrc(b));
    const h = readBatchHeader(b);
    assert.equal([...iterateRecords(b)].length, h.recordsCount);
    assert.ok(batchRecordsSection(b, 0, h).length > 0);
  }
});
