/**
 * The partition side of transactions against a broker process, driven with raw requests (no
 * transaction coordinator needed): transactional batches, WriteTxnMarkers, the last stable
 * offset, read_committed Fetch with aborted transactions, ListOffsets under read_committed, and
 * all of it across a broker restart in the middle of a transaction.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { FetchResponse } from '../../protocol/generated/fetch.js';
import type { InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import { buildRecordBatch, iterateBatches, iterateRecords, readBatchHeader } from '../../protocol/records/index.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

type FetchPartition = FetchResponse['responses'][number]['partitions'][number];
const ZERO = '00000000-0000-0000-0000-000000000000';
const ENV = { RAFTKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1', RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' };

describe('transactions, partition side (broker process)', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let raw: RawClient;
  const kafka = (): Kafka => new Kafka({ clientId: 'raftka-txnp', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const seqs = new Map<bigint, number>();

  const request = async <T>(apiKey: number, version: number, body: unknown): Promise<T> => {
    raw.send(apiKey, version, body);
    return (await raw.receive()).body as T;
  };
  const initProducerId = async (): Promise<bigint> => {
    const res = await request<InitProducerIdResponse>(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
    assert.equal(res.errorCode, ErrorCode.NONE);
    return res.producerId;
  };
  const produce = async (topic: string, producerId: bigint, n: number, opts: { transactional?: boolean; epoch?: number; tag?: string } = {}) => {
    const baseSequence = producerId < 0n ? -1 : seqs.get(producerId) ?? 0;
    const records = buildRecordBatch({
      producerId, producerEpoch: producerId < 0n ? -1 : opts.epoch ?? 0, baseSequence, isTransactional: opts.transactional ?? true,
      records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${opts.tag ?? 'v'}-${i}`), timestamp: BigInt(Date.now()) })),
    });
    const res = await request<ProduceResponse>(ApiKey.Produce, 9, { transactionalId: (opts.transactional ?? true) ? 'txnp' : null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    const p = res.responses[0]!.partitionResponses[0]!;
    if (p.errorCode === ErrorCode.NONE) seqs.set(producerId, baseSequence + n);
    return p;
  };
  const marker = async (topic: string, producerId: bigint, commit: boolean, opts: { epoch?: number; coordinatorEpoch?: number } = {}): Promise<number> => {
    const res = await request<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, 1, {
      markers: [{ producerId, producerEpoch: opts.epoch ?? 0, transactionResult: commit, coordinatorEpoch: opts.coordinatorEpoch ?? 0, topics: [{ name: topic, partitionIndexes: [0] }] }],
    });
    return res.markers[0]!.topics[0]!.partitions[0]!.errorCode;
  };
  const fetch = async (topic: string, isolationLevel: number, fetchOffset = 0n, maxWaitMs = 0): Promise<FetchPartition> => {
    const res = await request<FetchResponse>(ApiKey.Fetch, 12, {
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs, minBytes: 1, maxBytes: 1 << 20,
      isolationLevel, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
      topics: [{ topic, topicId: ZERO, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO }] }],
    });
    return res.responses[0]!.partitions[0]!;
  };
  const listLatest = async (topic: string, isolationLevel: number): Promise<bigint> => {
    const res = await request<ListOffsetsResponse>(ApiKey.ListOffsets, 7, {
      replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }], timeoutMs: 0,
    });
    const p = res.topics[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p.offset;
  };
  /** The data records of a fetch answer (control batches skipped), as "pid:value". */
  const dataRecords = (records: Buffer | null): string[] => {
    const out: string[] = [];
    if (records === null) return out;
    for (const span of iterateBatches(records)) {
      const h = readBatchHeader(records, span.offset);
      if (h.isControl) continue;
      for (const r of iterateRecords(records, span.offset)) out.push(`${h.producerId}:${String(r.value)}`);
    }
    return out;
  };
  const createTopic = async (topic: string): Promise<void> => {
    const admin = kafka().admin();
    await admin.connect();
    try { await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] }); } finally { await admin.disconnect(); }
  };

  before(async () => {
    dataDir = await makeDataDir();
    broker = await startBroker({ dataDir, env: ENV });
    raw = await RawClient.connect(broker.port);
    await createTopic('txn');
  });
  after(async () => {
    raw?.socket.destroy();
    await broker?.kill();
    await removeDataDir(dataDir);
  });

  it('an open transaction holds the LSO at its first offset; read_committed sees nothing past it', async () => {
    const a = await initProducerId();
    const first = await produce('txn', a, 2, { tag: 'a1' });
    assert.equal(first.errorCode, ErrorCode.NONE);
    await produce('txn', a, 1, { tag: 'a2' });
    const committed = await fetch('txn', 1);
    assert.equal(committed.errorCode, ErrorCode.NONE);
    assert.equal(committed.lastStableOffset, first.baseOffset);
    assert.ok(committed.highWatermark > first.baseOffset + 2n);
    assert.deepEqual(dataRecords(committed.records), []);
    assert.deepEqual(committed.abortedTransactions, []);
    const uncommitted = await fetch('txn', 0);
    assert.equal(uncommitted.lastStableOffset, first.baseOffset, 'every fetch carries the LSO');
    assert.equal(uncommitted.abortedTransactions, null);
    assert.deepEqual(dataRecords(uncommitted.records), [`${a}:a1-0`, `${a}:a1-1`, `${a}:a2-0`]);
    assert.equal(await listLatest('txn', 1), first.baseOffset);
    assert.equal(await listLatest('txn', 0), uncommitted.highWatermark);

    // Abort: the LSO moves to the high watermark; the data is returned with the aborted list.
    assert.equal(await marker('txn', a, false), ErrorCode.NONE);
    const afterAbort = await fetch('txn', 1);
    assert.equal(afterAbort.lastStableOffset, afterAbort.highWatermark);
    assert.deepEqual(afterAbort.abortedTransactions, [{ producerId: a, firstOffset: first.baseOffset }]);
    assert.equal(await listLatest('txn', 1), afterAbort.highWatermark);
  });

  it('a committed transaction is read_committed-visible and not in the aborted list', async () => {
    const b = await initProducerId();
    const start = await produce('txn', b, 2, { tag: 'b' });
    assert.equal(await marker('txn', b, true), ErrorCode.NONE);
    const r = await fetch('txn', 1, start.baseOffset);
    assert.deepEqual(dataRecords(r.records), [`${b}:b-0`, `${b}:b-1`]);
    assert.deepEqual(r.abortedTransactions, []);
    // Reading from the start: only the first test's transaction is aborted.
    const all = await fetch('txn', 1, 0n);
    assert.equal(all.abortedTransactions!.length, 1);
  });

  it('marker and batch errors as Kafka: fenced epochs, non-transactional write inside a transaction, unknown partition', async () => {
    const c = await initProducerId();
    await produce('txn', c, 1, { epoch: 3, tag: 'c' });
    assert.equal(await marker('txn', c, true, { epoch: 2 }), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await marker('txn', c, false, { epoch: 3, coordinatorEpoch: 5 }), ErrorCode.NONE);
    assert.equal(await marker('txn', c, false, { epoch: 3, coordinatorEpoch: 4 }), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    // A new transaction of the same epoch continues the sequence; a plain write inside it is refused.
    assert.equal((await produce('txn', c, 1, { epoch: 3, tag: 'c2' })).errorCode, ErrorCode.NONE);
    assert.equal((await produce('txn', c, 1, { epoch: 3, transactional: false })).errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.equal(await marker('txn', c, true, { epoch: 3, coordinatorEpoch: 5 }), ErrorCode.NONE);
    assert.equal((await produce('txn', c, 1, { epoch: 3, transactional: false, tag: 'plain' })).errorCode, ErrorCode.NONE);
    assert.equal(await marker('nope', c, true), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('read_committed long polling wakes when a commit marker moves the LSO', async () => {
    const d = await initProducerId();
    const start = await produce('txn', d, 1, { tag: 'd' });
    const raw2 = await RawClient.connect(broker.port);
    try {
      raw2.send(ApiKey.Fetch, 12, {
        clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 10_000, minBytes: 1, maxBytes: 1 << 20,
        isolationLevel: 1, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
        topics: [{ topic: 'txn', topicId: ZERO, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: start.baseOffset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO }] }],
      });
      const began = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await marker('txn', d, true), ErrorCode.NONE);
      const res = (await raw2.receive()).body as FetchResponse;
      const p = res.responses[0]!.partitions[0]!;
      assert.ok(Date.now() - began < 5000, 'woken by the marker, not the 10 s timeout');
      assert.deepEqual(dataRecords(p.records), [`${d}:d-0`]);
    } finally {
      raw2.close();
    }
  });

  it('kafkajs consumers: read_committed drops aborted records and waits for open ones; read_uncommitted sees all; no control records', async () => {
    await createTopic('rc');
    const [x, y, z] = [await initProducerId(), await initProducerId(), await initProducerId()];
    await produce('rc', x, 2, { tag: 'x' });
    assert.equal(await marker('rc', x, false), ErrorCode.NONE);
    assert.equal((await produce('rc', -1n, 1, { transactional: false, tag: 'p' })).errorCode, ErrorCode.NONE);
    await produce('rc', y, 1, { tag: 'y' });
    assert.equal(await marker('rc', y, true), ErrorCode.NONE);
    await produce('rc', z, 1, { tag: 'z' });
    const consume = async (readUncommitted: boolean, n: number, onCount?: (count: number) => Promise<void>): Promise<string[]> => {
      const consumer = kafka().consumer({ groupId: `rc-${String(readUncommitted)}`, readUncommitted, maxWaitTimeInMs: 100 });
      await consumer.connect();
      const seen: string[] = [];
      try {
        await consumer.subscribe({ topic: 'rc', fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer.run({
            eachMessage: async ({ message }) => {
              seen.push(String(message.value));
              if (onCount !== undefined) await onCount(seen.length);
              if (seen.length >= n) resolve();
            },
          }).catch(reject);
        });
      } finally { await consumer.disconnect(); }
      return seen;
    };
    // read_committed: z is still open, so after p and y the consumer is held at the LSO; the
    // commit marker written once y is seen releases z.
    const committed = await consume(false, 3, async (count) => { if (count === 2) assert.equal(await marker('rc', z, true), ErrorCode.NONE); });
    assert.deepEqual(committed, ['p-0', 'y-0', 'z-0']);
    assert.deepEqual(await consume(true, 5), ['x-0', 'x-1', 'p-0', 'y-0', 'z-0']);
  });

  it('a broker killed mid-transaction keeps its LSO and aborted-transaction index', async () => {
    const e = await initProducerId();
    const open = await produce('txn', e, 2, { tag: 'e' });
    const before = await fetch('txn', 1);
    assert.equal(before.lastStableOffset, open.baseOffset);
    const abortedBefore = (await fetch('txn', 1, 0n)).abortedTransactions;
    await broker.kill();
    broker = await startBroker({ dataDir, env: ENV });
    raw.socket.destroy();
    raw = await RawClient.connect(broker.port);
    // The restarted leader's high watermark comes back with its first commit in the new epoch
    // (the hard state's commit offset is only checkpointed once a second, so a SIGKILL may leave an
    // older one): wait for the high watermark the broker had, then the LSO must be the open
    // transaction's first offset again, not the high watermark.
    let r = await fetch('txn', 1);
    for (let i = 0; i < 100 && (r.errorCode !== ErrorCode.NONE || r.highWatermark < before.highWatermark); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await fetch('txn', 1);
    }
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.ok(r.highWatermark >= before.highWatermark, `the high watermark came back (${r.highWatermark} of ${before.highWatermark})`);
    assert.equal(r.lastStableOffset, open.baseOffset, 'the open transaction still holds the LSO');
    assert.deepEqual((await fetch('txn', 1, 0n)).abortedTransactions, abortedBefore);
    // The producer state came back too: the transaction can be aborted, then it shows as aborted.
    assert.equal(await marker('txn', e, false), ErrorCode.NONE);
    const after = await fetch('txn', 1, open.baseOffset);
    assert.equal(after.lastStableOffset, after.highWatermark);
    assert.deepEqual(after.abortedTransactions, [{ producerId: e, firstOffset: open.baseOffset }]);
  });
});
