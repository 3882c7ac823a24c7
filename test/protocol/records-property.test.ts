// Property: any records survive buildRecordBatch -> iterateRecords, for every codec (fast-check, seeded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CompressionType, buildRecordBatch, readBatchHeader, readRecords, splitBatches, verifyBatchCrc, type RecordInput } from '../../protocol/records/index.js';

const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const record: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 20 }), value: fc.option(bytes, { nil: null }) }), { maxLength: 4 }),
  timestamp: fc.bigInt(-(2n ** 61n), 2n ** 61n),
});

for (const codec of [CompressionType.NONE, CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]) {
  test(`property: records round trip with compression ${codec}`, () => {
    fc.assert(fc.property(
      fc.array(record, { minLength: 1, maxLength: 30 }),
      fc.bigInt(0n, 2n ** 62n), fc.bigInt(-1n, 2n ** 62n), fc.integer({ min: -1, max: 32767 }), fc.integer({ min: -1, max: 2 ** 31 - 1 }), fc.boolean(),
      (records, baseOffset, producerId, producerEpoch, baseSequence, isTransactional) => {
        const b = buildRecordBatch({ records, baseOffset, producerId, producerEpoch, baseSequence, isTransactional, compression: codec });
        assert.ok(verifyBatchCrc(b));
        assert.deepEqual(splitBatches(b, { verifyCrc: true }), { batches: [{ offset: 0, length: b.length }], partialTail: false });
        const h = readBatchHeader(b);
        assert.deepEqual([h.baseOffset, h.producerId, h.producerEpoch, h.baseSequence, h.isTransactional, h.recordsCount, h.lastOffsetDelta],
          [baseOffset, producerId, producerEpoch, baseSequence, isTransactional, records.length, records.length - 1]);
        const out = readRecords(b);
        assert.deepEqual(out.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: h.baseTimestamp + r.timestampDelta })),
          records.map((r) => ({ key: r.key, value: r.value, headers: (r.headers ?? []).map((x) => ({ key: x.key, value: x.value })), timestamp: r.timestamp })));
      },
    ), { seed: 42 + codec, numRuns: 150 });
  });
}
