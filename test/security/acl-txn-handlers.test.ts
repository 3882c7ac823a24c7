/**
 * Authorization in the transaction APIs, as KafkaApis checks it: the handlers over a metadata
 * image built from records, a fake transaction coordinator and group coordinator that record
 * every call (a denied request must never reach them). End to end with kafkajs: acl-txn-e2e.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { AddPartitionsToTxnResponse } from '../../protocol/generated/add-partitions-to-txn.js';
import { defaultAddPartitionsToTxnRequest } from '../../protocol/generated/add-partitions-to-txn.js';
import type { AddOffsetsToTxnResponse } from '../../protocol/generated/add-offsets-to-txn.js';
import type { EndTxnResponse } from '../../protocol/generated/end-txn.js';
import type { TxnOffsetCommitResponse } from '../../protocol/generated/txn-offset-commit.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers.js';
import type { DescribeTransactionsResponse } from '../../protocol/generated/describe-transactions.js';
import type { ListTransactionsResponse } from '../../protocol/generated/list-transactions.js';
import type { DescribeProducersResponse } from '../../protocol/generated/describe-producers.js';
import { defaultProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import type { ApiHandler } from '../../src/kafka/handlers/handler.js';
import type { GroupCoordinator } from '../../src/groups/coordinator.js';
import type { TransactionCoordinator } from '../../src/transactions/coordinator.js';
import { AclOperation as Op, AclPermissionType as Perm, AclResourceType as Type, PatternType as Pat, type Acl } from '../../src/security/acls.js';
import { acl, aclHarness, callAs } from './acl-fixture.js';

const TOPICS: Record<string, string> = {
  orders: '11111111-1111-4111-8111-111111111111', secret: '33333333-3333-4333-8333-333333333333',
  __consumer_offsets: '55555555-5555-4555-8555-555555555555',
};

/**
 * alice: WRITE on transactional ids tx-a* and on topic orders, READ on group g1 and on orders;
 * DESCRIBE on tx-a1 only comes from WRITE (implied); carol: DESCRIBE on tx-c.
 */
const ACLS: Acl[] = [
  acl('User:alice', Op.WRITE, Type.TRANSACTIONAL_ID, 'tx-a', Perm.ALLOW, Pat.PREFIXED),
  acl('User:alice', Op.WRITE, Type.TOPIC, 'orders'),
  acl('User:alice', Op.READ, Type.TOPIC, 'orders'),
  acl('User:alice', Op.READ, Type.GROUP, 'g1'),
  acl('User:alice', Op.WRITE, Type.TOPIC, '__consumer_offsets'),
  acl('User:carol', Op.DESCRIBE, Type.TRANSACTIONAL_ID, 'tx-c'),
];

interface Fixture { readonly handlers: Map<number, ApiHandler>; readonly txnCalls: string[]; readonly groupCalls: string[] }

async function fixture(authorizer = true): Promise<Fixture> {
  const txnCalls: string[] = [];
  const groupCalls: string[] = [];
  const transactions = {
    addPartitions: async () => { txnCalls.push('addPartitions'); return ErrorCode.NONE; },
    addOffsets: async () => { txnCalls.push('addOffsets'); return ErrorCode.NONE; },
    endTransaction: async () => { txnCalls.push('endTransaction'); return ErrorCode.NONE; },
    describe: (transactionalId: string) => {
      txnCalls.push('describe');
      return {
        errorCode: ErrorCode.NONE, transactionalId, state: 'Ongoing', transactionTimeoutMs: 60000, transactionStartTimeMs: 1n, producerId: 7n, producerEpoch: 0,
        partitions: [{ topic: 'orders', partition: 0 }, { topic: 'secret', partition: 0 }, { topic: 'orders', partition: 1 }],
      };
    },
    list: () => {
      txnCalls.push('list');
      return { errorCode: ErrorCode.NONE, transactions: ['tx-a1', 'tx-b', 'tx-c'].map((transactionalId, i) => ({ transactionalId, producerId: BigInt(i), state: 'Ongoing' })) };
    },
  } as unknown as TransactionCoordinator;
  const groups = new Proxy({}, {
    get: (_t, method: string) => (...args: unknown[]) => {
      groupCalls.push(method);
      if (method === 'txnCommitOffsets') return Promise.resolve((args[0] as { offsets: unknown[] }).offsets.map(() => ErrorCode.NONE));
      return Promise.resolve({ errorCode: 0 });
    },
  }) as unknown as GroupCoordinator;
  const { handlers } = await aclHarness({ topics: TOPICS, acls: ACLS, seed: 5, authorizer, deps: { groups, transactions } });
  return { handlers, txnCalls, groupCalls };
}

const call = <Res>(f: Fixture, principal: string, apiKey: number, version: number, request: unknown): Promise<Res> =>
  callAs<Res>(f.handlers, principal, apiKey, version, request, 'acl-txn-test');

const addPartitions = (transactionalId: string, topics: Record<string, number[]>): unknown => ({
  ...defaultAddPartitionsToTxnRequest(), v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: 7n, v3AndBelowProducerEpoch: 0,
  v3AndBelowTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
});
const codesOf = (r: AddPartitionsToTxnResponse): [string, number, number][] =>
  r.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((p): [string, number, number] => [t.name, p.partitionIndex, p.partitionErrorCode]));

describe('authorization in the transaction APIs', () => {
  it('AddPartitionsToTxn: WRITE on the transactional id, then WRITE on each topic (internal topics never), then existence', async () => {
    const f = await fixture();
    const noTxn = await call<AddPartitionsToTxnResponse>(f, 'User:alice', ApiKey.AddPartitionsToTxn, 3, addPartitions('tx-b', { orders: [0] }));
    assert.deepEqual(codesOf(noTxn), [['orders', 0, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]]);
    const mixed = await call<AddPartitionsToTxnResponse>(f, 'User:alice', ApiKey.AddPartitionsToTxn, 3,
      addPartitions('tx-a1', { orders: [0, 9], secret: [0], __consumer_offsets: [0] }));
    assert.deepEqual(codesOf(mixed), [
      ['orders', 0, ErrorCode.OPERATION_NOT_ATTEMPTED], ['orders', 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['secret', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['__consumer_offsets', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ], 'an ACL on an internal topic does not let a client add it');
    const unknownDenied = await call<AddPartitionsToTxnResponse>(f, 'User:alice', ApiKey.AddPartitionsToTxn, 3, addPartitions('tx-a1', { ghost: [0] }));
    assert.deepEqual(codesOf(unknownDenied), [['ghost', 0, ErrorCode.TOPIC_AUTHORIZATION_FAILED]], 'authorization comes before existence');
    assert.deepEqual(f.txnCalls, []);
    const ok = await call<AddPartitionsToTxnResponse>(f, 'User:alice', ApiKey.AddPartitionsToTxn, 3, addPartitions('tx-a1', { orders: [0] }));
    assert.deepEqual(codesOf(ok), [['orders', 0, ErrorCode.NONE]]);
    assert.deepEqual(f.txnCalls, ['addPartitions']);
    const admin = await call<AddPartitionsToTxnResponse>(f, 'User:admin', ApiKey.AddPartitionsToTxn, 3, addPartitions('anything', { secret: [0] }));
    assert.deepEqual(codesOf(admin), [['secret', 0, ErrorCode.NONE]], 'super users pass');
  });

  it('AddOffsetsToTxn: WRITE on the transactional id, then READ on the group', async () => {
    const f = await fixture();
    const req = (transactionalId: string, groupId: string): unknown => ({ transactionalId, producerId: 7n, producerEpoch: 0, groupId });
    assert.equal((await call<AddOffsetsToTxnResponse>(f, 'User:alice', ApiKey.AddOffsetsToTxn, 3, req('tx-b', 'g1'))).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal((await call<AddOffsetsToTxnResponse>(f, 'User:alice', ApiKey.AddOffsetsToTxn, 3, req('tx-a1', 'g2'))).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.deepEqual(f.txnCalls, []);
    assert.equal((await call<AddOffsetsToTxnResponse>(f, 'User:alice', ApiKey.AddOffsetsToTxn, 3, req('tx-a1', 'g1'))).errorCode, ErrorCode.NONE);
    assert.deepEqual(f.txnCalls, ['addOffsets']);
  });

  it('EndTxn: WRITE on the transactional id', async () => {
    const f = await fixture();
    const req = (transactionalId: string): unknown => ({ transactionalId, producerId: 7n, producerEpoch: 0, committed: true });
    const denied = await call<EndTxnResponse>(f, 'User:bob', ApiKey.EndTxn, 3, req('tx-a1'));
    assert.equal(denied.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.deepEqual(f.txnCalls, []);
    assert.equal((await call<EndTxnResponse>(f, 'User:alice', ApiKey.EndTxn, 3, req('tx-a1'))).errorCode, ErrorCode.NONE);
  });

  it('TxnOffsetCommit: WRITE on the transactional id, READ on the group, READ on each topic', async () => {
    const f = await fixture();
    const req = (transactionalId: string, groupId: string, topics: string[]): unknown => ({
      transactionalId, groupId, producerId: 7n, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null,
      topics: topics.map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: '' }] })),
    });
    const codes = (r: TxnOffsetCommitResponse): [string, number][] => r.topics.map((t) => [t.name, t.partitions[0]!.errorCode]);
    assert.deepEqual(codes(await call(f, 'User:alice', ApiKey.TxnOffsetCommit, 3, req('tx-b', 'g1', ['orders', 'secret']))), [
      ['orders', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED], ['secret', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(codes(await call(f, 'User:alice', ApiKey.TxnOffsetCommit, 3, req('tx-a1', 'g2', ['orders']))), [['orders', ErrorCode.GROUP_AUTHORIZATION_FAILED]]);
    assert.deepEqual(f.groupCalls, []);
    assert.deepEqual(codes(await call(f, 'User:alice', ApiKey.TxnOffsetCommit, 3, req('tx-a1', 'g1', ['orders', 'secret', 'ghost']))), [
      ['orders', ErrorCode.NONE], ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['ghost', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(f.groupCalls, ['txnCommitOffsets']);
  });

  it('WriteTxnMarkers: CLUSTER_ACTION on the cluster', async () => {
    const f = await fixture();
    const req = { markers: [{ producerId: 7n, producerEpoch: 0, transactionResult: true, coordinatorEpoch: 0, topics: [{ name: 'orders', partitionIndexes: [0] }] }] };
    const denied = await call<WriteTxnMarkersResponse>(f, 'User:alice', ApiKey.WriteTxnMarkers, 1, req);
    assert.equal(denied.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const admin = await call<WriteTxnMarkersResponse>(f, 'User:admin', ApiKey.WriteTxnMarkers, 1, req);
    assert.equal(admin.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'authorized; this fake broker hosts no replica');
  });

  it('DescribeTransactions: DESCRIBE on the id; only describable topics are shown', async () => {
    const f = await fixture();
    const r = await call<DescribeTransactionsResponse>(f, 'User:alice', ApiKey.DescribeTransactions, 0, { transactionalIds: ['tx-a1', 'tx-c'] });
    assert.deepEqual(r.transactionStates.map((s) => [s.transactionalId, s.errorCode]), [['tx-a1', ErrorCode.NONE], ['tx-c', ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]]);
    assert.deepEqual(r.transactionStates[0]!.topics, [{ topic: 'orders', partitions: [0, 1] }], 'secret is left out (WRITE on tx-a* implies DESCRIBE)');
    assert.equal(r.transactionStates[1]!.producerId, 0n, 'nothing disclosed about an id the principal may not describe');
    assert.deepEqual(f.txnCalls, ['describe']);
    const carol = await call<DescribeTransactionsResponse>(f, 'User:carol', ApiKey.DescribeTransactions, 0, { transactionalIds: ['tx-c'] });
    assert.deepEqual([carol.transactionStates[0]!.errorCode, carol.transactionStates[0]!.topics], [ErrorCode.NONE, []]);
  });

  it('ListTransactions: only the ids the principal may describe', async () => {
    const f = await fixture();
    const req = { stateFilters: [], producerIdFilters: [], durationFilter: -1n };
    const list = async (p: string): Promise<string[]> => (await call<ListTransactionsResponse>(f, p, ApiKey.ListTransactions, 1, req)).transactionStates.map((s) => s.transactionalId);
    assert.deepEqual(await list('User:alice'), ['tx-a1']);
    assert.deepEqual(await list('User:carol'), ['tx-c']);
    assert.deepEqual(await list('User:bob'), []);
    assert.deepEqual(await list('User:admin'), ['tx-a1', 'tx-b', 'tx-c']);
  });

  it('DescribeProducers: READ on the topic, checked before its existence', async () => {
    const f = await fixture();
    const r = await call<DescribeProducersResponse>(f, 'User:alice', ApiKey.DescribeProducers, 0, {
      topics: ['orders', 'secret', 'ghost'].map((name) => ({ name, partitionIndexes: [0, 1] })),
    });
    assert.deepEqual(r.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]), [
      ['orders', [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      ['secret', [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED]],
      ['ghost', [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED]],
    ]);
  });

  it('Produce with a transactional id: WRITE on it, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition', async () => {
    const f = await fixture();
    const produce = (transactionalId: string): unknown => ({
      ...defaultProduceRequest(), acks: -1, timeoutMs: 1000, transactionalId,
      topicData: [{ name: 'orders', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }],
    });
    const denied = await call<ProduceResponse>(f, 'User:alice', ApiKey.Produce, 9, produce('tx-b'));
    assert.equal(denied.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const allowed = await call<ProduceResponse>(f, 'User:alice', ApiKey.Produce, 9, produce('tx-a1'));
    assert.equal(allowed.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'authorized; no replica here');
  });

  it('without an authorizer everything passes except internal topics in AddPartitionsToTxn (as Kafka)', async () => {
    const f = await fixture(false);
    const r = await call<AddPartitionsToTxnResponse>(f, 'User:ANONYMOUS', ApiKey.AddPartitionsToTxn, 3, addPartitions('tx-b', { orders: [0], secret: [0] }));
    assert.deepEqual(codesOf(r).map((c) => c[2]), [ErrorCode.NONE, ErrorCode.NONE]);
    const internal = await call<AddPartitionsToTxnResponse>(f, 'User:ANONYMOUS', ApiKey.AddPartitionsToTxn, 3, addPartitions('tx-b', { __consumer_offsets: [0] }));
    assert.deepEqual(codesOf(internal).map((c) => c[2]), [ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    const list = await call<ListTransactionsResponse>(f, 'User:ANONYMOUS', ApiKey.ListTransactions, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1n });
    assert.equal(list.transactionStates.length, 3);
  });
});
