import { RawClient } from '../test/helpers/raw-client.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import { readBatchHeader, iterateBatches } from '../protocol/records/batch.js';
import { iterateRecords } from '../protocol/records/record.js';
import type { FetchResponse } from '../protocol/generated/fetch.js';
import type { ListOffsetsResponse } from '../protocol/generated/list-offsets.js';
import type { DescribeConfigsResponse } from '../protocol/generated/describe-configs.js';
import type { MetadataResponse } from '../protocol/generated/metadata.js';
import { metadata, type Cluster } from './harness.js';

/** Wraps a step so that any failure names the client and scenario (and shows the broker's last log lines). */
export async function step<T>(label: string, cluster: Cluster, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    e.message = `[${label}] ${e.message}\n${cluster.logs()}`;
    throw e;
  } finally {
    if (process.env.RAFTKA_COMPAT_TIMING !== undefined) process.stderr.write(`[${label}] ${Date.now() - t0} ms\n`);
  }
}

/**
 * Resolves with `probe()`'s value once `done` accepts it, probing every 100 ms (the state is in
 * other processes: a broker learning metadata from its log has no event a client can await).
 * Rejects after `timeoutMs` with `what` and the last value seen.
 */
export async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown = null;
  for (;;) {
    try {
      last = await probe();
      lastError = null;
      if (done(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not after ${timeoutMs} ms; last seen ${lastError !== null ? `error ${String(lastError)}` : JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The leader of `topic-partition` once Metadata shows one (CreateTopics returns before every broker knows the leader). */
export async function partitionLeader(cluster: Cluster, topic: string, partition: number, timeoutMs = 10_000): Promise<number> {
  const md = await eventually(`${topic}-${partition} has a leader`, () => metadata(cluster.brokers[0]!.port, [topic]),
    (m) => (m.topics[0]?.partitions.find((p) => p.partitionIndex === partition)?.leaderId ?? -1) >= 0, timeoutMs);
  return md.topics[0]!.partitions.find((p) => p.partitionIndex === partition)!.leaderId;
}

/** Metadata for `topics` (null: all) from every running broker of the cluster. */
export async function metadataEverywhere(cluster: Cluster, topics: string[] | null): Promise<MetadataResponse[]> {
  return Promise.all(cluster.brokers.filter((b) => b.running).map((b) => metadata(b.port, topics)));
}

async function onLeader<T>(cluster: Cluster, topic: string, partition: number, fn: (client: RawClient) => Promise<T>): Promise<T> {
  const leader = await partitionLeader(cluster, topic, partition);
  const client = await RawClient.connect(cluster.broker(leader).port);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** ListOffsets v7 on the partition's leader: -1 latest (the high watermark), -2 earliest (the log start), or a timestamp. */
export async function listOffsetRaw(cluster: Cluster, topic: string, partition: number, timestamp: bigint): Promise<bigint> {
  return onLeader(cluster, topic, partition, async (client) => {
    client.send(2, 7, { replicaId: -1, isolationLevel: 0, timeoutMs: 0, topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }] });
    const p = ((await client.receive()).body as ListOffsetsResponse).topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${partition} at ${timestamp}: error ${p.errorCode}`);
    return p.offset;
  });
}

export interface RawRecord { offset: number; key: string; timestamp: number }

/** One Fetch v11 from `offset` on the partition's leader: its error code and the data records it returned. */
export async function fetchRaw(cluster: Cluster, topic: string, partition: number, offset: bigint): Promise<{ errorCode: number; records: RawRecord[] }> {
  return onLeader(cluster, topic, partition, async (client) => {
    client.send(1, 11, {
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0,
      maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId: ZERO_UUID, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = ((await client.receive()).body as FetchResponse).responses[0]!.partitions[0]!;
    const records: RawRecord[] = [];
    const buf = p.records ?? Buffer.alloc(0);
    for (const span of iterateBatches(buf)) {
      const h = readBatchHeader(buf, span.offset);
      if (h.isControl) continue;
      for (const r of iterateRecords(buf, span.offset)) {
        const o = Number(h.baseOffset) + r.offsetDelta;
        if (o >= Number(offset)) records.push({ offset: o, key: r.key?.toString() ?? '', timestamp: Number(h.baseTimestamp) + Number(r.timestampDelta) });
      }
    }
    return { errorCode: p.errorCode, records };
  });
}

/** DescribeConfigs v4 of a topic on one broker: name -> value and ConfigSource. */
export async function describeTopicConfigsRaw(port: number, topic: string, names: string[]): Promise<Record<string, { value: string | null; source: number }>> {
  const client = await RawClient.connect(port);
  try {
    client.send(32, 4, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: names }], includeSynonyms: false, includeDocumentation: false });
    const r = ((await client.receive()).body as DescribeConfigsResponse).results[0]!;
    if (r.errorCode !== 0) throw new Error(`DescribeConfigs ${topic}: error ${r.errorCode} ${r.errorMessage ?? ''}`);
    return Object.fromEntries(r.configs.map((c) => [c.name, { value: c.value, source: c.configSource }]));
  } finally {
    client.close();
  }
}
