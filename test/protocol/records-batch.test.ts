import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  ATTRIBUTES_OFFSET, BATCH_LENGTH_OFFSET, CRC_OFFSET, CompressionType, ControlRecordType, MAGIC_OFFSET,
  RECORDS_COUNT_OFFSET, RecordsError, TimestampType, buildControlBatch, buildRecordBatch, checkProduceRecords,
  iterateRecords, lastOffsetOf, readBatchHeader, readControlRecord, readRecords, setBaseOffset, setMaxTimestamp,
  setMaxTimestampAndLogAppendTime, setPartitionLeaderEpoch, splitBatches, verifyBatchCrc, writeBatchCrc,
  type RecordInput, type RecordsErrorName,
} from '../../protocol/records/index.js';

const T0 = 1_700_000_000_000n;

function sampleRecords(n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 5 === 4 ? null : Buffer.from('v'.repeat(i * 3)),
    headers: i % 2 === 0 ? [] : [{ key: 'h-é', value: Buffer.from([i]) }, { key: 'null', value: null }],
    timestamp: T0 + BigInt(i * 10 - 20),
  }));
}

function rejects(fn: () => unknown, errorName: RecordsErrorName): void {
  assert.throws(fn, (e: unknown) => e instanceof RecordsError && e.errorName === errorName);
}

test('buildRecordBatch writes every header field and a valid CRC', () => {
  const b = buildRecordBatch({
    records: sampleRecords(10), baseOffset: 42n, producerId: 9_007_199_254_740_993n, producerEpoch: 3,
    baseSequence: 17, isTransactional: true, partitionLeaderEpoch: 5,
  });
  const h = readBatchHeader(b);
  assert.equal(h.baseOffset, 42n);
  assert.equal(h.batchLength, b.length - 12);
  assert.equal(h.partitionLeaderEpoch, 5);
  assert.equal(h.magic, 2);
  assert.equal(h.compression, CompressionType.NONE);
  assert.equal(h.isTransactional, true);
  assert.equal(h.isControl, false);
  assert.equal(h.timestampType, TimestampType.CREATE_TIME);
  assert.equal(h.lastOffsetDelta, 9);
  assert.equal(h.baseTimestamp, T0 - 20n);
  assert.equal(h.maxTimestamp, T0 + 70n);
  assert.equal(h.producerId, 9_007_199_254_740_993n);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 17);
  assert.equal(h.recordsCount, 10);
  assert.equal(lastOffsetOf(b), 51n);
  assert.ok(verifyBatchCrc(b));
});

for (const codec of [CompressionType.NONE, CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]) {
  test(`records round trip through a batch, compression ${codec}`, () => {
    const input = sampleRecords(300);
    const b = buildRecordBatch({ records: input, compression: codec });
    assert.equal(readBatchHeader(b).compression, codec);
    assert.ok(verifyBatchCrc(b));
    const out = readRecords(b);
    assert.equal(out.length, input.length);
    out.forEach((r, i) => {
      const want = input[i]!;
      assert.equal(r.offsetDelta, i);
      assert.equal(r.timestampDelta, want.timestamp - input[0]!.timestamp);
      assert.deepEqual(r.key, want.key);
      assert.deepEqual(r.value, want.value);
      assert.deepEqual(r.headers, want.headers);
      assert.equal(r.attributes, 0);
    });
  });
}

test('timestamps beyond 2^53 and negative deltas survive (varlong paths)', () => {
  const records: RecordInput[] = [
    { key: null, value: null, timestamp: 0n },
    { key: null, value: null, timestamp: 2n ** 62n },
    { key: null, value: null, timestamp: -(2n ** 62n) },
    { key: null, value: null, timestamp: 2n ** 40n },
  ];
  const out = readRecords(buildRecordBatch({ records }));
  assert.deepEqual(out.map((r) => r.timestampDelta), [0n, 2n ** 62n, -(2n ** 62n), 2n ** 40n]);
});

test('records are views into the batch, not copies', () => {
  const b = buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('value'), timestamp: T0 }] });
  const [r] = readRecords(b);
  assert.equal(r!.value!.buffer, b.buffer);
});

test('setBaseOffset and setPartitionLeaderEpoch patch outside the CRC range', () => {
  const b = buildRecordBatch({ records: sampleRecords(3) });
  setBaseOffset(b, 0, 123_456_789_012n);
  setPartitionLeaderEpoch(b, 0, 77);
  const h = readBatchHeader(b);
  assert.equal(h.baseOffset, 123_456_789_012n);
  assert.equal(h.partitionLeaderEpoch, 77);
  assert.ok(verifyBatchCrc(b));
});

test('setMaxTimestampAndLogAppendTime sets the type bit and maxTimestamp and re-signs the batch', () => {
  const b = buildRecordBatch({ records: sampleRecords(3), compression: CompressionType.LZ4, isTransactional: true });
  setMaxTimestampAndLogAppendTime(b, 0, T0 + 999n);
  const h = readBatchHeader(b);
  assert.equal(h.timestampType, TimestampType.LOG_APPEND_TIME);
  assert.equal(h.maxTimestamp, T0 + 999n);
  assert.equal(h.compression, CompressionType.LZ4);
  assert.equal(h.isTransactional, true);
  assert.ok(verifyBatchCrc(b));
  setMaxTimestamp(b, 0, TimestampType.CREATE_TIME, T0);
  assert.equal(readBatchHeader(b).timestampType, TimestampType.CREATE_TIME);
  assert.ok(verifyBatchCrc(b));
});

test('splitBatches finds every batch and reports a partial tail at every cut point', () => {
  const a = buildRecordBatch({ records: sampleRecords(4) });
  const c = buildRecordBatch({ records: sampleRecords(7), compression: CompressionType.GZIP, baseOffset: 4n });
  const blob = Buffer.concat([a, c]);
  const whole = splitBatches(blob, { verifyCrc: true });
  assert.deepEqual(whole, { batches: [{ offset: 0, length: a.length }, { offset: a.length, length: c.length }], partialTail: false });
  for (let cut = 0; cut <= blob.length; cut++) {
    const r = splitBatches(blob.subarray(0, cut));
    const complete = cut >= blob.length ? 2 : cut >= a.length ? 1 : 0;
    assert.equal(r.batches.length, complete, `cut ${cut}`);
    assert.equal(r.partialTail, cut !== 0 && cut !== a.length && cut !== blob.length, `cut ${cut}`);
  }
});

test('splitBatches refuses impossible lengths, legacy magic, unknown magic and bad CRCs', () => {
  const b = buildRecordBatch({ records: sampleRecords(2) });
  const mutate = (f: (x: Buffer) => void): Buffer => {
    const x = Buffer.from(b);
    f(x);
    return x;
  };
  rejects(() => splitBatches(mutate((x) => x.writeInt32BE(-1, BATCH_LENGTH_OFFSET))), 'CORRUPT_MESSAGE');
  rejects(() => splitBatches(mutate((x) => x.writeInt32BE(13, BATCH_LENGTH_OFFSET))), 'CORRUPT_MESSAGE');
  rejects(() => splitBatches(mutate((x) => x.writeInt32BE(30, BATCH_LENGTH_OFFSET))), 'CORRUPT_MESSAGE');
  rejects(() => splitBatches(mutate((x) => x.writeInt8(1, MAGIC_OFFSET))), 'UNSUPPORTED_VERSION');
  rejects(() => splitBatches(mutate((x) => x.writeInt8(0, MAGIC_OFFSET))), 'UNSUPPORTED_VERSION');
  rejects(() => splitBatches(mutate((x) => x.writeInt8(3, MAGIC_OFFSET))), 'CORRUPT_MESSAGE');
  rejects(() => splitBatches(b, { maxBatchBytes: b.length - 1 }), 'CORRUPT_MESSAGE');
  assert.equal(splitBatches(b, { maxBatchBytes: b.length }).batches.length, 1);
  const flipped = mutate((x) => { x[x.length - 1]! ^= 1; });
  assert.equal(verifyBatchCrc(flipped), false);
  assert.equal(splitBatches(flipped).batches.length, 1);
  rejects(() => splitBatches(flipped, { verifyCrc: true }), 'CORRUPT_MESSAGE');
  // A huge declared length must not be trusted: it is a partial tail, nothing is allocated.
  const huge = mutate((x) => x.writeInt32BE(0x7fffffff - 12, BATCH_LENGTH_OFFSET));
  assert.deepEqual(splitBatches(huge), { batches: [], partialTail: true });
});

test('readBatchHeader and verifyBatchCrc refuse buffers shorter than what they describe', () => {
  const b = buildRecordBatch({ records: sampleRecords(2) });
  rejects(() => readBatchHeader(b.subarray(0, 60)), 'CORRUPT_MESSAGE');
  rejects(() => verifyBatchCrc(b.subarray(0, b.length - 1)), 'CORRUPT_MESSAGE');
  rejects(() => readBatchHeader(b, b.length), 'CORRUPT_MESSAGE');
});

test('checkProduceRecords answers as Kafka does', () => {
  const ok = buildRecordBatch({ records: sampleRecords(3) });
  assert.deepEqual(checkProduceRecords(ok, 9), { offset: 0, length: ok.length });
  rejects(() => checkProduceRecords(ok, 2), 'UNSUPPORTED_VERSION');
  rejects(() => checkProduceRecords(Buffer.concat([ok, ok]), 9), 'INVALID_RECORD');
  rejects(() => checkProduceRecords(Buffer.alloc(0), 9), 'INVALID_RECORD');
  rejects(() => checkProduceRecords(ok.subarray(0, ok.length - 1), 9), 'CORRUPT_MESSAGE');
  const legacy = Buffer.from(ok);
  legacy.writeInt8(1, MAGIC_OFFSET);
  rejects(() => checkProduceRecords(legacy, 9), 'INVALID_RECORD');
  const badCrc = Buffer.from(ok);
  badCrc.writeUInt32BE((badCrc.readUInt32BE(CRC_OFFSET) + 1) >>> 0, CRC_OFFSET);
  rejects(() => checkProduceRecords(badCrc, 9), 'CORRUPT_MESSAGE');
  const zstd = buildRecordBatch({ records: sampleRecords(3), compression: CompressionType.ZSTD });
  rejects(() => checkProduceRecords(zstd, 6), 'UNSUPPORTED_COMPRESSION_TYPE');
  assert.ok(checkProduceRecords(zstd, 7));
  const codec7 = Buffer.from(ok);
  codec7.writeInt16BE(7, ATTRIBUTES_OFFSET);
  writeBatchCrc(codec7);
  rejects(() => checkProduceRecords(codec7, 9), 'UNSUPPORTED_COMPRESSION_TYPE');
  rejects(() => checkProduceRecords(buildRecordBatch({ records: sampleRecords(3), baseOffset: 5n }), 9), 'INVALID_RECORD');
  const badCount = Buffer.from(ok);
  badCount.writeInt32BE(4, RECORDS_COUNT_OFFSET);
  writeBatchCrc(badCount);
  rejects(() => checkProduceRecords(badCount, 9), 'INVALID_RECORD');
  const marker = buildControlBatch({ type: ControlRecordType.COMMIT, producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, timestamp: T0 });
  rejects(() => checkProduceRecords(marker, 9), 'INVALID_RECORD');
});

test('control batches carry COMMIT/ABORT markers readable as control records', () => {
  for (const type of [ControlRecordType.COMMIT, ControlRecordType.ABORT]) {
    const b = buildControlBatch({ type, producerId: 4242n, producerEpoch: 7, coordinatorEpoch: 13, timestamp: T0, baseOffset: 100n, partitionLeaderEpoch: 2 });
    const h = readBatchHeader(b);
    assert.equal(h.isControl, true);
    assert.equal(h.isTransactional, true);
    assert.equal(h.producerId, 4242n);
    assert.equal(h.producerEpoch, 7);
    assert.equal(h.baseSequence, -1);
    assert.equal(h.baseOffset, 100n);
    assert.equal(h.recordsCount, 1);
    assert.ok(verifyBatchCrc(b));
    const [r] = readRecords(b);
    assert.deepEqual(readControlRecord(r!), { version: 0, type, coordinatorEpoch: 13 });
  }
  rejects(() => readControlRecord({ attributes: 0, timestampDelta: 0n, offsetDelta: 0, key: Buffer.alloc(3), value: null, headers: [] }), 'INVALID_RECORD');
});

test('record iteration enforces the declared count and the record sizes', () => {
  const b = buildRecordBatch({ records: sampleRecords(5) });
  const withCount = (n: number): Buffer => {
    const x = Buffer.from(b);
    x.writeInt32BE(n, RECORDS_COUNT_OFFSET);
    return x;
  };
  rejects(() => readRecords(withCount(6)), 'INVALID_RECORD');
  rejects(() => readRecords(withCount(4)), 'INVALID_RECORD');
  rejects(() => readRecords(withCount(-1)), 'INVALID_RECORD');
  // A record length varint that claims more than the batch holds.
  const x = Buffer.from(b);
  x[61] = 0xfe;
  x[62] = 0x7f;
  rejects(() => readRecords(x), 'INVALID_RECORD');
  // An over-long varint (5 continuation bytes).
  const y = Buffer.from(b);
  y.fill(0xff, 61, 67);
  rejects(() => readRecords(y), 'INVALID_RECORD');
  // Lazy: the first record is yielded before a later one fails.
  const it = iterateRecords(withCount(6));
  assert.equal(it.next().done, false);
});

test('builds byte-identical batches to kafkajs (uncompressed and gzip, transactional)', async () => {
  const req = createRequire(import.meta.url);
  type KafkajsEncoder = { buffer: Buffer };
  const RecordBatch = (req('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (o: object) => Promise<KafkajsEncoder> }).RecordBatch;
  const Record = req('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
  const Long = req('kafkajs/src/utils/long') as { fromValue(v: string | number): unknown };
  const input = Array.from({ length: 20 }, (_, i) => ({
    key: Buffer.from(`k${i}`), value: Buffer.from(JSON.stringify({ i, s: 'x'.repeat(i) })),
    headers: i % 4 === 0 ? [{ key: 'trace', value: Buffer.from(`t${i}`) }] : [], timestamp: T0 + BigInt(i),
  }));
  for (const compression of [CompressionType.NONE, CompressionType.GZIP]) {
    const theirs = (await RecordBatch({
      compression, firstOffset: Long.fromValue(0), firstTimestamp: Number(T0), maxTimestamp: Number(T0) + 19,
      partitionLeaderEpoch: 0, lastOffsetDelta: 19, transactional: true, producerId: Long.fromValue('1234567'),
      producerEpoch: 2, firstSequence: 100,
      records: input.map((r, i) => Record({
        offsetDelta: i, timestampDelta: Number(r.timestamp - T0), key: r.key, value: r.value,
        headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value])),
      })),
    })).buffer;
    const ours = buildRecordBatch({
      records: input, compression, producerId: 1234567n, producerEpoch: 2, baseSequence: 100,
      isTransactional: true, partitionLeaderEpoch: 0,
    });
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `compression ${compression}`);
  }
});
