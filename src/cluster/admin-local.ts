import type { BrokerConfig } from '../config.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import type { AdminDeps, ReassignmentDeps } from '../kafka/handlers/admin-deps.js';
import type { Controller } from './controller.js';

/**
 * The admin handlers' deps served by this broker's own Controller. Only the active controller may
 * change metadata: elsewhere the request fails with NOT_CONTROLLER, which Kafka clients retry
 * against the controller id Metadata gives them. (Forwarding can replace this later.)
 */
export function localAdminDeps(options: {
  readonly brokerConfig: BrokerConfig;
  readonly controller: Controller;
  readonly isActiveController: () => boolean;
  /** Asks the partition's leader (`leader`, as the image names it; this broker or another) to hand leadership to `to`. */
  readonly transferLeadership: (topic: string, partition: number, to: number, leader: number) => void;
}): AdminDeps {
  const { controller } = options;
  const active = (): void => {
    if (!options.isActiveController()) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the active controller.');
  };
  return {
    brokerConfig: options.brokerConfig,
    async deleteTopics(topics) { active(); return controller.deleteTopics(topics); },
    async createPartitions(topics, timeoutMs, validateOnly) { active(); return controller.createPartitions(topics, timeoutMs, validateOnly); },
    async alterConfigs(changes, validateOnly) { active(); return controller.alterConfigs(changes, validateOnly); },
    async electLeaders(partitions, electionType, timeoutMs) {
      active();
      return controller.electLeaders(partitions, electionType, timeoutMs, options.transferLeadership);
    },
    async createAcls(creations) { active(); return controller.createAcls(creations); },
    async deleteAcls(filters) { active(); return controller.deleteAcls(filters); },
  };
}

/** AlterPartitionReassignments and ListPartitionReassignments on this broker's Controller (NOT_CONTROLLER elsewhere: the broker forwards them). */
export function localReassignmentDeps(controller: Controller, isActiveController: () => boolean): ReassignmentDeps {
  const active = (): void => {
    if (!isActiveController()) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the active controller.');
  };
  return {
    async alterPartitionReassignments(requests) { active(); return controller.alterPartitionReassignments(requests); },
    async listPartitionReassignments(topics) { active(); return controller.listPartitionReassignments(topics); },
  };
}
