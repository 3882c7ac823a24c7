import type { ApiHandler } from './handler.js';
import type { HandlerDeps } from './deps.js';
import { apiVersionsHandler } from './api-versions.js';
import { metadataHandler } from './metadata.js';
import { createTopicsHandler } from './create-topics.js';
import { produceHandler } from './produce.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { joinGroupHandler } from './join-group.js';
import { syncGroupHandler } from './sync-group.js';
import { heartbeatHandler } from './heartbeat.js';
import { leaveGroupHandler } from './leave-group.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { describeGroupsHandler } from './describe-groups.js';
import { listGroupsHandler } from './list-groups.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { deleteRecordsHandler } from './delete-records.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { createPartitionsHandler } from './create-partitions.js';
import { describeConfigsHandler } from './describe-configs.js';
import { alterConfigsHandler } from './alter-configs.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { describeClusterHandler } from './describe-cluster.js';
import { electLeadersHandler } from './elect-leaders.js';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.js';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.js';

/** Every API the broker serves, by api key. ApiVersions advertises exactly these. */
export function createHandlers(deps: HandlerDeps): Map<number, ApiHandler> {
  const handlers = new Map<number, ApiHandler>();
  const add = (h: ApiHandler): void => { handlers.set(h.apiKey, h); };
  add(apiVersionsHandler(() => handlers.values()));
  add(metadataHandler(deps));
  add(createTopicsHandler(deps));
  add(produceHandler(deps));
  add(fetchHandler(deps));
  add(listOffsetsHandler(deps));
  if (deps.allocateProducerId !== undefined) add(initProducerIdHandler(deps));
  add(offsetForLeaderEpochHandler(deps));
  add(deleteRecordsHandler(deps));
  add(deleteTopicsHandler(deps));
  add(createPartitionsHandler(deps));
  add(describeConfigsHandler(deps));
  add(alterConfigsHandler(deps));
  add(incrementalAlterConfigsHandler(deps));
  add(describeClusterHandler(deps));
  add(electLeadersHandler(deps));
  if (deps.reassignments !== undefined) {
    add(alterPartitionReassignmentsHandler(deps.reassignments));
    add(listPartitionReassignmentsHandler(deps.reassignments));
  }
  if (deps.groups !== undefined) {
    const g = deps.groups;
    add(findCoordinatorHandler(deps, g));
    add(joinGroupHandler(g));
    add(syncGroupHandler(g));
    add(heartbeatHandler(g));
    add(leaveGroupHandler(g));
    add(offsetCommitHandler(deps, g));
    add(offsetFetchHandler(g));
    add(describeGroupsHandler(g));
    add(listGroupsHandler(g));
    add(deleteGroupsHandler(g));
    add(offsetDeleteHandler(deps, g));
  }
  return handlers;
}
