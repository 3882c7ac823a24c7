// Broker gaps the compat suite found. Each is the `todo` reason of the tests it breaks, so CI
// stays green while the gap is open; delete the entry (and its todo) when the broker is fixed.

/**
 * ApiVersions advertises Produce 3-9. librdkafka (kcat, confluent-kafka; fixed only in
 * librdkafka 2.10, confluentinc/librdkafka#4956) compresses gzip, snappy and lz4 only when the
 * broker's Produce range overlaps v0, so it logs "Broker does not support compression type gzip:
 * not compressing batch" and sends the batches uncompressed. Apache Kafka 4.0 advertises Produce
 * from v0 for this reason (KAFKA-18659) while still rejecting v0-2 requests.
 */
export const LIBRDKAFKA_PRODUCE_V0 = 'broker bug: ApiVersions must advertise Produce from v0 (KAFKA-18659) or librdkafka sends gzip/snappy/lz4 uncompressed';

/** lz4 additionally needs FindCoordinator v0 advertised (librdkafka's "LZ4" feature). */
export const LIBRDKAFKA_LZ4 = `${LIBRDKAFKA_PRODUCE_V0}; lz4 also needs FindCoordinator advertised (consumer groups)`;

/**
 * @platformatic/kafka 1.35 reads only through a consumer group (FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, OffsetFetch) and Fetch v12-v17; the broker has no group APIs and Fetch 4-11.
 */
export const PLATFORMATIC_CONSUMER = 'pending: needs consumer groups (FindCoordinator, JoinGroup, SyncGroup, OffsetFetch) and Fetch v12+';
