/**
 * Measurements of the partition side of transactions (skipped unless RAFTKA_TXNP_BENCH=1):
 *   RAFTKA_TXNP_BENCH=1 node --test --test-reporter=spec dist/test/transactions/partition-bench.test.js
 * Prints: append rate of plain vs transactional batches (the index bookkeeping on the append
 * path), aborted-transaction lookups for a fetch, unclean-reopen time with and without
 * transactions, and transactions per second through a broker (batch + WriteTxnMarkers).
 */
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { PartitionLog } from '../../src/storage/log.js';
import { buildControlBatch, buildRecordBatch, ControlRecordType } from '../../protocol/records/index.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import type { ProduceResponse } from '../../protocol/generated/produce.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import type { FetchResponse } from '../../protocol/generated/fetch.js';
import { makeDataDir, removeDataDir, startBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const enabled = process.env.RAFTKA_TXNP_BENCH === '1';
const N = Number(process.env.RAFTKA_TXNP_BENCH_N ?? 50_000);
const ZERO = '00000000-0000-0000-0000-000000000000';

const batch = (pid: bigint, transactional: boolean): Buffer => buildRecordBatch({
  producerId: pid, producerEpoch: pid < 0n ? -1 : 0, baseSequence: pid < 0n ? -1 : 0, isTransactional: transactional,
  records: [{ key: null, value: Buffer.alloc(100), timestamp: 1n }],
});
const marker = (pid: bigint, commit: boolean): Buffer => buildControlBatch({
  type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT, producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1n,
});

describe('transactions, partition side: measurements', { skip: !enabled }, () => {
  it('storage: append, aborted lookups, recovery', async () => {
    for (const kind of ['plain', 'transactional'] as const) {
      const dir = await makeDataDir('raftka-txnp-bench-');
      try {
        const log = await PartitionLog.open(dir, { segmentBytes: 8 << 20 }, undefined, { checkpointIntervalMs: 1 << 30 });
        const started = performance.now();
        for (let i = 0; i < N; i++) {
          if (kind === 'plain') {
            log.appendAsLeader(batch(-1n, false), 1);
            if ((i & 3) === 3) log.appendAsLeader(batch(-1n, false), 1); // as many appends as the markers below
          } else {
            // transactions of 4 batches, 1 in 4 aborted
            const pid = BigInt(i >> 2);
            log.appendAsLeader(batch(pid, true), 1);
            if ((i & 3) === 3) log.appendAsLeader(marker(pid, (i & 15) !== 15), 1);
          }
        }
        const appendMs = performance.now() - started;
        await log.flush();
        let lookups = 0;
        const lookStart = performance.now();
        for (let from = 0n; from < log.logEndOffset; from += 997n) lookups += log.collectAbortedTransactions(from, from + 1000n).length >= 0 ? 1 : 0;
        const lookupUs = (performance.now() - lookStart) * 1000 / lookups;
        // Unclean reopen (no close): recovery scans from the recovery point's segment.
        const reopenStart = performance.now();
        const reopened = await PartitionLog.open(dir, { segmentBytes: 8 << 20 }, undefined, {});
        const reopenMs = performance.now() - reopenStart;
        console.log(`${kind}: ${N} batches appended in ${appendMs.toFixed(0)} ms (${Math.round(N / appendMs * 1000)}/s), ` +
          `aborted lookup per fetch ${lookupUs.toFixed(1)} µs, unclean reopen ${reopenMs.toFixed(0)} ms (${log.segmentCount} segments, ` +
          `aborted in index ${log.collectAbortedTransactions(0n, log.logEndOffset).length})`);
        await reopened.close();
        await log.close();
      } finally { await removeDataDir(dir); }
    }
  });

  it('broker: transactions per second (transactional batch acks=-1, then WriteTxnMarkers) and read_committed fetch', async () => {
    const dataDir = await makeDataDir();
    const broker = await startBroker({ dataDir });
    const raw = await RawClient.connect(broker.port);
    try {
      const admin = new Kafka({ clientId: 'bench', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'b', numPartitions: 1 }] });
      await admin.disconnect();
      const call = async <T>(k: number, v: number, body: unknown): Promise<T> => { raw.send(k, v, body); return (await raw.receive()).body as T; };
      const pid = (await call<InitProducerIdResponse>(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 })).producerId;
      const txns = Number(process.env.RAFTKA_TXNP_BENCH_TXNS ?? 500);
      const lat: number[] = [];
      const started = performance.now();
      for (let i = 0; i < txns; i++) {
        const t0 = performance.now();
        const records = buildRecordBatch({ producerId: pid, producerEpoch: 0, baseSequence: i, isTransactional: true, records: [{ key: null, value: Buffer.alloc(100), timestamp: 1n }] });
        const p = await call<ProduceResponse>(ApiKey.Produce, 9, { transactionalId: 'bench', acks: -1, timeoutMs: 5000, topicData: [{ name: 'b', partitionData: [{ index: 0, records }] }] });
        if (p.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error('produce failed');
        const m = await call<WriteTxnMarkersResponse>(ApiKey.WriteTxnMarkers, 1, { markers: [{ producerId: pid, producerEpoch: 0, transactionResult: i % 4 !== 3, coordinatorEpoch: 0, topics: [{ name: 'b', partitionIndexes: [0] }] }] });
        if (m.markers[0]!.topics[0]!.partitions[0]!.errorCode !== 0) throw new Error('marker failed');
        lat.push(performance.now() - t0);
      }
      const ms = performance.now() - started;
      lat.sort((a, b) => a - b);
      const fetchStart = performance.now();
      const reads = 200;
      let aborted = 0;
      for (let i = 0; i < reads; i++) {
        const r = await call<FetchResponse>(ApiKey.Fetch, 12, {
          clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
          isolationLevel: 1, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
          topics: [{ topic: 'b', topicId: ZERO, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO }] }],
        });
        aborted = r.responses[0]!.partitions[0]!.abortedTransactions?.length ?? 0;
      }
      const fetchMs = (performance.now() - fetchStart) / reads;
      console.log(`broker: ${txns} transactions in ${ms.toFixed(0)} ms (${Math.round(txns / ms * 1000)}/s), per transaction p50 ${lat[Math.floor(txns / 2)]!.toFixed(2)} ms, ` +
        `p99 ${lat[Math.floor(txns * 0.99)]!.toFixed(2)} ms; read_committed fetch of the whole log ${fetchMs.toFixed(2)} ms with ${aborted} aborted transactions listed`);
    } finally {
      raw.close();
      await broker.kill();
      await removeDataDir(dataDir);
    }
  });
});
