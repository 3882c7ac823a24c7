/**
 * Every handler's authorization check, called directly with a request context of any principal
 * (the handlers over a metadata image built from records, the ACL admin ops over a Controller on
 * an in-memory metadata log). End to end with kafkajs and SASL users: acl-e2e.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, apiByKey } from '../../protocol/generated/index.js';
import { defaultMetadataRequest, type MetadataResponse } from '../../protocol/generated/metadata.js';
import { defaultProduceRequest, type ProduceResponse } from '../../protocol/generated/produce.js';
import { defaultFetchRequest, type FetchResponse } from '../../protocol/generated/fetch.js';
import { defaultListOffsetsRequest, type ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import { defaultCreateTopicsRequest, type CreateTopicsResponse } from '../../protocol/generated/create-topics.js';
import { defaultDeleteTopicsRequest, type DeleteTopicsResponse } from '../../protocol/generated/delete-topics.js';
import { defaultDescribeConfigsRequest, type DescribeConfigsResponse } from '../../protocol/generated/describe-configs.js';
import { defaultAlterConfigsRequest, type AlterConfigsResponse } from '../../protocol/generated/alter-configs.js';
import { defaultElectLeadersRequest, type ElectLeadersResponse } from '../../protocol/generated/elect-leaders.js';
import { defaultAlterPartitionReassignmentsRequest, type AlterPartitionReassignmentsResponse } from '../../protocol/generated/alter-partition-reassignments.js';
import { defaultListPartitionReassignmentsRequest, type ListPartitionReassignmentsResponse } from '../../protocol/generated/list-partition-reassignments.js';
import { defaultInitProducerIdRequest, type InitProducerIdResponse } from '../../protocol/generated/init-producer-id.js';
import { defaultFindCoordinatorRequest, type FindCoordinatorResponse } from '../../protocol/generated/find-coordinator.js';
import { defaultJoinGroupRequest, type JoinGroupResponse } from '../../protocol/generated/join-group.js';
import { defaultOffsetCommitRequest, type OffsetCommitResponse } from '../../protocol/generated/offset-commit.js';
import { defaultOffsetFetchRequest, type OffsetFetchResponse } from '../../protocol/generated/offset-fetch.js';
import { defaultDescribeGroupsRequest, type DescribeGroupsResponse } from '../../protocol/generated/describe-groups.js';
import { defaultListGroupsRequest, type ListGroupsResponse } from '../../protocol/generated/list-groups.js';
import { defaultDeleteGroupsRequest, type DeleteGroupsResponse } from '../../protocol/generated/delete-groups.js';
import { defaultCreateAclsRequest, type CreateAclsResponse } from '../../protocol/generated/create-acls.js';
import { defaultDescribeAclsRequest, type DescribeAclsResponse } from '../../protocol/generated/describe-acls.js';
import { defaultDeleteAclsRequest, type DeleteAclsResponse } from '../../protocol/generated/delete-acls.js';
import { defaultDescribeClusterRequest, type DescribeClusterResponse } from '../../protocol/generated/describe-cluster.js';
import { defaultBrokerHeartbeatRequest, type BrokerHeartbeatResponse } from '../../protocol/generated/broker-heartbeat.js';
import type { CreateTopicRequest } from '../../src/cluster/controller.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { createInternalHandlers } from '../../src/kafka/handlers/internal.js';
import { alterUserScramCredentialsHandler } from '../../src/kafka/handlers/alter-user-scram-credentials.js';
import type { AlterUserScramCredentialsResponse } from '../../protocol/generated/alter-user-scram-credentials.js';
import type { DescribeUserScramCredentialsResponse } from '../../protocol/generated/describe-user-scram-credentials.js';
import { envelopeHandler, forwardInEnvelope, forwardedToController } from '../../src/kafka/handlers/forward.js';
import type { ApiHandler, RequestContext } from '../../src/kafka/handlers/handler.js';
import type { GroupCoordinator } from '../../src/groups/coordinator.js';
import { AclOperation as Op, AclPermissionType as Perm, AclResourceType as Type, PatternType as Pat, type Acl } from '../../src/security/acls.js';
import { AUTHORIZED_OPERATIONS_OMITTED } from '../../src/security/authorizer.js';
import { acl, aclHarness, callAs, requestContext, type AclHarness } from './acl-fixture.js';

const TOPIC_IDS: Record<string, string> = {
  orders: '11111111-1111-4111-8111-111111111111', payments: '22222222-2222-4222-8222-222222222222', secret: '33333333-3333-4333-8333-333333333333',
};

const allow = (principal: string, operation: number, resourceType: number, resourceName: string, patternType: number = Pat.LITERAL): Acl =>
  acl(principal, operation, resourceType, resourceName, Perm.ALLOW, patternType);
const deny = (principal: string, operation: number, resourceType: number, resourceName: string): Acl =>
  acl(principal, operation, resourceType, resourceName, Perm.DENY);

/** The ACLs of these tests: alice writes orders (but may not read it), owns pay* topics and group g1. */
const ACLS: Acl[] = [
  allow('User:alice', Op.WRITE, Type.TOPIC, 'orders'),
  deny('User:alice', Op.READ, Type.TOPIC, 'orders'),
  allow('User:alice', Op.ALL, Type.TOPIC, 'pay', Pat.PREFIXED),
  allow('User:alice', Op.READ, Type.GROUP, 'g1'),
  allow('User:alice', Op.CREATE, Type.TOPIC, 'new-', Pat.PREFIXED),
];

interface Fixture extends AclHarness {
  readonly created: CreateTopicRequest[][];
  readonly groupCalls: string[];
}

async function fixture(options: { authorizer?: boolean; allowEveryone?: boolean } = {}): Promise<Fixture> {
  const created: CreateTopicRequest[][] = [];
  const groupCalls: string[] = [];
  // Any group call reaching the coordinator is recorded: denied requests must never get there.
  const groups = new Proxy({}, {
    get: (_t, method: string) => (...args: unknown[]) => {
      groupCalls.push(method);
      if (method === 'partitionFor') return 0;
      if (method === 'listGroups') return { errorCode: 0, groups: [{ groupId: 'g1', protocolType: 'consumer', state: 'Empty' }, { groupId: 'g2', protocolType: 'consumer', state: 'Empty' }] };
      if (method === 'fetchOffsets') {
        const topics = (args[1] as { name: string; partitions: number[] }[] | null) ?? [{ name: 'orders', partitions: [0] }, { name: 'payments', partitions: [0] }];
        return { errorCode: 0, topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((partition) => ({ partition, offset: 5n, leaderEpoch: 1, metadata: '', errorCode: 0 })) })) };
      }
      if (method === 'ensureOffsetsTopic') return Promise.resolve(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (method === 'commitOffsets') return Promise.resolve((args[0] as { offsets: unknown[] }).offsets.map(() => ErrorCode.NONE));
      return Promise.resolve({ errorCode: 0 });
    },
  }) as unknown as GroupCoordinator;
  const harness = await aclHarness({
    topics: TOPIC_IDS, acls: ACLS, seed: 3, ...options,
    deps: {
      autoCreateTopics: true,
      createTopics: async (topics) => {
        created.push([...topics]);
        return topics.map((t) => ({ name: t.name, topicId: null, errorCode: ErrorCode.NONE, errorMessage: null, numPartitions: 1, replicationFactor: 1, configs: [] }));
      },
      groups,
      reassignments: {
        alterPartitionReassignments: async (requests) => requests.map((r) => ({ topic: r.topic, partition: r.partition, errorCode: ErrorCode.NONE, errorMessage: null })),
        listPartitionReassignments: async () => [],
      },
    },
  });
  return { ...harness, created, groupCalls };
}

const ctxOf = (principal: string, apiKey: number, apiVersion: number): RequestContext => requestContext(principal, apiKey, apiVersion, 'acl-test');
const call = <Res>(f: Fixture, principal: string, apiKey: number, version: number, request: unknown): Promise<Res> =>
  callAs<Res>(f.handlers, principal, apiKey, version, request, 'acl-test');

describe('authorization in every handler', () => {
  it('Metadata: all topics omits what the principal may not describe; named ones get TOPIC_AUTHORIZATION_FAILED', async () => {
    const f = await fixture();
    const all = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: null });
    assert.deepEqual(all.topics.map((t) => t.name).sort(), ['orders', 'payments']);
    const bob = await call<MetadataResponse>(f, 'User:bob', ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: null });
    assert.deepEqual(bob.topics, []);
    const admin = await call<MetadataResponse>(f, 'User:admin', ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: null });
    assert.deepEqual(admin.topics.map((t) => t.name).sort(), ['orders', 'payments', 'secret']);

    const named = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 12, {
      ...defaultMetadataRequest(), allowAutoTopicCreation: false,
      topics: [{ name: 'secret', topicId: '00000000-0000-0000-0000-000000000000' }, { name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }, { name: 'nowhere', topicId: '00000000-0000-0000-0000-000000000000' }],
    });
    assert.deepEqual(named.topics.map((t) => [t.name, t.errorCode]), [
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['orders', ErrorCode.NONE], ['nowhere', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual(named.topics[0]!.partitions, [], 'nothing disclosed about a topic the principal may not describe');
    // By topic id: the id is not secret, the answer is TOPIC_AUTHORIZATION_FAILED.
    const byId = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ name: null, topicId: TOPIC_IDS.secret! }] });
    assert.equal(byId.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  it('Metadata: auto-creation needs CREATE on the cluster or the topic', async () => {
    const f = await fixture();
    const req = (name: string): unknown => ({ ...defaultMetadataRequest(), allowAutoTopicCreation: true, topics: [{ name, topicId: '00000000-0000-0000-0000-000000000000' }] });
    // alice may create new-* topics (but not describe them: the answer is TOPIC_AUTHORIZATION_FAILED before creation).
    const r = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 12, req('payments-new'));
    assert.deepEqual(f.created.map((c) => c.map((t) => t.name)), [['payments-new']], 'ALL on pay* includes CREATE');
    assert.equal(r.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'the fake creation never shows up in the image');
    const denied = await call<MetadataResponse>(f, 'User:bob', ApiKey.Metadata, 12, req('bobs-topic'));
    assert.equal(denied.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(f.created.length, 1, 'nothing created for bob');
  });

  it('Metadata and DescribeCluster: authorized operations from the authorizer when asked', async () => {
    const f = await fixture();
    const r = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 10, {
      ...defaultMetadataRequest(), topics: [{ name: 'orders', topicId: '00000000-0000-0000-0000-000000000000' }],
      includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true, allowAutoTopicCreation: false,
    });
    assert.equal(r.topics[0]!.topicAuthorizedOperations, (1 << Op.WRITE) | (1 << Op.DESCRIBE));
    assert.equal(r.clusterAuthorizedOperations, 0, 'no DESCRIBE on the cluster');
    const admin = await call<DescribeClusterResponse>(f, 'User:admin', ApiKey.DescribeCluster, 1, { ...defaultDescribeClusterRequest(), includeClusterAuthorizedOperations: true });
    const clusterOps = [Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE];
    assert.equal(admin.clusterAuthorizedOperations, clusterOps.reduce((bits, op) => bits | (1 << op), 0));
    const notAsked = await call<MetadataResponse>(f, 'User:alice', ApiKey.Metadata, 10, { ...defaultMetadataRequest(), topics: null });
    assert.equal(notAsked.topics[0]!.topicAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
    // Without an authorizer the fields keep their old values.
    const open = await fixture({ authorizer: false });
    const o = await call<DescribeClusterResponse>(open, 'User:ANONYMOUS', ApiKey.DescribeCluster, 1, { ...defaultDescribeClusterRequest(), includeClusterAuthorizedOperations: true });
    assert.equal(o.clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  });

  it('Produce: WRITE on each topic; a transactional id needs WRITE on it', async () => {
    const f = await fixture();
    const produce = (topics: string[], transactionalId: string | null = null): unknown => ({
      ...defaultProduceRequest(), acks: -1, timeoutMs: 1000, transactionalId,
      topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: Buffer.alloc(0) }] })),
    });
    const r = await call<ProduceResponse>(f, 'User:alice', ApiKey.Produce, 9, produce(['orders', 'secret']));
    // orders passes authorization (then fails as this fake broker hosts no replica); secret does not.
    assert.deepEqual(r.responses.map((t) => [t.name, t.partitionResponses[0]!.errorCode]), [
      ['orders', ErrorCode.NOT_LEADER_OR_FOLLOWER], ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    const txn = await call<ProduceResponse>(f, 'User:alice', ApiKey.Produce, 9, produce(['orders'], 'tx-1'));
    assert.equal(txn.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('Fetch, ListOffsets: READ and DESCRIBE on the topic (DENY READ keeps DESCRIBE from WRITE)', async () => {
    const f = await fixture();
    const fetch = await call<FetchResponse>(f, 'User:alice', ApiKey.Fetch, 12, {
      ...defaultFetchRequest(), maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, sessionEpoch: -1,
      topics: ['orders', 'payments'].map((topic) => ({ topic, topicId: TOPIC_IDS[topic]!, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] })),
    });
    assert.deepEqual(fetch.responses.map((t) => [t.topic, t.partitions[0]!.errorCode]), [
      ['orders', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['payments', ErrorCode.NOT_LEADER_OR_FOLLOWER],
    ]);
    const lo = await call<ListOffsetsResponse>(f, 'User:alice', ApiKey.ListOffsets, 7, {
      ...defaultListOffsetsRequest(), topics: ['orders', 'secret'].map((name) => ({ name, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] })),
    });
    assert.deepEqual(lo.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [
      ['orders', ErrorCode.NOT_LEADER_OR_FOLLOWER], ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
  });

  it('CreateTopics, DeleteTopics, DescribeConfigs, AlterConfigs, ElectLeaders', async () => {
    const f = await fixture();
    const ct = await call<CreateTopicsResponse>(f, 'User:alice', ApiKey.CreateTopics, 7, {
      ...defaultCreateTopicsRequest(), timeoutMs: 1000,
      topics: ['new-a', 'other'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
    });
    assert.deepEqual(ct.topics.map((t) => [t.name, t.errorCode, t.topicConfigErrorCode]), [
      ['new-a', ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['other', ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.NONE],
    ]);
    assert.equal(ct.topics[1]!.errorMessage, 'Authorization failed.');
    assert.deepEqual(f.created.flat().map((t) => t.name), ['new-a']);

    const dt = await call<DeleteTopicsResponse>(f, 'User:alice', ApiKey.DeleteTopics, 5, { ...defaultDeleteTopicsRequest(), topicNames: ['payments', 'secret', 'ghost'], timeoutMs: 1000 });
    assert.deepEqual(dt.responses.map((t) => [t.name, t.errorCode]), [
      ['payments', ErrorCode.NONE], ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['ghost', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    assert.equal(f.log.image().topics.has('payments'), false);
    assert.equal(f.log.image().topics.has('secret'), true);

    const dc = await call<DescribeConfigsResponse>(f, 'User:alice', ApiKey.DescribeConfigs, 4, {
      ...defaultDescribeConfigsRequest(), resources: [
        { resourceType: 2, resourceName: 'orders', configurationKeys: null },
        { resourceType: 4, resourceName: '1', configurationKeys: null },
      ],
    });
    assert.deepEqual(dc.results.map((r) => r.errorCode), [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
    const ac = await call<AlterConfigsResponse>(f, 'User:bob', ApiKey.AlterConfigs, 1, {
      ...defaultAlterConfigsRequest(), resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '1000' }] }],
    });
    assert.equal(ac.responses[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(f.log.image().topics.get('orders')!.configs.size, 0);
    const el = await call<ElectLeadersResponse>(f, 'User:alice', ApiKey.ElectLeaders, 2, {
      ...defaultElectLeadersRequest(), topicPartitions: [{ topic: 'orders', partitions: [0] }],
    });
    assert.equal(el.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(el.replicaElectionResults[0]!.partitionResult[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  it('AlterPartitionReassignments needs ALTER and ListPartitionReassignments DESCRIBE on the cluster', async () => {
    const f = await fixture();
    const move = { ...defaultAlterPartitionReassignmentsRequest(), topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [1] }] }] };
    const denied = await call<AlterPartitionReassignmentsResponse>(f, 'User:alice', ApiKey.AlterPartitionReassignments, 0, move);
    assert.equal(denied.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(denied.responses[0]!.partitions[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const allowed = await call<AlterPartitionReassignmentsResponse>(f, 'User:admin', ApiKey.AlterPartitionReassignments, 0, move);
    assert.deepEqual([allowed.errorCode, allowed.responses[0]!.partitions[0]!.errorCode], [ErrorCode.NONE, ErrorCode.NONE]);
    const list = await call<ListPartitionReassignmentsResponse>(f, 'User:bob', ApiKey.ListPartitionReassignments, 0, { ...defaultListPartitionReassignmentsRequest(), topics: null });
    assert.equal(list.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const adminList = await call<ListPartitionReassignmentsResponse>(f, 'User:admin', ApiKey.ListPartitionReassignments, 0, { ...defaultListPartitionReassignmentsRequest(), topics: null });
    assert.equal(adminList.errorCode, ErrorCode.NONE);
  });

  it('InitProducerId: IDEMPOTENT_WRITE on the cluster or WRITE on some topic; WRITE on a transactional id', async () => {
    const f = await fixture();
    const alice = await call<InitProducerIdResponse>(f, 'User:alice', ApiKey.InitProducerId, 4, { ...defaultInitProducerIdRequest(), transactionalId: null });
    assert.deepEqual([alice.errorCode, alice.producerId], [ErrorCode.NONE, 42n]);
    const bob = await call<InitProducerIdResponse>(f, 'User:bob', ApiKey.InitProducerId, 4, { ...defaultInitProducerIdRequest(), transactionalId: null });
    assert.equal(bob.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const txn = await call<InitProducerIdResponse>(f, 'User:alice', ApiKey.InitProducerId, 4, { ...defaultInitProducerIdRequest(), transactionalId: 'tx-1' });
    assert.equal(txn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('groups: READ to join and commit, DESCRIBE to find, describe, list and fetch offsets, DELETE to delete', async () => {
    const f = await fixture();
    const join = await call<JoinGroupResponse>(f, 'User:alice', ApiKey.JoinGroup, 7, { ...defaultJoinGroupRequest(), groupId: 'g2', protocolType: 'consumer' });
    assert.equal(join.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.deepEqual(f.groupCalls, [], 'a denied request never reaches the coordinator');
    const fc = await call<FindCoordinatorResponse>(f, 'User:alice', ApiKey.FindCoordinator, 4, { ...defaultFindCoordinatorRequest(), keyType: 0, coordinatorKeys: ['g2'] });
    assert.equal(fc.coordinators[0]!.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const ft = await call<FindCoordinatorResponse>(f, 'User:alice', ApiKey.FindCoordinator, 3, { ...defaultFindCoordinatorRequest(), keyType: 1, key: 'tx-1' });
    assert.equal(ft.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);

    const commit = (groupId: string): unknown => ({
      ...defaultOffsetCommitRequest(), groupId, generationIdOrMemberEpoch: -1, memberId: '',
      topics: ['orders', 'payments'].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] })),
    });
    const denied = await call<OffsetCommitResponse>(f, 'User:alice', ApiKey.OffsetCommit, 8, commit('g2'));
    assert.deepEqual(denied.topics.map((t) => t.partitions[0]!.errorCode), [ErrorCode.GROUP_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
    const partly = await call<OffsetCommitResponse>(f, 'User:alice', ApiKey.OffsetCommit, 8, commit('g1'));
    assert.deepEqual(partly.topics.map((t) => t.partitions[0]!.errorCode), [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.NONE]);

    const fetchAll = await call<OffsetFetchResponse>(f, 'User:alice', ApiKey.OffsetFetch, 7, { ...defaultOffsetFetchRequest(), groupId: 'g1', topics: null });
    assert.deepEqual(fetchAll.topics.map((t) => t.name), ['orders', 'payments'], 'WRITE on orders implies DESCRIBE');
    const fetchBob = await call<OffsetFetchResponse>(f, 'User:bob', ApiKey.OffsetFetch, 7, { ...defaultOffsetFetchRequest(), groupId: 'g1', topics: null });
    assert.equal(fetchBob.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const fetchNamed = await call<OffsetFetchResponse>(f, 'User:alice', ApiKey.OffsetFetch, 7, {
      ...defaultOffsetFetchRequest(), groupId: 'g1', topics: [{ name: 'secret', partitionIndexes: [0] }, { name: 'payments', partitionIndexes: [0] }],
    });
    assert.deepEqual(fetchNamed.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [['payments', ErrorCode.NONE], ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);

    const dg = await call<DescribeGroupsResponse>(f, 'User:alice', ApiKey.DescribeGroups, 5, { ...defaultDescribeGroupsRequest(), groups: ['g2'], includeAuthorizedOperations: true });
    assert.equal(dg.groups[0]!.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const lg = await call<ListGroupsResponse>(f, 'User:alice', ApiKey.ListGroups, 4, defaultListGroupsRequest());
    assert.deepEqual(lg.groups.map((g) => g.groupId), ['g1'], 'READ on g1 implies DESCRIBE; g2 is left out');
    const lgAdmin = await call<ListGroupsResponse>(f, 'User:admin', ApiKey.ListGroups, 4, defaultListGroupsRequest());
    assert.deepEqual(lgAdmin.groups.map((g) => g.groupId), ['g1', 'g2']);
    const del = await call<DeleteGroupsResponse>(f, 'User:alice', ApiKey.DeleteGroups, 2, { ...defaultDeleteGroupsRequest(), groupsNames: ['g1'] });
    assert.equal(del.results[0]!.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });

  it('CreateAcls, DescribeAcls, DeleteAcls: ALTER / DESCRIBE on the cluster, filters, SECURITY_DISABLED without an authorizer', async () => {
    const f = await fixture();
    const creation = { resourceType: Type.TOPIC, resourceName: 'audit', resourcePatternType: Pat.LITERAL, principal: 'User:carol', host: '*', operation: Op.READ, permissionType: Perm.ALLOW };
    const denied = await call<CreateAclsResponse>(f, 'User:alice', ApiKey.CreateAcls, 3, { ...defaultCreateAclsRequest(), creations: [creation] });
    assert.equal(denied.results[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const created = await call<CreateAclsResponse>(f, 'User:admin', ApiKey.CreateAcls, 3, {
      ...defaultCreateAclsRequest(), creations: [creation, { ...creation, resourceType: Type.CLUSTER }, { ...creation, operation: Op.WRITE, resourcePatternType: Pat.PREFIXED, resourceName: 'aud' }],
    });
    assert.deepEqual(created.results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REQUEST, ErrorCode.NONE]);
    assert.match(created.results[1]!.errorMessage!, /kafka-cluster/);

    const describe = (over: Record<string, unknown>): unknown => ({
      ...defaultDescribeAclsRequest(), resourceTypeFilter: Type.ANY, resourceNameFilter: null, patternTypeFilter: Pat.ANY,
      principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY, ...over,
    });
    const carol = await call<DescribeAclsResponse>(f, 'User:admin', ApiKey.DescribeAcls, 3, describe({ principalFilter: 'User:carol' }));
    assert.deepEqual(carol.resources.map((r) => [r.resourceName, r.patternType, r.acls.length]).sort(), [['aud', Pat.PREFIXED, 1], ['audit', Pat.LITERAL, 1]]);
    const match = await call<DescribeAclsResponse>(f, 'User:admin', ApiKey.DescribeAcls, 3, describe({ resourceTypeFilter: Type.TOPIC, resourceNameFilter: 'payments', patternTypeFilter: Pat.MATCH }));
    assert.deepEqual(match.resources.map((r) => r.resourceName), ['pay'], 'MATCH finds the prefixed ACL that applies');
    const bad = await call<DescribeAclsResponse>(f, 'User:admin', ApiKey.DescribeAcls, 3, describe({ operation: 0 }));
    assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
    const aliceDescribe = await call<DescribeAclsResponse>(f, 'User:alice', ApiKey.DescribeAcls, 3, describe({}));
    assert.equal(aliceDescribe.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);

    const deleted = await call<DeleteAclsResponse>(f, 'User:admin', ApiKey.DeleteAcls, 3, {
      ...defaultDeleteAclsRequest(), filters: [{ resourceTypeFilter: Type.TOPIC, resourceNameFilter: null, patternTypeFilter: Pat.ANY, principalFilter: 'User:carol', hostFilter: null, operation: Op.ANY, permissionType: Perm.ANY }],
    });
    assert.deepEqual(deleted.filterResults[0]!.matchingAcls.map((a) => a.resourceName).sort(), ['aud', 'audit']);
    const after = await call<DescribeAclsResponse>(f, 'User:admin', ApiKey.DescribeAcls, 3, describe({ principalFilter: 'User:carol' }));
    assert.deepEqual(after.resources, []);

    const open = await fixture({ authorizer: false });
    const off = await call<CreateAclsResponse>(open, 'User:ANONYMOUS', ApiKey.CreateAcls, 3, { ...defaultCreateAclsRequest(), creations: [creation] });
    assert.equal(off.results[0]!.errorCode, ErrorCode.SECURITY_DISABLED);
    const offDescribe = await call<DescribeAclsResponse>(open, 'User:ANONYMOUS', ApiKey.DescribeAcls, 3, describe({}));
    assert.equal(offDescribe.errorCode, ErrorCode.SECURITY_DISABLED);
  });

  it('SCRAM credential APIs: DESCRIBE / ALTER on the cluster', async () => {
    const f = await fixture();
    const d = await call<DescribeUserScramCredentialsResponse>(f, 'User:alice', ApiKey.DescribeUserScramCredentials, 0, { users: null });
    assert.equal(d.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal((await call<DescribeUserScramCredentialsResponse>(f, 'User:admin', ApiKey.DescribeUserScramCredentials, 0, { users: null })).errorCode, ErrorCode.NONE);
    let altered = 0;
    const alter = alterUserScramCredentialsHandler(async () => { altered++; return []; }, f.auth);
    const a = await alter.handle({ deletions: [{ name: 'carol', mechanism: 1 }], upsertions: [] }, ctxOf('User:alice', ApiKey.AlterUserScramCredentials, 0)) as AlterUserScramCredentialsResponse;
    assert.deepEqual(a.results.map((r) => [r.user, r.errorCode]), [['carol', ErrorCode.CLUSTER_AUTHORIZATION_FAILED]]);
    assert.equal(altered, 0);
  });

  it('allow.everyone.if.no.acl.found: resources without ACLs are open, the others are not', async () => {
    const f = await fixture({ allowEveryone: true });
    const all = await call<MetadataResponse>(f, 'User:bob', ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: null });
    assert.deepEqual(all.topics.map((t) => t.name), ['secret'], 'orders and pay* have ACLs (for alice only)');
  });

  it('internal APIs need CLUSTER_ACTION; the Envelope carries the client principal to the controller', async () => {
    const f = await fixture();
    const internal = createInternalHandlers({ isActiveController: () => true, controller: f.controller, receiveRaft: () => undefined, auth: f.auth });
    const heartbeat = internal.find((h) => h.apiKey === ApiKey.BrokerHeartbeat)!;
    const hb = await heartbeat.handle({ ...defaultBrokerHeartbeatRequest(), brokerId: 1 }, ctxOf('User:alice', ApiKey.BrokerHeartbeat, 0)) as BrokerHeartbeatResponse;
    assert.equal(hb.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);

    // A broker forwards DeleteTopics in an Envelope; the controller authorizes the client inside.
    const controllerHandlers = f.handlers;
    const envelope = envelopeHandler({ handlers: () => controllerHandlers, forwarded: new Set([ApiKey.DeleteTopics]), isActiveController: () => true, auth: f.auth });
    const channelAs = (brokerPrincipal: string) => ({
      request: async (_api: unknown, _version: number, body: unknown) => envelope.handle(body, ctxOf(brokerPrincipal, ApiKey.Envelope, 0)),
    });
    const forwarding = (brokerPrincipal: string): ApiHandler => forwardedToController(f.handlers.get(ApiKey.DeleteTopics)!, {
      isActiveController: () => false,
      toController: (apiKey, apiVersion, request, ctx) => forwardInEnvelope(channelAs(brokerPrincipal), apiOf(apiKey), apiVersion, request, ctx),
    });
    const deleteReq = { ...defaultDeleteTopicsRequest(), topicNames: ['secret'], timeoutMs: 1000 };
    const asAlice = await forwarding('User:admin').handle(deleteReq, ctxOf('User:alice', ApiKey.DeleteTopics, 5)) as DeleteTopicsResponse;
    assert.equal(asAlice.responses[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'the controller saw alice, not the forwarding broker');
    const fromStranger = await forwarding('User:mallory').handle(deleteReq, ctxOf('User:admin', ApiKey.DeleteTopics, 5)) as DeleteTopicsResponse;
    assert.equal(fromStranger.responses[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'the Envelope sender needs CLUSTER_ACTION');
    assert.equal(f.log.image().topics.has('secret'), true);
    const asAdmin = await forwarding('User:admin').handle(deleteReq, ctxOf('User:admin', ApiKey.DeleteTopics, 5)) as DeleteTopicsResponse;
    assert.equal(asAdmin.responses[0]!.errorCode, ErrorCode.NONE);
    assert.equal(f.log.image().topics.has('secret'), false);
  });
});

function apiOf(apiKey: number): NonNullable<ReturnType<typeof apiByKey>> {
  const api = apiByKey(apiKey);
  assert.ok(api !== undefined);
  return api;
}
