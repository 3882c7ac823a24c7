import type { FetchResponse } from '../../protocol/generated/fetch.js';
import { ApiKey } from '../../protocol/generated/index.js';
import { iterateBatches, iterateRecords, readBatchHeader } from '../../protocol/records/index.js';
import { RawClient } from './raw-client.js';

export interface StoredRecord { offset: bigint; key: string | null; value: string | null }

/**
 * Every data record of one partition from `from` up to the high watermark, read with plain Fetch
 * requests and the broker's own record decoder. Unlike a client library it steps over batches
 * with no records left (compaction keeps their headers) and over control batches.
 */
export async function fetchPartition(port: number, topic: string, partition: number, from = 0n): Promise<StoredRecord[]> {
  const client = await RawClient.connect(port);
  const out: StoredRecord[] = [];
  try {
    let offset = from;
    for (;;) {
      client.send(ApiKey.Fetch, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const p = ((await client.receive()).body as FetchResponse).responses[0]!.partitions[0]!;
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition} at ${offset}: error ${p.errorCode}`);
      const records = p.records ?? Buffer.alloc(0);
      for (const span of iterateBatches(records)) {
        const h = readBatchHeader(records, span.offset);
        const last = h.baseOffset + BigInt(h.lastOffsetDelta);
        if (!h.isControl) {
          for (const r of iterateRecords(records, span.offset)) {
            const o = h.baseOffset + BigInt(r.offsetDelta);
            if (o >= offset) out.push({ offset: o, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
          }
        }
        if (last + 1n > offset) offset = last + 1n;
      }
      if (offset >= p.highWatermark) return out;
    }
  } finally {
    client.close();
  }
}
