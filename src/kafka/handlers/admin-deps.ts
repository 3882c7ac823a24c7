import { KafkaError } from '../errors.js';
import type { ApiHandler } from './handler.js';
import type { BrokerConfig } from '../../config.js';
import type { Acl, AclFilter } from '../../security/acls.js';
import type { AclCreateResult, AclDeleteResult } from '../../security/acl-admin.js';
import type { OngoingReassignment, ReassignmentRequest, ReassignmentResult } from '../../cluster/reassignment.js';
import type {
  ConfigChangeResult, ConfigResourceChange, CreatePartitionsRequest, CreatePartitionsResult, DeleteTopicRequest, DeleteTopicResult,
} from '../../cluster/topic-admin.js';

export interface ElectionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** What the admin handlers need (each call goes to the active controller). */
export interface AdminDeps {
  /** This broker's static configuration (DescribeConfigs for the broker resource). */
  readonly brokerConfig: BrokerConfig;
  deleteTopics(topics: readonly DeleteTopicRequest[], timeoutMs: number): Promise<DeleteTopicResult[]>;
  createPartitions(topics: readonly CreatePartitionsRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreatePartitionsResult[]>;
  alterConfigs(changes: readonly ConfigResourceChange[], validateOnly: boolean): Promise<ConfigChangeResult[]>;
  /** `partitions` null: every partition. */
  electLeaders(partitions: readonly { topic: string; partition: number }[] | null, electionType: number, timeoutMs: number): Promise<ElectionResult[]>;
  /** CreateAcls: one result per creation, in order. */
  createAcls(creations: readonly Acl[]): Promise<AclCreateResult[]>;
  /** DeleteAcls: one result per filter, in order, with the ACLs it removed. */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclDeleteResult[]>;
}

/** Partition reassignment (AlterPartitionReassignments, ListPartitionReassignments), on the active controller. */
export interface ReassignmentDeps {
  alterPartitionReassignments(requests: readonly ReassignmentRequest[], timeoutMs: number): Promise<ReassignmentResult[]>;
  /** `topics` null: every partition. */
  listPartitionReassignments(topics: readonly { name: string; partitions: readonly number[] }[] | null): Promise<OngoingReassignment[]>;
}

/** Answers a KafkaError thrown by `handle` (NOT_CONTROLLER, ...) with the handler's error response for its code. */
export function answeringKafkaErrors<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler<Req, Res> {
  return {
    ...h,
    async handle(request, ctx) {
      try {
        return await h.handle(request, ctx);
      } catch (err) {
        if (err instanceof KafkaError) return h.errorResponse(request, err.code, ctx);
        throw err;
      }
    },
  };
}
