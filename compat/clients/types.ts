import type { Codec, ConsumedRecord, TestRecord } from '../records.js';

export interface ProduceOptions {
  /** Compression codec for every batch (default none). */
  compression?: Codec;
}

/**
 * One real Kafka client as the suite drives it. Every producer runs with acks=all and retries
 * disabled, so a broker error surfaces as a failure instead of being papered over by a retry.
 */
export interface ClientDriver {
  /** The client's name as it appears in test names and failure messages. */
  readonly name: string;
  /** Where the client comes from (npm or Debian package and version), for the README matrix. */
  readonly source: string;
  /** Codecs this client can produce with and read back. */
  readonly codecs: readonly Codec[];
  /** false when the client can only put the same headers on every record (kcat). */
  readonly perRecordHeaders: boolean;
  /** Throws, naming the package to install, when the client is missing. */
  check(): Promise<void>;
  /** Creates a topic with the client's admin API; null when the client has none (kcat). */
  readonly createTopic: ((bootstrap: string[], topic: string, partitions: number, replicationFactor: number) => Promise<void>) | null;
  /** Produces `records` to their partitions, in order, waiting for every acknowledgement. */
  produce(bootstrap: string[], topic: string, records: TestRecord[], options?: ProduceOptions): Promise<void>;
  /**
   * Reads every partition of `topic` from the beginning to the end without a consumer group
   * (assign + seek), until `expected` records arrived or the end of every partition is reached.
   */
  consume(bootstrap: string[], topic: string, partitions: number, expected: number): Promise<ConsumedRecord[]>;
}

/** Splits `items` into chunks of `size` (clients send records in bounded batches). */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
