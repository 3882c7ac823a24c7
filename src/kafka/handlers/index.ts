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
import { createAclsHandler } from './create-acls.js';
import { describeAclsHandler } from './describe-acls.js';
import { deleteAclsHandler } from './delete-acls.js';
import { authOf } from '../../security/authorizer.js';
import { saslHandshakeHandler } from './sasl-handshake.js';
import { saslAuthenticateHandler } from './sasl-authenticate.js';
import { describeUserScramCredentialsHandler } from './describe-user-scram-credentials.js';
import { writeTxnMarkersHandler } from './write-txn-markers.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';
import { describeProducersHandler } from './describe-producers.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.js';
import { endTxnHandler } from './end-txn.js';
import { describeTransactionsHandler } from './describe-transactions.js';
import { listTransactionsHandler } from './list-transactions.js';
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
  add(createAclsHandler(deps));
  add(describeAclsHandler(deps));
  add(deleteAclsHandler(deps));
  add(saslHandshakeHandler());
  add(saslAuthenticateHandler());
  add(describeUserScramCredentialsHandler(() => deps.metadata(), authOf(deps)));
  add(writeTxnMarkersHandler(deps));
  add(describeProducersHandler(deps));
  if (deps.reassignments !== undefined) {
    add(alterPartitionReassignmentsHandler(deps.reassignments, authOf(deps)));
    add(listPartitionReassignmentsHandler(deps.reassignments, authOf(deps)));
  }
  if (deps.groups !== undefined) {
    const g = deps.groups;
    const auth = authOf(deps);
    add(findCoordinatorHandler(deps, g, deps.transactions));
    add(joinGroupHandler(g, auth));
    add(syncGroupHandler(g, auth));
    add(heartbeatHandler(g, auth));
    add(leaveGroupHandler(g, auth));
    add(offsetCommitHandler(deps, g, auth));
    add(offsetFetchHandler(g, auth));
    add(describeGroupsHandler(g, auth));
    add(listGroupsHandler(g, auth));
    add(deleteGroupsHandler(g, auth));
    add(offsetDeleteHandler(deps, g, auth));
    add(txnOffsetCommitHandler(deps, g, auth));
  }
  if (deps.transactions !== undefined) {
    const t = deps.transactions;
    const auth = authOf(deps);
    add(addPartitionsToTxnHandler(deps, t));
    add(addOffsetsToTxnHandler(t, auth));
    add(endTxnHandler(t, auth));
    add(describeTransactionsHandler(t, auth));
    add(listTransactionsHandler(t, auth));
  }
  return handlers;
}
