import { ApiKey } from '../../../protocol/generated/index.js';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../../../protocol/generated/find-coordinator.js';
import { OFFSETS_TOPIC } from '../../groups/coordinator.js';
import { TRANSACTION_STATE_TOPIC, type TransactionCoordinator } from '../../transactions/coordinator.js';
import { ErrorCode } from '../errors.js';
import { AclOperation, AclResourceType } from '../../security/acls.js';
import { authOf, type AuthContext } from '../../security/authorizer.js';
import { endpointFor } from '../../cluster/image.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';
import type { GroupCoordinator } from '../../groups/coordinator.js';

type Coordinator = FindCoordinatorResponse['coordinators'][number];

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;
/** How long FindCoordinator waits for `__consumer_offsets` / `__transaction_state` to be created on first use. */
const CREATE_TIMEOUT_MS = 30_000;

/**
 * FindCoordinator: for a group, the leader of its `__consumer_offsets` partition; for a
 * transactional id, the leader of its `__transaction_state` partition (each topic created on
 * first use, waiting for its leaders). Without a transaction coordinator, transaction keys get
 * COORDINATOR_NOT_AVAILABLE. v4+ answers a batch of keys.
 */
export function findCoordinatorHandler(deps: HandlerDeps, groups: GroupCoordinator, txns?: TransactionCoordinator): ApiHandler {
  const leaderOf = (key: string, topic: string, partition: number, listenerName: string): Coordinator => {
    const image = deps.metadata();
    const leader = image.partition(topic, partition)?.leader ?? -1;
    const broker = leader < 0 ? undefined : image.brokers.get(leader);
    // The coordinator's endpoint on the listener the request came in on.
    const endpoint = broker === undefined || broker.fenced ? undefined : endpointFor(broker, listenerName);
    if (broker === undefined || endpoint === undefined) return failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    return { key, nodeId: broker.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
  };
  // DESCRIBE on the group, or on the transactional id.
  const auth = authOf(deps);
  const denied = (key: string, keyType: number, ctx: AuthContext): Coordinator | undefined => {
    if (keyType === GROUP_KEY && !auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.GROUP, key)) return failed(key, ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (keyType === TRANSACTION_KEY && !auth.authorize(ctx, AclOperation.DESCRIBE, AclResourceType.TRANSACTIONAL_ID, key)) return failed(key, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null);
    return undefined;
  };
  const lookup = async (key: string, keyType: number, listenerName: string): Promise<Coordinator> => {
    if (keyType === TRANSACTION_KEY) {
      if (txns === undefined) return failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The transaction coordinator is not available.');
      if (key === '') return failed(key, ErrorCode.INVALID_REQUEST, 'The transactional id is empty.');
      const created = await txns.ensureTopic(CREATE_TIMEOUT_MS);
      if (created !== ErrorCode.NONE) return failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
      return leaderOf(key, TRANSACTION_STATE_TOPIC, txns.partitionFor(key), listenerName);
    }
    if (keyType !== GROUP_KEY) return failed(key, ErrorCode.INVALID_REQUEST, `Unknown coordinator type ${keyType}`);
    const created = await groups.ensureOffsetsTopic(CREATE_TIMEOUT_MS);
    if (created !== ErrorCode.NONE) return failed(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    return leaderOf(key, OFFSETS_TOPIC, groups.partitionFor(key), listenerName);
  };
  return defineHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
    apiKey: ApiKey.FindCoordinator,
    minVersion: 0,
    maxVersion: 6,
    async handle(request, ctx) {
      if (ctx.apiVersion >= 4) {
        const coordinators = await Promise.all(request.coordinatorKeys.map((k) => denied(k, request.keyType, ctx) ?? lookup(k, request.keyType, ctx.connection.listenerName)));
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: -1, host: '', port: -1, coordinators };
      }
      const c = denied(request.key, request.keyType, ctx) ?? await lookup(request.key, request.keyType, ctx.connection.listenerName);
      return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port, coordinators: [] };
    },
    errorResponse: (request, errorCode, ctx) => ctx.apiVersion >= 4
      ? { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: -1, host: '', port: -1, coordinators: request.coordinatorKeys.map((k) => failed(k, errorCode, null)) }
      : { throttleTimeMs: 0, errorCode, errorMessage: null, nodeId: -1, host: '', port: -1, coordinators: [] },
  });
}

function failed(key: string, errorCode: number, errorMessage: string | null): Coordinator {
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage };
}
