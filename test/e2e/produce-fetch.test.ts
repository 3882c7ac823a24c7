import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { FetchRequest, FetchResponse } from '../../protocol/generated/fetch.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { CreateTopicsResponse } from '../../protocol/generated/create-topics.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import type { OffsetForLeaderEpochResponse } from '../../protocol/generated/offset-for-leader-epoch.js';
import type { DeleteRecordsResponse } from '../../protocol/generated/delete-records.js';

const ZERO = '00000000-0000-0000-0000-000000000000';
type Part = { partition: number; fetchOffset: bigint; lastFetchedEpoch?: number; partitionMaxBytes?: number };

describe('fetch semantics on one broker', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  let topicId: string;
  let leaderEpoch: number;

  const call = async <T>(apiKey: number, version: number, body: unknown): Promise<T> => {
    raw.send(apiKey, version, body);
    return (await raw.receive()).body as T;
  };
  const produce = async (partition: number, n: number, client = raw): Promise<bigint> => {
    client.send(ApiKey.Produce, 9, {
      transactionalId: null, acks: -1, timeoutMs: 5000,
      topicData: [{ name: 'fs', partitionData: [{ index: partition, records: buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.alloc(100, i), timestamp: BigInt(Date.now()) })) }) }] }],
    });
    const r = ((await client.receive()).body as ProduceResponse).responses[0]!.partitionResponses[0]!;
    assert.equal(r.errorCode, ErrorCode.NONE);
    return r.baseOffset;
  };
  const fetchReq = (parts: Part[], o: Partial<FetchRequest> & { byId?: boolean } = {}): FetchRequest => ({
    clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
    isolationLevel: 0, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
    topics: parts.length === 0 ? [] : [{
      topic: o.byId === true ? '' : 'fs', topicId: o.byId === true ? topicId : ZERO,
      partitions: parts.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.fetchOffset, lastFetchedEpoch: p.lastFetchedEpoch ?? -1, logStartOffset: -1n, partitionMaxBytes: p.partitionMaxBytes ?? 1 << 20, replicaDirectoryId: ZERO })),
    }],
    ...o,
  });
  const partitionsOf = (r: FetchResponse): number[] => r.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort();

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir });
    raw = await RawClient.connect(broker.port);
    const c = await call<CreateTopicsResponse>(ApiKey.CreateTopics, 5, { topics: [{ name: 'fs', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10000, validateOnly: false });
    assert.equal(c.topics[0]!.errorCode, ErrorCode.NONE);
    const m = await call<MetadataResponse>(ApiKey.Metadata, 12, { topics: [{ topicId: ZERO, name: 'fs' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    topicId = m.topics[0]!.topicId;
    leaderEpoch = m.topics[0]!.partitions[0]!.leaderEpoch;
    await produce(0, 5);
  });
  after(async () => {
    raw?.socket.destroy();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('incremental fetch sessions answer only what changed (KIP-227)', async () => {
    const full = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 0n }, { partition: 1, fetchOffset: 0n }], { sessionEpoch: 0 }));
    assert.ok(full.sessionId > 0);
    assert.deepEqual(partitionsOf(full), [0, 1]);
    const id = full.sessionId;
    const p0 = full.responses[0]!.partitions.find((p) => p.partitionIndex === 0)!;
    assert.ok(p0.records!.length > 0);
    // Position moved on partition 0; nothing new anywhere: an empty incremental answer.
    const quiet = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 5n }], { sessionId: id, sessionEpoch: 1 }));
    assert.equal(quiet.errorCode, ErrorCode.NONE);
    assert.equal(quiet.sessionId, id);
    assert.deepEqual(partitionsOf(quiet), []);
    await produce(1, 2);
    const changed = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([], { sessionId: id, sessionEpoch: 2 }));
    assert.deepEqual(partitionsOf(changed), [1]);
    assert.equal(changed.responses[0]!.partitions[0]!.highWatermark, 2n);
    assert.equal((await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([], { sessionId: id, sessionEpoch: 7 }))).errorCode, 71);
    assert.equal((await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([], { sessionId: id + 1, sessionEpoch: 1 }))).errorCode, 70);
    // Forgetting partition 1 and closing the session.
    const forgot = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([], { sessionId: id, sessionEpoch: 3, forgottenTopicsData: [{ topic: 'fs', topicId: ZERO, partitions: [1] }] }));
    assert.equal(forgot.errorCode, ErrorCode.NONE);
    const closed = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 0n }], { sessionId: id, sessionEpoch: -1 }));
    assert.equal(closed.sessionId, 0);
    assert.equal((await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([], { sessionId: id, sessionEpoch: 4 }))).errorCode, 70);
  });

  it('topic ids from v13, and UNKNOWN_TOPIC_ID', async () => {
    const r = await call<FetchResponse>(ApiKey.Fetch, 16, fetchReq([{ partition: 0, fetchOffset: 0n }], { byId: true }));
    assert.equal(r.responses[0]!.topicId, topicId);
    assert.equal(r.responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const bad = fetchReq([{ partition: 0, fetchOffset: 0n }], { byId: true });
    bad.topics[0]!.topicId = '11111111-1111-1111-1111-111111111111';
    assert.equal((await call<FetchResponse>(ApiKey.Fetch, 13, bad)).responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('maxBytes: the first partition gets one whole batch, later ones only whole batches that fit', async () => {
    const r = await call<FetchResponse>(ApiKey.Fetch, 11, fetchReq([{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 10 }, { partition: 1, fetchOffset: 0n }], { maxBytes: 20 }));
    const [p0, p1] = r.responses[0]!.partitions;
    assert.ok(p0!.records!.length > 20, 'the first batch is returned whole even above maxBytes');
    assert.equal(p1!.records!.length, 0);
  });

  it('OFFSET_OUT_OF_RANGE past the log end, and a diverging epoch for lastFetchedEpoch', async () => {
    const oor = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 1000n }]));
    assert.equal(oor.responses[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    // An epoch that started before the current one: it ended where the current epoch started.
    const older = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 5n, lastFetchedEpoch: leaderEpoch - 1 }]));
    const d = older.responses[0]!.partitions[0]!;
    assert.equal(d.errorCode, ErrorCode.NONE);
    assert.ok(d.divergingEpoch.epoch >= 0 && d.divergingEpoch.endOffset < 5n, `diverging ${JSON.stringify({ e: d.divergingEpoch.epoch, o: String(d.divergingEpoch.endOffset) })}`);
    const same = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 5n, lastFetchedEpoch: leaderEpoch }]));
    assert.equal(same.responses[0]!.partitions[0]!.divergingEpoch.epoch, -1);
  });

  it('a waiting fetch wakes within milliseconds of a produce', async () => {
    const other = await RawClient.connect(broker.port);
    try {
      const hw = (await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: 0n }]))).responses[0]!.partitions[0]!.highWatermark;
      const started = Date.now();
      raw.send(ApiKey.Fetch, 12, fetchReq([{ partition: 0, fetchOffset: hw }], { maxWaitMs: 10_000, minBytes: 1 }));
      const waiting = raw.receive();
      await new Promise((r) => setTimeout(r, 50));
      const producedAt = Date.now();
      await produce(0, 1, other);
      const r = (await waiting).body as FetchResponse;
      const woke = Date.now();
      assert.ok(r.responses[0]!.partitions[0]!.records!.length > 0);
      assert.ok(woke - producedAt < 500, `woke ${woke - producedAt} ms after the produce (${woke - started} ms in all)`);
    } finally {
      other.socket.destroy();
    }
  });
  it('ListOffsets max timestamp (v7), OffsetForLeaderEpoch and DeleteRecords', async () => {
    const now = BigInt(Date.now());
    raw.send(ApiKey.Produce, 9, {
      transactionalId: null, acks: -1, timeoutMs: 5000,
      topicData: [{ name: 'fs', partitionData: [{ index: 1, records: buildRecordBatch({ records: [now - 10n, now + 50n, now + 50n, now].map((t) => ({ key: null, value: null, timestamp: t })) }) }] }],
    });
    const base = ((await raw.receive()).body as ProduceResponse).responses[0]!.partitionResponses[0]!.baseOffset;
    const list = async (timestamp: bigint, version = 7) => (await call<ListOffsetsResponse>(ApiKey.ListOffsets, version, {
      replicaId: -1, isolationLevel: 0, timeoutMs: 1000, topics: [{ name: 'fs', partitions: [{ partitionIndex: 1, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    })).topics[0]!.partitions[0]!;
    const max = await list(-3n);
    assert.equal(max.errorCode, ErrorCode.NONE);
    assert.equal(max.timestamp, now + 50n);
    assert.equal(max.offset, base + 1n);
    const latest = await list(-1n, 10);
    assert.equal(latest.offset, base + 4n);
    assert.equal((await list(-4n, 8)).offset, 0n);

    const epochs = await call<OffsetForLeaderEpochResponse>(ApiKey.OffsetForLeaderEpoch, 4, {
      replicaId: -1, topics: [{ topic: 'fs', partitions: [{ partition: 1, currentLeaderEpoch: leaderEpoch, leaderEpoch }, { partition: 0, currentLeaderEpoch: leaderEpoch + 5, leaderEpoch }] }],
    });
    const [e1, e0] = epochs.topics[0]!.partitions;
    assert.equal(e1!.errorCode, ErrorCode.NONE);
    assert.equal(e1!.leaderEpoch, leaderEpoch);
    assert.equal(e1!.endOffset, base + 4n);
    assert.equal(e0!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);

    const del = await call<DeleteRecordsResponse>(ApiKey.DeleteRecords, 2, { timeoutMs: 5000, topics: [{ name: 'fs', partitions: [{ partitionIndex: 1, offset: base + 1n }, { partitionIndex: 0, offset: 10_000n }] }] });
    const [d1, d0] = del.topics[0]!.partitions;
    assert.equal(d1!.errorCode, ErrorCode.NONE);
    assert.equal(d1!.lowWatermark, base + 1n);
    assert.equal(d0!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await list(-2n)).offset, base + 1n);
    const gone = await call<FetchResponse>(ApiKey.Fetch, 12, fetchReq([{ partition: 1, fetchOffset: 0n }]));
    assert.equal(gone.responses[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });
});
