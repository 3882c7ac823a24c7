import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch, CompressionType, crc32c, readBatchHeader, verifyBatchCrc, TimestampType } from '../../protocol/records/index.js';
import { ErrorCode, KafkaError } from '../../src/kafka/errors.js';
import {
  DEFAULT_PRODUCE_CONFIG, produceConfigFrom, RecordValidationError, stampLogAppendTime, validateProducedRecords, type ProduceConfig,
} from '../../src/partition/validate.js';

const NOW = 1_700_000_000_000;
const batch = (timestamps: number[], opts: { compression?: CompressionType; keys?: boolean } = {}): Buffer => buildRecordBatch({
  compression: opts.compression,
  records: timestamps.map((t, i) => ({ key: opts.keys === false ? null : Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BigInt(t) })),
});
const codeOf = (fn: () => unknown): number => {
  try { fn(); } catch (err) { if (err instanceof KafkaError) return err.code; throw err; }
  return ErrorCode.NONE;
};

describe('produce validation', () => {
  it('accepts a good batch and returns its header', () => {
    const h = validateProducedRecords(batch([NOW, NOW + 1]), 9, DEFAULT_PRODUCE_CONFIG, NOW);
    assert.equal(h.recordsCount, 2);
    assert.equal(h.producerId, -1n);
  });

  it('MESSAGE_TOO_LARGE above max.message.bytes', () => {
    const b = batch([NOW]);
    assert.equal(codeOf(() => validateProducedRecords(b, 9, { ...DEFAULT_PRODUCE_CONFIG, maxMessageBytes: b.length - 1 }, NOW)), ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(codeOf(() => validateProducedRecords(b, 9, { ...DEFAULT_PRODUCE_CONFIG, maxMessageBytes: b.length }, NOW)), ErrorCode.NONE);
  });

  it('CORRUPT_MESSAGE on a flipped byte (bad CRC)', () => {
    const b = batch([NOW]);
    b[b.length - 1]! ^= 0xff;
    assert.equal(codeOf(() => validateProducedRecords(b, 9, DEFAULT_PRODUCE_CONFIG, NOW)), ErrorCode.CORRUPT_MESSAGE);
  });

  it('INVALID_RECORD for two batches in one partition and for a nonzero base offset', () => {
    const two = Buffer.concat([batch([NOW]), batch([NOW])]);
    assert.equal(codeOf(() => validateProducedRecords(two, 9, DEFAULT_PRODUCE_CONFIG, NOW)), ErrorCode.INVALID_RECORD);
    const b = buildRecordBatch({ baseOffset: 5n, records: [{ key: null, value: null, timestamp: BigInt(NOW) }] });
    assert.equal(codeOf(() => validateProducedRecords(b, 9, DEFAULT_PRODUCE_CONFIG, NOW)), ErrorCode.INVALID_RECORD);
  });

  it('INVALID_TIMESTAMP outside message.timestamp.before/after.max.ms, naming the records (also compressed)', () => {
    const cfg: ProduceConfig = { ...DEFAULT_PRODUCE_CONFIG, timestampBeforeMaxMs: 1000n, timestampAfterMaxMs: 500n };
    for (const compression of [CompressionType.NONE, CompressionType.GZIP]) {
      assert.equal(codeOf(() => validateProducedRecords(batch([NOW - 1000, NOW + 500], { compression }), 9, cfg, NOW)), ErrorCode.NONE);
      try {
        validateProducedRecords(batch([NOW, NOW - 1001, NOW + 501], { compression }), 9, cfg, NOW);
        assert.fail('expected INVALID_TIMESTAMP');
      } catch (err) {
        assert.ok(err instanceof RecordValidationError);
        assert.equal(err.code, ErrorCode.INVALID_TIMESTAMP);
        assert.deepEqual(err.recordErrors.map((e) => e.batchIndex), [1, 2]);
      }
    }
    // LogAppendTime topics ignore the client's timestamps.
    assert.equal(codeOf(() => validateProducedRecords(batch([0]), 9, { ...cfg, timestampType: 'LogAppendTime' }, NOW)), ErrorCode.NONE);
  });

  it('INVALID_RECORD for a record without key on a compacted topic', () => {
    const cfg = { ...DEFAULT_PRODUCE_CONFIG, compacted: true };
    assert.equal(codeOf(() => validateProducedRecords(batch([NOW], { keys: false }), 9, cfg, NOW)), ErrorCode.INVALID_RECORD);
    assert.equal(codeOf(() => validateProducedRecords(batch([NOW]), 9, cfg, NOW)), ErrorCode.NONE);
  });

  it('LogAppendTime stamps maxTimestamp and the timestamp type, with a valid CRC', () => {
    const b = batch([NOW - 5, NOW - 3]);
    stampLogAppendTime(b, BigInt(NOW));
    const h = readBatchHeader(b);
    assert.equal(h.timestampType, TimestampType.LOG_APPEND_TIME);
    assert.equal(h.maxTimestamp, BigInt(NOW));
    assert.ok(verifyBatchCrc(b));
  });

  it('reads topic configs', () => {
    const m = new Map([['message.timestamp.type', 'LogAppendTime'], ['cleanup.policy', 'compact,delete'], ['min.insync.replicas', '2'], ['message.timestamp.before.max.ms', '60000']]);
    const c = produceConfigFrom((n) => m.get(n));
    assert.equal(c.timestampType, 'LogAppendTime');
    assert.equal(c.compacted, true);
    assert.equal(c.minInsyncReplicas, 2);
    assert.equal(c.timestampBeforeMaxMs, 60000n);
    assert.equal(c.maxMessageBytes, 1048588);
  });

  it('INVALID_RECORD for offset deltas out of order in an uncompressed batch', () => {
    const b = batch([NOW, NOW]);
    // the second record's offset delta: record 0 is length(1) attrs(1) tsDelta(1) offsetDelta(1) ...
    const firstLen = b[61]! >> 1;
    const second = 61 + 1 + firstLen;
    assert.equal(b[second + 3], 2); // zigzag(1)
    b[second + 3] = 4; // zigzag(2)
    b.writeUInt32BE(crc32c(b, 21), 17); // a valid CRC, so the records themselves are what is refused
    assert.equal(codeOf(() => validateProducedRecords(b, 9, DEFAULT_PRODUCE_CONFIG, NOW)), ErrorCode.INVALID_RECORD);
  });
});
