import { CreateTopicsApi, type CreateTopicsResponse } from '../../../protocol/generated/create-topics.js';
import { DeleteTopicsApi, type DeleteTopicsResponse } from '../../../protocol/generated/delete-topics.js';
import { CreatePartitionsApi, type CreatePartitionsResponse } from '../../../protocol/generated/create-partitions.js';
import { DescribeConfigsApi, type DescribeConfigsResponse } from '../../../protocol/generated/describe-configs.js';
import { IncrementalAlterConfigsApi, type IncrementalAlterConfigsResponse } from '../../../protocol/generated/incremental-alter-configs.js';
import { ElectLeadersApi, type ElectLeadersResponse } from '../../../protocol/generated/elect-leaders.js';
import { AlterPartitionReassignmentsApi, type AlterPartitionReassignmentsResponse } from '../../../protocol/generated/alter-partition-reassignments.js';
import { ListPartitionReassignmentsApi, type ListPartitionReassignmentsResponse } from '../../../protocol/generated/list-partition-reassignments.js';
import { ErrorCode } from '../../kafka/errors.js';
import { BrokerError, type KafkaClient } from './client.js';

/** Admin operations of the tools, each sent to the active controller (Kafka's Admin client calls). */

export interface ResultError { readonly name: string; readonly error: BrokerError | null }

const resultOf = (name: string, errorCode: number, errorMessage: string | null): ResultError => ({
  name, error: errorCode === ErrorCode.NONE ? null : new BrokerError(errorCode, errorMessage),
});

export async function createTopic(client: KafkaClient, t: {
  name: string; numPartitions: number; replicationFactor: number; assignments: number[][] | null; configs: Map<string, string>;
}, timeoutMs = 30000): Promise<ResultError> {
  const { body } = await client.controllerRequest<CreateTopicsResponse>(CreateTopicsApi, {
    topics: [{
      name: t.name, numPartitions: t.assignments === null ? t.numPartitions : -1, replicationFactor: t.assignments === null ? t.replicationFactor : -1,
      assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: [...t.configs].map(([name, value]) => ({ name, value })),
    }],
    timeoutMs, validateOnly: false,
  }, { timeoutMs });
  const r = body.topics[0]!;
  return resultOf(r.name, r.errorCode, r.errorMessage);
}

export async function deleteTopics(client: KafkaClient, names: readonly string[], timeoutMs = 30000): Promise<ResultError[]> {
  const { body } = await client.controllerRequest<DeleteTopicsResponse>(DeleteTopicsApi, {
    topicNames: [...names], topics: names.map((name) => ({ name, topicId: '00000000-0000-0000-0000-000000000000' })), timeoutMs,
  }, { timeoutMs });
  return body.responses.map((r) => resultOf(r.name ?? '', r.errorCode, r.errorMessage));
}

export async function createPartitions(client: KafkaClient, name: string, count: number, assignments: number[][] | null, timeoutMs = 30000): Promise<ResultError> {
  const { body } = await client.controllerRequest<CreatePartitionsResponse>(CreatePartitionsApi, {
    topics: [{ name, count, assignments: assignments === null ? null : assignments.map((brokerIds) => ({ brokerIds })) }],
    timeoutMs, validateOnly: false,
  }, { timeoutMs });
  const r = body.results[0]!;
  return resultOf(r.name, r.errorCode, r.errorMessage);
}

export type ConfigEntry = DescribeConfigsResponse['results'][number]['configs'][number];

/** DescribeConfigs of one resource (2 topic, 4 broker), with synonyms; sent to that broker for broker resources. */
export async function describeConfigs(client: KafkaClient, resourceType: number, resourceName: string): Promise<ConfigEntry[]> {
  const body = {
    resources: [{ resourceType, resourceName, configurationKeys: null }], includeSynonyms: true, includeDocumentation: false,
  };
  const res = resourceType === 4 && /^\d+$/.test(resourceName)
    ? await (await client.broker(Number(resourceName))).request<DescribeConfigsResponse>(DescribeConfigsApi, body, { min: 1 })
    : await client.controllerRequest<DescribeConfigsResponse>(DescribeConfigsApi, body, { min: 1 });
  const r = res.body.results[0]!;
  if (r.errorCode !== ErrorCode.NONE) throw new BrokerError(r.errorCode, r.errorMessage);
  return [...r.configs].sort((a, b) => a.name.localeCompare(b.name));
}

export async function incrementalAlterConfigs(client: KafkaClient, resourceType: number, resourceName: string,
  ops: readonly { name: string; op: number; value: string | null }[]): Promise<void> {
  const { body } = await client.controllerRequest<IncrementalAlterConfigsResponse>(IncrementalAlterConfigsApi, {
    resources: [{ resourceType, resourceName, configs: ops.map((o) => ({ name: o.name, configOperation: o.op, value: o.value })) }],
    validateOnly: false,
  });
  const r = body.responses[0]!;
  if (r.errorCode !== ErrorCode.NONE) throw new BrokerError(r.errorCode, r.errorMessage);
}

export async function electLeaders(client: KafkaClient, electionType: number, partitions: { topic: string; partition: number }[] | null, timeoutMs = 30000):
Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]> {
  const byTopic = new Map<string, number[]>();
  for (const p of partitions ?? []) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  const { body } = await client.controllerRequest<ElectLeadersResponse>(ElectLeadersApi, {
    electionType, timeoutMs,
    topicPartitions: partitions === null ? null : [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })),
  }, { min: 1, timeoutMs });
  if (body.errorCode !== ErrorCode.NONE) throw new BrokerError(body.errorCode, null);
  return body.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => ({
    topic: t.topic, partition: p.partitionId, errorCode: p.errorCode, errorMessage: p.errorMessage,
  })));
}

/** AlterPartitionReassignments v0: `replicas` null cancels. Per-partition results. */
export async function alterPartitionReassignments(client: KafkaClient, partitions: readonly { topic: string; partition: number; replicas: readonly number[] | null }[], timeoutMs = 30000):
Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]> {
  const byTopic = new Map<string, { partitionIndex: number; replicas: number[] | null }[]>();
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partitionIndex: p.partition, replicas: p.replicas === null ? null : [...p.replicas] }]);
  const { body } = await client.controllerRequest<AlterPartitionReassignmentsResponse>(AlterPartitionReassignmentsApi, {
    timeoutMs, topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps })),
  }, { timeoutMs });
  if (body.errorCode !== ErrorCode.NONE) throw new BrokerError(body.errorCode, body.errorMessage);
  return body.responses.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode, errorMessage: p.errorMessage })));
}

/** ListPartitionReassignments v0: the reassignments in progress. */
export async function listPartitionReassignments(client: KafkaClient, timeoutMs = 30000):
Promise<{ topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[]> {
  const { body } = await client.controllerRequest<ListPartitionReassignmentsResponse>(ListPartitionReassignmentsApi, { timeoutMs, topics: null }, { timeoutMs });
  if (body.errorCode !== ErrorCode.NONE) throw new BrokerError(body.errorCode, body.errorMessage);
  return body.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })));
}
