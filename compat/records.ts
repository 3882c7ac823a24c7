import assert from 'node:assert/strict';
import { RawClient } from '../test/helpers/raw-client.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import type { FetchResponse } from '../protocol/generated/fetch.js';
import { metadata } from './harness.js';

/** A record as the suite writes it: everything is text so every client can carry it unchanged. */
export interface TestRecord {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** A record as a client read it back. */
export interface ConsumedRecord extends TestRecord {
  offset: number;
}

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const CODEC_ID: Record<Codec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/**
 * `count` records spread round-robin over `partitions`, keyed, with headers. `perRecordHeaders`
 * false gives every record the same headers (kcat's producer can only add fixed headers).
 */
export function makeRecords(tag: string, count: number, partitions: number, perRecordHeaders = true): TestRecord[] {
  return Array.from({ length: count }, (_, i): TestRecord => ({
    partition: i % partitions,
    key: `${tag}-key-${i}`,
    // A little repetitive padding so every codec has something to compress.
    value: `${tag}-value-${i}-${'abcdefgh'.repeat(1 + (i % 7))}`,
    headers: perRecordHeaders ? { seq: String(i), origin: tag } : { origin: tag, suite: 'compat' } as Record<string, string>,
  }));
}

export interface SameRecordsOptions {
  /** First offset by partition (default 0). */
  baseOffsets?: Record<number, number>;
  /**
   * Offsets only increase instead of being dense: a partition whose leader changed holds the new
   * Raft leader's LeaderChange control batch (one offset, skipped by every consumer).
   */
  offsetGaps?: boolean;
}

/**
 * Checks that `got` holds exactly `sent`, each partition in produce order with dense offsets
 * from 0, or from `baseOffsets[p]` when given (nothing lost, duplicated, reordered, or altered).
 */
export function assertSameRecords(label: string, sent: TestRecord[], got: ConsumedRecord[], options: SameRecordsOptions = {}): void {
  const baseOffsets = options.baseOffsets ?? {};
  const partitions = [...new Set(sent.map((r) => r.partition))].sort((a, b) => a - b);
  assert.equal(got.length, sent.length, `${label}: read ${got.length} records, produced ${sent.length}`);
  for (const p of partitions) {
    const want = sent.filter((r) => r.partition === p);
    const have = got.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
    assert.equal(have.length, want.length, `${label}: partition ${p} has ${have.length} records, produced ${want.length}`);
    for (let k = 0; k < want.length; k++) {
      const w = want[k]!;
      const h = have[k]!;
      const where = `${label}: partition ${p} offset ${h.offset} (record ${k})`;
      const base = baseOffsets[p] ?? 0;
      if (options.offsetGaps === true) {
        if (k > 0) assert.ok(h.offset > have[k - 1]!.offset, `${where}: offset repeated (read twice)`);
      } else {
        assert.equal(h.offset, base + k, `${where}: offsets are not dense from ${base}`);
      }
      assert.equal(h.key, w.key, `${where}: key`);
      assert.equal(h.value, w.value, `${where}: value`);
      assert.deepEqual(h.headers, w.headers, `${where}: headers`);
    }
  }
}

/** Every partition of `topic` has its preferred replica (the first in the replica list) as leader. */
export async function assertPreferredLeaders(label: string, port: number, topic: string, partitions: number, replicationFactor: number): Promise<void> {
  const md = await metadata(port, [topic]);
  const t = md.topics.find((x) => x.name === topic);
  assert.ok(t !== undefined, `${label}: Metadata has no topic ${topic}`);
  assert.equal(t.errorCode, 0, `${label}: Metadata error ${t.errorCode} for ${topic}`);
  const ps = [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
  assert.equal(ps.length, partitions, `${label}: ${topic} has ${ps.length} partitions`);
  for (const p of ps) {
    assert.equal(p.errorCode, 0, `${label}: ${topic}-${p.partitionIndex} error ${p.errorCode}`);
    assert.equal(p.replicaNodes.length, replicationFactor, `${label}: ${topic}-${p.partitionIndex} replicas [${p.replicaNodes.join(',')}]`);
    assert.equal(p.leaderId, p.replicaNodes[0], `${label}: ${topic}-${p.partitionIndex} leader ${p.leaderId} is not the preferred replica of [${p.replicaNodes.join(',')}]`);
  }
}

/**
 * The compression codec of every batch stored in `topic-partition` (read with Fetch v11 from the
 * partition leader), so a test can see the client really compressed.
 */
export async function storedCodecs(port: number, topic: string, partition: number): Promise<Set<number>> {
  const md = await metadata(port, [topic]);
  const leader = md.topics[0]?.partitions.find((p) => p.partitionIndex === partition)?.leaderId;
  const leaderPort = md.brokers.find((b) => b.nodeId === leader)?.port ?? port;
  const client = await RawClient.connect(leaderPort);
  const codecs = new Set<number>();
  try {
    let offset = 0n;
    for (;;) {
      client.send(1, 11, {
        clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0,
        maxBytes: 1 << 24, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, topicId: ZERO_UUID, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 24, replicaDirectoryId: ZERO_UUID }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const res = (await client.receive()).body as FetchResponse;
      const p = res.responses[0]!.partitions[0]!;
      if (p.errorCode !== 0) throw new Error(`Fetch v11 ${topic}-${partition} error ${p.errorCode}`);
      const buf = p.records ?? Buffer.alloc(0);
      let pos = 0;
      let advanced = false;
      while (pos + 61 <= buf.length) {
        const size = 12 + buf.readInt32BE(pos + 8);
        if (pos + size > buf.length) break;
        codecs.add(buf.readInt16BE(pos + 21) & 0x07);
        offset = buf.readBigInt64BE(pos) + BigInt(buf.readInt32BE(pos + 23)) + 1n;
        advanced = true;
        pos += size;
      }
      if (!advanced || offset >= p.highWatermark) break;
    }
  } finally {
    client.close();
  }
  return codecs;
}
