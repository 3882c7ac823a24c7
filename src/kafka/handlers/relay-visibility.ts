import { ApiKey } from '../../../protocol/generated/index.js';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../../protocol/generated/alter-configs.js';
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../../../protocol/generated/incremental-alter-configs.js';
import type { CreatePartitionsRequest } from '../../../protocol/generated/create-partitions.js';
import type { AlterPartitionReassignmentsRequest } from '../../../protocol/generated/alter-partition-reassignments.js';
import type { MetadataImage } from '../../cluster/image.js';
import { leadersInPlace } from '../../cluster/controller.js';
import { configChangeVisible, type ConfigResourceChange } from '../../cluster/topic-admin.js';
import { aclChangeVisible } from '../../security/acl-admin.js';
import { ErrorCode } from '../errors.js';
import { alterConfigsChange } from './alter-configs.js';
import { incrementalAlterConfigsChange } from './incremental-alter-configs.js';

/**
 * What a broker that relayed a forwarded admin request waits to see in its own metadata image
 * before it answers the client, so that the client's next request to it (DescribeAcls,
 * DescribeConfigs, Metadata, ListPartitionReassignments) shows the change: the ACLs created or
 * deleted, the configs altered, the reassignment started or cancelled, the new partitions with
 * their leaders. Undefined for a request with nothing to wait for.
 */
export function relayedChangeVisible(apiKey: number, request: unknown, response: unknown): ((image: MetadataImage) => boolean) | undefined {
  const acls = aclChangeVisible(apiKey, request, response);
  if (acls !== undefined) return (image) => acls(image.acls);
  switch (apiKey) {
    case ApiKey.AlterConfigs: {
      const r = request as AlterConfigsRequest;
      return r.validateOnly ? undefined : configsVisible(r.resources.map(alterConfigsChange), (response as AlterConfigsResponse).responses);
    }
    case ApiKey.IncrementalAlterConfigs: {
      const r = request as IncrementalAlterConfigsRequest;
      return r.validateOnly ? undefined : configsVisible(r.resources.map(incrementalAlterConfigsChange), (response as IncrementalAlterConfigsResponse).responses);
    }
    case ApiKey.AlterPartitionReassignments: {
      // Metadata then shows the reassignment (replicas = the union) or its cancellation
      const wanted = (request as AlterPartitionReassignmentsRequest).topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p })));
      return (image) => wanted.every((w) => {
        const p = image.partition(w.topic, w.partitionIndex);
        return p === undefined || (w.replicas === null ? (p.addingReplicas ?? []).length === 0 : w.replicas.every((r) => p.replicas.includes(r)));
      });
    }
    case ApiKey.CreatePartitions: {
      const wanted = (request as CreatePartitionsRequest).topics;
      return (image) => wanted.every((t) => {
        const topic = image.topics.get(t.name);
        return topic === undefined || (topic.partitions.length >= t.count && leadersInPlace(image, t.name));
      });
    }
    default:
      return undefined;
  }
}

/** The changes whose resource the controller answered without error (responses are in request order). */
function configsVisible(changes: readonly ConfigResourceChange[], responses: readonly { errorCode: number }[]): ((image: MetadataImage) => boolean) | undefined {
  const applied = changes.filter((_, i) => responses[i]?.errorCode === ErrorCode.NONE);
  return applied.length === 0 ? undefined : (image) => applied.every((c) => configChangeVisible(image, c));
}
