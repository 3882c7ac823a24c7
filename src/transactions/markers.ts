/**
 * Writes a transaction's commit or abort markers to every partition in it (Kafka's
 * TransactionMarkerChannelManager): WriteTxnMarkers to each partition's leader, this broker's
 * own partitions directly, the others' through the broker-to-broker connection. Partitions
 * whose leader is unknown or answers a retriable error are tried again after a short backoff,
 * until every marker is written or the coordinator gives the transaction up (it lost
 * leadership of the `__transaction_state` partition, or a newer coordinator fenced it).
 */
import type { Logger } from '../util/log.js';
import type { Scheduler } from '../groups/scheduler.js';
import { ErrorCode } from '../kafka/errors.js';
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import { tpKey, type TopicPartition } from './metadata.js';

/** Sends one WriteTxnMarkers request to a broker (this one included) and returns its answer. */
export type MarkerTransport = (brokerId: number, request: WriteTxnMarkersRequest) => Promise<WriteTxnMarkersResponse>;

/** Where partitions are: their leader's node id (-1 unknown), or undefined when the topic is gone. */
export type LeaderLookup = (topic: string, partition: number) => number | undefined;

export interface MarkerJob {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
  readonly partitions: readonly TopicPartition[];
}

/** Why a marker job stopped before every marker was written. */
export class MarkersAbandoned extends Error {
  constructor(readonly reason: 'cancelled' | 'fenced', message: string) { super(message); this.name = 'MarkersAbandoned'; }
}

/** Errors after which a partition is tried again (its leader moved, or is catching up). */
const RETRIABLE = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.REQUEST_TIMED_OUT, ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NETWORK_EXCEPTION, ErrorCode.KAFKA_STORAGE_ERROR,
]);
/** The partition's log has a newer coordinator or producer epoch: this coordinator is stale. */
const FENCED = new Set<number>([ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTION_COORDINATOR_FENCED]);

export const MARKER_RETRY_BACKOFF_MS = 100;

export class TxnMarkerSender {
  constructor(
    private readonly transport: MarkerTransport,
    private readonly leaderOf: LeaderLookup,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    private readonly retryBackoffMs = MARKER_RETRY_BACKOFF_MS,
  ) {}

  /**
   * Resolves once every partition of the job has its marker; rejects with MarkersAbandoned when
   * `cancelled()` turns true or a partition reports this coordinator fenced.
   */
  async send(job: MarkerJob, cancelled: () => boolean): Promise<void> {
    const pending = new Map<string, TopicPartition>(job.partitions.map((tp) => [tpKey(tp), tp]));
    let attempt = 0;
    while (pending.size > 0) {
      if (cancelled()) throw new MarkersAbandoned('cancelled', `markers of ${job.transactionalId} abandoned: no longer its coordinator`);
      if (attempt++ > 0) await this.sleep(this.retryBackoffMs);
      if (cancelled()) throw new MarkersAbandoned('cancelled', `markers of ${job.transactionalId} abandoned: no longer its coordinator`);
      const byLeader = new Map<number, TopicPartition[]>();
      for (const [key, tp] of pending) {
        const leader = this.leaderOf(tp.topic, tp.partition);
        if (leader === undefined) { pending.delete(key); continue; } // the topic was deleted: nothing to mark
        if (leader < 0) continue;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), tp]);
      }
      await Promise.all([...byLeader].map(async ([brokerId, tps]) => {
        let res: WriteTxnMarkersResponse;
        try {
          res = await this.transport(brokerId, request(job, tps));
        } catch (err) {
          this.log.debug({ err: (err as Error).message, brokerId, transactionalId: job.transactionalId }, 'WriteTxnMarkers failed; will retry');
          return;
        }
        for (const m of res.markers) for (const t of m.topics) for (const p of t.partitions) {
          const key = tpKey({ topic: t.name, partition: p.partitionIndex });
          if (p.errorCode === ErrorCode.NONE) pending.delete(key);
          else if (FENCED.has(p.errorCode)) {
            throw new MarkersAbandoned('fenced', `markers of ${job.transactionalId}: ${t.name}-${p.partitionIndex} answered error ${p.errorCode}`);
          } else if (!RETRIABLE.has(p.errorCode)) {
            this.log.warn({ errorCode: p.errorCode, topic: t.name, partition: p.partitionIndex, transactionalId: job.transactionalId }, 'unexpected error writing a transaction marker; will retry');
          }
        }
      }));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => { this.scheduler.schedule(ms, resolve); });
  }
}

function request(job: MarkerJob, tps: readonly TopicPartition[]): WriteTxnMarkersRequest {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return {
    markers: [{
      producerId: job.producerId, producerEpoch: job.producerEpoch, transactionResult: job.commit,
      coordinatorEpoch: job.coordinatorEpoch,
      topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    }],
  };
}
