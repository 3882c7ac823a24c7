import { ApiKey } from '../../../protocol/generated/index.js';
import { defaultBrokerRegistrationResponse, type BrokerRegistrationRequest, type BrokerRegistrationResponse } from '../../../protocol/generated/broker-registration.js';
import type { BrokerHeartbeatRequest, BrokerHeartbeatResponse } from '../../../protocol/generated/broker-heartbeat.js';
import type { AlterPartitionRequest, AlterPartitionResponse } from '../../../protocol/generated/alter-partition.js';
import type { AllocateProducerIdsRequest, AllocateProducerIdsResponse } from '../../../protocol/generated/allocate-producer-ids.js';
import { PRODUCER_ID_BLOCK_SIZE } from '../../partition/producer-ids.js';
import type { HostEnvelope } from '../../raft/host.js';
import type { Controller } from '../../cluster/controller.js';
import { RaftEnvelopeApi, LeaderTransferApi, InternalApiKey, type LeaderTransferItem, type LeaderTransferRequest, type LeaderTransferResponse } from '../../server/internal-apis.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { defineHandler, type ApiHandler, type RequestContext } from './handler.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

export interface InternalDeps {
  /** True while this broker is the active controller (the metadata Raft group's leader). */
  isActiveController(): boolean;
  readonly controller: Controller;
  /** Raft traffic from a peer broker, for this broker's RaftHost. */
  receiveRaft(envelope: HostEnvelope): void;
  /** The controller's LeaderTransfer: this broker's replica starts a Raft leadership transfer if it leads; returns an error code. */
  startLeaderTransfer?(item: LeaderTransferItem): number;
  /** With an authorizer, every internal API needs CLUSTER_ACTION on the cluster (Kafka's rule for broker-to-broker APIs). */
  readonly auth?: AuthHelper;
}

/** A failure of the controller's own Raft write means it just lost leadership: tell the caller to find the new one. */
function controllerError(err: unknown): number {
  if (err instanceof KafkaError) return err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_CONTROLLER : err.code;
  throw err;
}

/** Broker-to-broker APIs: Raft envelopes, and the controller RPCs. Never advertised to clients. */
export function createInternalHandlers(deps: InternalDeps): ApiHandler[] {
  const auth = deps.auth ?? NO_AUTHORIZER;
  const clusterAction = (ctx: RequestContext): boolean => auth.authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
  return [
    defineHandler<HostEnvelope, null>({
      apiKey: InternalApiKey.RaftEnvelope, minVersion: 0, maxVersion: 0, internal: true, descriptor: RaftEnvelopeApi,
      handle(envelope, ctx) {
        if (!clusterAction(ctx)) {
          ctx.log.warn({ principal: ctx.connection.principal, remoteAddress: ctx.connection.remoteAddress }, 'Raft traffic dropped: the sender lacks CLUSTER_ACTION on the cluster');
          return null;
        }
        deps.receiveRaft(envelope);
        return null;
      },
      errorResponse: () => null,
    }),
    defineHandler<LeaderTransferRequest, LeaderTransferResponse>({
      // From the active controller (ElectLeaders): hand these partitions to their preferred replicas.
      apiKey: InternalApiKey.LeaderTransfer, minVersion: 0, maxVersion: 0, internal: true, descriptor: LeaderTransferApi,
      handle(req, ctx) {
        const denied = !clusterAction(ctx);
        return {
          results: req.partitions.map((p) => ({
            topic: p.topic, partition: p.partition,
            errorCode: denied ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED
              : deps.startLeaderTransfer === undefined ? ErrorCode.UNSUPPORTED_VERSION : deps.startLeaderTransfer(p),
          })),
        };
      },
      errorResponse: (req, errorCode) => ({ results: req.partitions.map((p) => ({ topic: p.topic, partition: p.partition, errorCode })) }),
    }),
    defineHandler<BrokerRegistrationRequest, BrokerRegistrationResponse>({
      apiKey: ApiKey.BrokerRegistration, minVersion: 0, maxVersion: 0, internal: true,
      async handle(req, ctx) {
        if (!clusterAction(ctx)) return { ...defaultBrokerRegistrationResponse(), errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED };
        if (!deps.isActiveController()) return { ...defaultBrokerRegistrationResponse(), errorCode: ErrorCode.NOT_CONTROLLER };
        const listener = req.listeners[0];
        if (listener === undefined) return { ...defaultBrokerRegistrationResponse(), errorCode: ErrorCode.INVALID_REQUEST };
        try {
          await deps.controller.registerBroker(req.brokerId, listener.host, listener.port, req.rack, req.incarnationId,
            req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })));
          return { ...defaultBrokerRegistrationResponse(), brokerEpoch: deps.controller.brokerEpoch(req.brokerId) };
        } catch (err) {
          return { ...defaultBrokerRegistrationResponse(), errorCode: controllerError(err) };
        }
      },
      errorResponse: (_req, errorCode) => ({ ...defaultBrokerRegistrationResponse(), errorCode }),
    }),
    defineHandler<BrokerHeartbeatRequest, BrokerHeartbeatResponse>({
      apiKey: ApiKey.BrokerHeartbeat, minVersion: 0, maxVersion: 0, internal: true,
      async handle(req, ctx) {
        const answer = (errorCode: number, isFenced: boolean): BrokerHeartbeatResponse => ({
          throttleTimeMs: 0, errorCode, isCaughtUp: !isFenced, isFenced, shouldShutDown: false,
        });
        if (!clusterAction(ctx)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, true);
        if (!deps.isActiveController()) return answer(ErrorCode.NOT_CONTROLLER, true);
        try {
          const { known, fenced } = await deps.controller.heartbeat(req.brokerId, req.wantShutDown, req.wantFence);
          const res = answer(known ? ErrorCode.NONE : ErrorCode.BROKER_NOT_AVAILABLE, fenced);
          return req.wantShutDown ? { ...res, shouldShutDown: true } : res;
        } catch (err) {
          return answer(controllerError(err), true);
        }
      },
      errorResponse: (_req, errorCode) => ({ throttleTimeMs: 0, errorCode, isCaughtUp: false, isFenced: true, shouldShutDown: false }),
    }),
    defineHandler<AllocateProducerIdsRequest, AllocateProducerIdsResponse>({
      apiKey: ApiKey.AllocateProducerIds, minVersion: 0, maxVersion: 0, internal: true,
      async handle(req, ctx) {
        const answer = (errorCode: number, producerIdStart = -1n, producerIdLen = 0): AllocateProducerIdsResponse =>
          ({ throttleTimeMs: 0, errorCode, producerIdStart, producerIdLen });
        if (!clusterAction(ctx)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
        if (!deps.isActiveController()) return answer(ErrorCode.NOT_CONTROLLER);
        try {
          const block = await deps.controller.allocateProducerIds(req.brokerId, PRODUCER_ID_BLOCK_SIZE);
          return answer(ErrorCode.NONE, block.firstProducerId, block.size);
        } catch (err) {
          return answer(controllerError(err));
        }
      },
      errorResponse: (_req, errorCode) => ({ throttleTimeMs: 0, errorCode, producerIdStart: -1n, producerIdLen: 0 }),
    }),
    defineHandler<AlterPartitionRequest, AlterPartitionResponse>({
      // A partition leader reports itself (leader epoch = its Raft term) and its in-sync replicas.
      apiKey: ApiKey.AlterPartition, minVersion: 1, maxVersion: 1, internal: true,
      async handle(req, ctx) {
        if (!clusterAction(ctx)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, topics: [] };
        if (!deps.isActiveController()) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
        try {
          await deps.controller.recordLeaders(req.topics.flatMap((t) => t.partitions.map((p) => ({
            topic: t.topicName, partition: p.partitionIndex, leader: req.brokerId, leaderEpoch: p.leaderEpoch, isr: p.newIsr,
          }))));
          return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: [] };
        } catch (err) {
          return { throttleTimeMs: 0, errorCode: controllerError(err), topics: [] };
        }
      },
      errorResponse: (_req, errorCode) => ({ throttleTimeMs: 0, errorCode, topics: [] }),
    }),
  ];
}
