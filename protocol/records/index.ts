/**
 * Kafka record batches: RecordBatch v2 headers and records, CRC32C, and compression codecs.
 *
 * Legacy message sets (magic 0 and 1) are refused, not decoded. This is what Apache Kafka 4.0
 * does: Produce v0-2 (the only versions that carry magic 0/1) are answered UNSUPPORTED_VERSION
 * at the request level, and a Produce v3+ request whose records are not magic 2 gets
 * INVALID_RECORD (`checkProduceRecords`). Every client in use (Java >= 0.11, librdkafka,
 * kafkajs, franz-go, kafka-python >= 1.4) writes magic 2. The batch walker reports a legacy
 * entry as RecordsError UNSUPPORTED_VERSION so a caller can never mistake one for a v2 batch
 * (the magic byte sits at offset 16 in both formats). Storage only ever holds magic 2, so
 * fetch never needs down-conversion either (Kafka 4.0 removed it as well).
 *
 * All decoders here throw only `RecordsError` (with a Kafka error name and code) on untrusted
 * input, never allocate by a length the input cannot back, and bound decompression by a caller
 * limit. int64 fields (offsets, timestamps, producer ids) are bigint.
 */
export * from './errors.js';
export * from './crc32c.js';
export * from './compression.js';
export * from './batch.js';
export * from './record.js';
