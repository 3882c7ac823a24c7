/**
 * Transactions, partition side: the contract between the transaction coordinator (helper
 * "txnc", src/transactions/) and the partitions and groups (helper "txnp").
 *
 *  Writing markers
 *   - `writeTxnMarkers(deps, markers)` in src/kafka/handlers/write-txn-markers.ts, with
 *     `markers` in the WriteTxnMarkers request shape (producerId, producerEpoch,
 *     transactionResult: true = COMMIT, coordinatorEpoch, topics[{ name, partitionIndexes }]),
 *     resolves to the WriteTxnMarkers response's `markers` (per-partition error codes). The
 *     coordinator calls it directly for partitions this broker leads, and sends WriteTxnMarkers
 *     (v1) over PeerClient to the leaders of the others; the handler runs the same function.
 *   - Each partition's marker is a COMMIT/ABORT control batch appended through Raft; the call
 *     answers once it is committed (below the high watermark) or with the partition's error:
 *     NOT_LEADER_OR_FOLLOWER (find the new leader and retry), UNKNOWN_TOPIC_OR_PARTITION (topic
 *     deleted: Kafka's coordinator drops the partition), INVALID_PRODUCER_EPOCH (marker epoch older
 *     than the partition has seen), TRANSACTION_COORDINATOR_FENCED (older coordinator epoch than the
 *     last marker here: this coordinator is a zombie), REQUEST_TIMED_OUT (30 s, retry).
 *   - A marker with a producer epoch newer than the partition's (a coordinator-side bump when it
 *     aborts a timed-out transaction) is accepted and becomes the producer's epoch there.
 *   - For `__consumer_offsets` partitions the group coordinator applies (COMMIT) or drops (ABORT)
 *     the producer's pending TxnOffsetCommit offsets before the answer: after a successful
 *     EndTxn + markers, OffsetFetch shows the offsets.
 *  What the partition guarantees
 *   - Transactional data batches are accepted from any producer id (the coordinator's
 *     AddPartitionsToTxn bookkeeping is not verified here, as in Kafka before KIP-890).
 *   - The last stable offset (`Partition.lastStableOffset`) stays at the first offset of the
 *     oldest transaction whose marker is not yet below the high watermark; read_committed Fetch
 *     and ListOffsets stop there; aborted transactions come from the per-segment index.
 */

/** A COMMIT or ABORT marker from a transaction coordinator, for one partition. */
export interface TxnMarker {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
}

/** Fetch / ListOffsets isolation levels. */
export const IsolationLevel = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;
