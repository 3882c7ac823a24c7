import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { metadata, startCluster, type Cluster } from '../../compat/harness.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { AlterPartitionReassignmentsResponse } from '../../protocol/generated/alter-partition-reassignments.js';
import type { ListPartitionReassignmentsResponse } from '../../protocol/generated/list-partition-reassignments.js';
import { ApiKey } from '../../protocol/generated/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { fetchAllWithKafkajs } from '../helpers/kafkajs-fetch.js';
import { fetchPartition } from '../helpers/raw-fetch.js';
import { raftka } from '../cli/run-cli.js';

/** Polls until `check` holds (the move runs in the background; nothing to await from outside). */
async function eventually<T>(get: () => Promise<T>, check: (v: T) => boolean, what: string, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await get();
      if (check(last)) return last;
    } catch { /* a broker restarting */ }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms; last ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function raw<T>(port: number, apiKey: number, body: unknown): Promise<T> {
  const c = await RawClient.connect(port);
  try {
    c.send(apiKey, 0, body);
    return (await c.receive()).body as T;
  } finally {
    c.close();
  }
}

function alter(port: number, topic: string, partition: number, replicas: number[] | null): Promise<AlterPartitionReassignmentsResponse> {
  return raw(port, ApiKey.AlterPartitionReassignments, { timeoutMs: 30000, topics: [{ name: topic, partitions: [{ partitionIndex: partition, replicas }] }] });
}

function list(port: number): Promise<ListPartitionReassignmentsResponse> {
  return raw(port, ApiKey.ListPartitionReassignments, { timeoutMs: 30000, topics: null });
}

const partitionOf = (md: MetadataResponse, topic: string): MetadataResponse['topics'][number]['partitions'][number] | undefined =>
  md.topics.find((t) => t.name === topic)?.partitions[0];

describe('partition reassignment on a cluster of four broker processes', () => {
  let cluster: Cluster;
  const kafka = (retries = 8): Kafka => new Kafka({ clientId: 'reassign-e2e', brokers: cluster.bootstrapList, logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100 } });

  before(async () => {
    cluster = await startCluster({ size: 4, config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 } });
  });
  after(async () => { await cluster?.destroy(); });

  it('moves an RF3 partition from [1,2,3] to [2,3,4] under a running acks=all producer: no acknowledged record lost, Metadata ends at [2,3,4]', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'moving', replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
    } finally { await admin.disconnect(); }
    const port = cluster.broker(2).port;
    const md0 = await metadata(port, ['moving']);
    assert.deepEqual(partitionOf(md0, 'moving')?.replicaNodes, [1, 2, 3]);

    const producer = kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const acked: string[] = [];
    let stop = false;
    let failures = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const value = `m${i}`;
        try {
          await producer.send({ topic: 'moving', acks: -1, messages: [{ value }] });
          acked.push(value);
        } catch {
          failures++;
        }
      }
    })();
    try {
      await eventually(async () => acked.length, (n) => n >= 50, 'the producer is writing');
      const started = Date.now();
      const res = await alter(port, 'moving', 0, [2, 3, 4]);
      assert.equal(res.errorCode, 0);
      assert.deepEqual(res.responses.map((t) => t.partitions.map((p) => p.errorCode)), [[0]]);
      // in progress (or already done): Metadata shows the union, target first, as Kafka does
      const during = await metadata(port, ['moving']);
      const replicas = partitionOf(during, 'moving')!.replicaNodes;
      assert.ok(JSON.stringify(replicas) === '[2,3,4,1]' || JSON.stringify(replicas) === '[2,3,4]', `replicas during the move: ${JSON.stringify(replicas)}`);
      await eventually(() => list(port), (l) => l.errorCode === 0 && l.topics.length === 0, 'the reassignment completes');
      const ms = Date.now() - started;
      for (const b of cluster.brokers) {
        await eventually(() => metadata(b.port, ['moving']), (md) => {
          const p = partitionOf(md, 'moving');
          return p !== undefined && JSON.stringify(p.replicaNodes) === '[2,3,4]' && [2, 3, 4].includes(p.leaderId) && p.isrNodes.length === 3;
        }, `broker ${b.nodeId} shows [2,3,4]`);
      }
      // broker 1 stopped its replica and deleted its data
      await eventually(async () => existsSync(join(cluster.broker(1).dataDir, 'moving-0')), (e) => !e, 'broker 1 deletes its replica');
      const before = acked.length;
      await eventually(async () => acked.length, (n) => n >= before + 20, 'the producer keeps writing after the move');
      process.stdout.write(`# reassignment [1,2,3] -> [2,3,4] took ${ms} ms under load; ${acked.length} records acknowledged, ${failures} sends failed\n`);
    } finally {
      stop = true;
      await writer;
      await producer.disconnect();
    }
    // A leader elected a moment ago may still answer with the high watermark its predecessor last
    // told it (as a new Kafka leader does until its followers fetch): read until it covers every
    // acknowledgement, and only then call anything missing lost.
    const missing = async (): Promise<string[]> => {
      const values = new Set((await fetchAllWithKafkajs(kafka(), 'moving')).map((m) => m.value?.toString()));
      return acked.filter((v) => !values.has(v));
    };
    let lost = await missing();
    if (lost.length > 0) lost = await eventually(missing, (l) => l.length === 0, 'every acknowledged record readable', 10_000).catch(() => lost);
    assert.deepEqual(lost, [], 'every acknowledged record is in the partition');
  });

  it('a new replica behind the leader\'s log start (DeleteRecords) restarts its log there and catches up', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'trimmed', replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
      const producer = kafka().producer({ allowAutoTopicCreation: false });
      await producer.connect();
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `t${i * 10 + j}` })) });
      }
      await producer.disconnect();
      await admin.fetchTopicMetadata({ topics: ['trimmed'] });
      await admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 0, offset: '60' }] });
    } finally { await admin.disconnect(); }
    const port = cluster.broker(1).port;
    assert.equal((await alter(port, 'trimmed', 0, [1, 2, 4])).responses[0]!.partitions[0]!.errorCode, 0);
    await eventually(() => list(port), (l) => l.errorCode === 0 && l.topics.length === 0, 'the reassignment completes');
    // broker 4's log starts at 60 (or at the base of the batch holding 60, if an election's
    // LeaderChange batch shifted the offsets): it never had, nor asked for, the deleted records
    const dir4 = join(cluster.broker(4).dataDir, 'trimmed-0');
    const firstSegment = (): bigint => {
      const bases = readdirSync(dir4).filter((n) => n.endsWith('.log')).map((n) => BigInt(n.slice(0, 20))).sort((a, b) => (a < b ? -1 : 1));
      return bases[0] ?? -1n;
    };
    const base = firstSegment();
    assert.ok(base > 45n && base <= 60n, `broker 4's first segment starts at ${base}, near the leader's log start 60`);
    await eventually(async () => statSync(join(dir4, `${base.toString().padStart(20, '0')}.log`)).size, (n) => n > 0, 'broker 4 holds the records from its log start on');
    const leader = partitionOf(await metadata(port, ['trimmed']), 'trimmed')!.leaderId;
    const fetched = (await fetchPartition(cluster.broker(leader).port, 'trimmed', 0, 60n)).map((m) => m.value);
    const first = Number(fetched[0]!.slice(1));
    assert.ok(first >= 50 && first <= 60, `first record after the log start: ${fetched[0]}`);
    assert.deepEqual(fetched, Array.from({ length: 100 - first }, (_, i) => `t${first + i}`));
  });

  it('raftka reassign-partitions: --generate, --execute, --verify with kafka-reassign-partitions.sh\'s JSON', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'tool', replicaAssignment: [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [2, 3] }] }] });
    } finally { await admin.disconnect(); }
    const dir = mkdtempSync(join(tmpdir(), 'raftka-reassign-cli-'));
    try {
      const server = `127.0.0.1:${cluster.broker(1).port}`;
      writeFileSync(join(dir, 'topics.json'), JSON.stringify({ version: 1, topics: [{ topic: 'tool' }] }));
      const gen = await raftka(['reassign-partitions', '--bootstrap-server', server, '--generate', '--topics-to-move-json-file', join(dir, 'topics.json'), '--broker-list', '3,4']);
      assert.equal(gen.code, 0, gen.stderr);
      assert.equal(gen.lines[0], 'Current partition replica assignment');
      const current = JSON.parse(gen.lines[1]!) as { partitions: { topic: string; partition: number; replicas: number[] }[] };
      assert.deepEqual(current.partitions.map((p) => p.replicas), [[1, 2], [2, 3]]);
      assert.equal(gen.lines[2], 'Proposed partition reassignment configuration');
      const proposed = JSON.parse(gen.lines[3]!) as { version: number; partitions: { topic: string; partition: number; replicas: number[] }[] };
      for (const p of proposed.partitions) assert.deepEqual([...p.replicas].sort(), [3, 4]);
      writeFileSync(join(dir, 'plan.json'), gen.lines[3]!);
      const exec = await raftka(['reassign-partitions', '--bootstrap-server', server, '--execute', '--reassignment-json-file', join(dir, 'plan.json')]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /Successfully started partition reassignments for tool-0,tool-1/);
      let verify = await raftka(['reassign-partitions', '--bootstrap-server', server, '--verify', '--reassignment-json-file', join(dir, 'plan.json')]);
      for (let i = 0; i < 100 && verify.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        verify = await raftka(['reassign-partitions', '--bootstrap-server', server, '--verify', '--reassignment-json-file', join(dir, 'plan.json')]);
      }
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.deepEqual(verify.lines, ['Status of partition reassignment:', 'Reassignment of partition tool-0 is completed.', 'Reassignment of partition tool-1 is completed.']);
      const bad = await raftka(['reassign-partitions', '--bootstrap-server', server, '--execute']);
      assert.equal(bad.code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates targets as Kafka does, lists a reassignment in progress, and cancels it', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'stays', replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
    } finally { await admin.disconnect(); }
    const port = cluster.broker(3).port;
    const code = async (topic: string, partition: number, replicas: number[] | null): Promise<number> =>
      (await alter(port, topic, partition, replicas)).responses[0]!.partitions[0]!.errorCode;
    assert.equal(await code('nope', 0, [1, 2, 3]), 3, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(await code('stays', 5, [1, 2, 3]), 3, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(await code('stays', 0, [1, 1, 2]), 39, 'INVALID_REPLICA_ASSIGNMENT: duplicate');
    assert.equal(await code('stays', 0, [1, 2, 99]), 39, 'INVALID_REPLICA_ASSIGNMENT: unknown broker');
    assert.equal(await code('stays', 0, []), 39, 'INVALID_REPLICA_ASSIGNMENT: empty');
    assert.equal(await code('stays', 0, null), 85, 'NO_REASSIGNMENT_IN_PROGRESS');

    // broker 4 is down: a move to it cannot finish, and stays listed
    await cluster.broker(4).kill();
    try {
      assert.equal(await code('stays', 0, [1, 2, 4]), 0);
      const l = await list(port);
      assert.deepEqual(l.topics, [{ name: 'stays', partitions: [{ partitionIndex: 0, replicas: [1, 2, 4, 3], addingReplicas: [4], removingReplicas: [3] }] }]);
      const md = await metadata(port, ['stays']);
      assert.deepEqual(partitionOf(md, 'stays')?.replicaNodes, [1, 2, 4, 3], 'Metadata shows the union while in progress');
      // cancel: back to [1,2,3]
      assert.equal(await code('stays', 0, null), 0);
      assert.deepEqual((await list(port)).topics, []);
      for (const b of cluster.brokers.filter((x) => x.nodeId !== 4)) {
        await eventually(() => metadata(b.port, ['stays']), (m) => JSON.stringify(partitionOf(m, 'stays')?.replicaNodes) === '[1,2,3]', `broker ${b.nodeId} shows [1,2,3] again`);
      }
      assert.equal(await code('stays', 0, null), 85, 'nothing left to cancel');
      // the partition still takes acks=all writes from its three replicas
      const producer = kafka().producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({ topic: 'stays', acks: -1, messages: [{ value: 'after cancel' }] });
      await producer.disconnect();
    } finally {
      await cluster.broker(4).restart();
    }
  });
});
