import type { MetadataImage } from '../../cluster/image.js';
import type { CreateTopicRequest, CreateTopicResult } from '../../cluster/controller.js';
import type { Partition } from '../../partition/partition.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';
import type { TransactionCoordinator } from '../../transactions/coordinator.js';
import type { AuthHelper } from '../../security/authorizer.js';
import type { AdminDeps, ReassignmentDeps } from './admin-deps.js';

/** What the handlers need from the broker underneath them. */
export interface HandlerDeps extends AdminDeps {
  readonly nodeId: number;
  readonly clusterId: string;
  /** auto.create.topics.enable */
  readonly autoCreateTopics: boolean;
  /** The broker's current metadata image (built from the committed metadata log). */
  metadata(): MetadataImage;
  /** The active controller's node id, -1 if unknown. */
  controllerId(): number;
  /** Forwarded to the active controller; resolves when every partition has its leader, or times out. */
  createTopics(topics: readonly CreateTopicRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreateTopicResult[]>;
  /**
   * Resolves true once this broker's image satisfies `predicate` (it follows the metadata log a
   * moment behind the controller), false after `timeoutMs`.
   */
  waitForMetadata(predicate: (image: MetadataImage) => boolean, timeoutMs: number): Promise<boolean>;
  /** This broker's replica of a partition, if it hosts one. */
  partition(topic: string, partition: number): Partition | undefined;
  /** Resolves when any of the partitions' high watermarks moves, or after `timeoutMs`. */
  waitForHighWatermark(partitions: readonly Partition[], timeoutMs: number): Promise<void>;
  /** A producer id never handed out before (InitProducerId); InitProducerId is served only when set. */
  allocateProducerId?(): Promise<bigint>;
  /** Partition reassignment; AlterPartitionReassignments and ListPartitionReassignments are served only when set. */
  readonly reassignments?: ReassignmentDeps;
  /** The group coordinator (consumer groups and committed offsets); the group APIs are served only when set. */
  readonly groups?: GroupCoordinator;
  /** Authorization checks (absent or without an authorizer: everything is allowed). */
  readonly auth?: AuthHelper;
  /** The transaction coordinator; the transactional APIs are served only when set. */
  readonly transactions?: TransactionCoordinator;
}
