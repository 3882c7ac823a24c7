import { BrokerRegistrationApi, type BrokerRegistrationResponse } from '../../protocol/generated/broker-registration.js';
import { ZERO_UUID } from '../../protocol/primitives.js';
import { BrokerHeartbeatApi, type BrokerHeartbeatResponse } from '../../protocol/generated/broker-heartbeat.js';
import { AlterPartitionApi, type AlterPartitionResponse } from '../../protocol/generated/alter-partition.js';
import { CreateTopicsApi, type CreateTopicsResponse } from '../../protocol/generated/create-topics.js';
import { AllocateProducerIdsApi, type AllocateProducerIdsResponse } from '../../protocol/generated/allocate-producer-ids.js';
import type { Logger } from '../util/log.js';
import type { PeerClient } from '../server/peer-client.js';
import type { Partition } from '../partition/partition.js';
import { ErrorCode, KafkaError } from '../kafka/errors.js';
import { TimeoutError, leadersInPlace, type Controller, type CreateTopicRequest, type CreateTopicResult, type MetadataWriter } from './controller.js';
import type { LeaderReport, LeaderReporter } from './publisher.js';
import type { BrokerEndpoint } from './image.js';

/**
 * How long one attempt of a short controller RPC (registration, heartbeat, AlterPartition,
 * AllocateProducerIds) may take before it is sent again; the call itself keeps its own deadline.
 */
export const CONTROLLER_RPC_ATTEMPT_MS = 5000;

class ControllerMovedError extends Error {
  constructor(message: string) { super(message); this.name = 'ControllerMovedError'; }
}

/** The registration a broker sends the controller. */
export interface BrokerRegistrationInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly incarnationId: string;
  readonly clusterId: string;
  /** Every listener (default: one PLAINTEXT listener at host:port); host and port are the first one's. */
  readonly endpoints?: readonly BrokerEndpoint[];
}

/**
 * How a broker reaches the active controller, wherever it is: a direct call when this broker is
 * the metadata Raft group's leader, Kafka's own controller RPCs (BrokerRegistration,
 * BrokerHeartbeat, AlterPartition, and CreateTopics forwarded as is) otherwise. A call retries
 * while there is no controller or it moved (NOT_CONTROLLER), until its deadline.
 */
export class ControllerClient implements LeaderReporter {
  constructor(
    private readonly nodeId: number,
    private readonly metadataPartition: Partition,
    private readonly controller: Controller,
    private readonly peers: ReadonlyMap<number, PeerClient>,
    /** This broker's view of the metadata log (to wait for it to catch up with the controller). */
    private readonly metadata: Pick<MetadataWriter, 'waitForImage'>,
    private readonly now: () => number,
    private readonly log: Logger,
    /**
     * Connections for the short controller RPCs (registration, heartbeats, AlterPartition,
     * AllocateProducerIds), apart from `peers` (forwarded CreateTopics, Raft traffic): a broker
     * answers a connection's requests in order, so an AlterPartition queued behind a forwarded
     * CreateTopics, which waits for that very report, would wait out the CreateTopics (Kafka's
     * brokers keep a channel per purpose too). Default: `peers`.
     */
    private readonly controlPeers: ReadonlyMap<number, PeerClient> = peers,
  ) {}

  /** The active controller: the metadata partition's Raft leader, -1 while there is none. */
  activeControllerId(): number { return this.metadataPartition.leaderId; }

  registerBroker(info: BrokerRegistrationInfo, timeoutMs: number): Promise<void> {
    return this.call('BrokerRegistration', timeoutMs,
      () => this.controller.registerBroker(info.nodeId, info.host, info.port, info.rack, info.incarnationId, info.endpoints),
      async (peer, attemptMs) => {
        const res = await peer.request(BrokerRegistrationApi, 0, {
          brokerId: info.nodeId, clusterId: info.clusterId, incarnationId: info.incarnationId,
          listeners: (info.endpoints ?? [{ name: 'PLAINTEXT', host: info.host, port: info.port, securityProtocol: 0 }]).map((e) => ({ ...e })),
          features: [], rack: info.rack, isMigratingZkBroker: false, logDirs: [], previousBrokerEpoch: -1n,
        }, attemptMs) as BrokerRegistrationResponse;
        return { errorCode: res.errorCode, value: undefined };
      });
  }

  heartbeat(currentMetadataOffset: bigint, timeoutMs: number, wantShutDown = false, wantFence = false): Promise<void> {
    return this.call('BrokerHeartbeat', timeoutMs,
      async () => { await this.controller.heartbeat(this.nodeId, wantShutDown, wantFence); },
      async (peer, attemptMs) => {
        const res = await peer.request(BrokerHeartbeatApi, 0, {
          brokerId: this.nodeId, brokerEpoch: -1n, currentMetadataOffset, wantFence, wantShutDown, offlineLogDirs: [],
        }, attemptMs) as BrokerHeartbeatResponse;
        return { errorCode: res.errorCode, value: undefined };
      });
  }

  recordLeaders(reports: readonly LeaderReport[]): Promise<void> {
    return this.call('AlterPartition', 10000,
      () => this.controller.recordLeaders(reports),
      async (peer, attemptMs) => {
        const byTopic = new Map<string, LeaderReport[]>();
        for (const r of reports) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
        const res = await peer.request(AlterPartitionApi, 1, {
          brokerId: this.nodeId, brokerEpoch: -1n,
          topics: [...byTopic].map(([topic, rs]) => ({
            topicName: topic, topicId: ZERO_UUID,
            partitions: rs.map((r) => ({
              partitionIndex: r.partition, leaderEpoch: r.leaderEpoch, newIsr: [...r.isr], newIsrWithEpochs: [], leaderRecoveryState: 0, partitionEpoch: -1,
            })),
          })),
        }, attemptMs) as AlterPartitionResponse;
        return { errorCode: res.errorCode, value: undefined };
      });
  }

  /** A block of producer ids for this broker (Kafka's AllocateProducerIds). */
  allocateProducerIds(blockSize: number, timeoutMs: number): Promise<{ firstProducerId: bigint; size: number }> {
    return this.call('AllocateProducerIds', timeoutMs,
      () => this.controller.allocateProducerIds(this.nodeId, blockSize),
      async (peer, attemptMs) => {
        const res = await peer.request(AllocateProducerIdsApi, 0, { brokerId: this.nodeId, brokerEpoch: -1n }, attemptMs) as AllocateProducerIdsResponse;
        return { errorCode: res.errorCode, value: { firstProducerId: res.producerIdStart, size: res.producerIdLen } };
      });
  }

  createTopics(topics: readonly CreateTopicRequest[], timeoutMs: number, validateOnly: boolean): Promise<CreateTopicResult[]> {
    return this.call('CreateTopics', timeoutMs,
      () => this.controller.createTopics(topics, timeoutMs, validateOnly),
      async (peer) => {
        const res = await peer.request(CreateTopicsApi, 7, {
          topics: topics.map((t) => ({
            name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor,
            assignments: t.assignments.map((a) => ({ partitionIndex: a.partition, brokerIds: [...a.brokerIds] })),
            configs: [...t.configs].map(([name, value]) => ({ name, value })),
          })),
          timeoutMs, validateOnly,
        }, timeoutMs + 5000) as CreateTopicsResponse;
        const notController = res.topics.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER);
        // This broker follows the metadata log a moment behind the controller: answer once it
        // shows the new topics' leaders too, so a Metadata request sent here next sees them.
        const created = res.topics.filter((t) => t.errorCode === ErrorCode.NONE && !validateOnly).map((t) => t.name);
        if (created.length > 0) {
          await this.metadata.waitForImage((image) => created.every((name) => leadersInPlace(image, name)), this.now() + 2000).catch(() => undefined);
        }
        return {
          errorCode: notController ? ErrorCode.NOT_CONTROLLER : ErrorCode.NONE,
          value: res.topics.map((t) => ({
            name: t.name, topicId: t.topicId === ZERO_UUID ? null : t.topicId, errorCode: t.errorCode, errorMessage: t.errorMessage,
            numPartitions: t.numPartitions, replicationFactor: t.replicationFactor,
            configs: (t.configs ?? []).map((c) => ({ name: c.name, value: c.value, source: c.configSource })),
          })),
        };
      }, { forwarded: true });
  }

  /**
   * Runs `local` on the active controller or `remote` against it, retrying while it is unknown or
   * moves. A remote attempt of a short RPC (everything but a forwarded CreateTopics) goes over the
   * control connections, gives up after CONTROLLER_RPC_ATTEMPT_MS, and is abandoned as soon as
   * the metadata quorum names another active controller: a paused or partitioned controller then
   * costs one metadata election, not the 30 s inter-broker request timeout. (These RPCs are
   * idempotent: a report or heartbeat that reached the old controller too changes nothing twice.)
   * A forwarded CreateTopics waits for its answer (it may create the topics), up to its deadline.
   */
  private async call<T>(
    what: string, timeoutMs: number, local: () => Promise<T>,
    remote: (peer: PeerClient, attemptTimeoutMs: number) => Promise<{ errorCode: number; value: T }>,
    options: { readonly forwarded?: boolean } = {},
  ): Promise<T> {
    const deadline = this.now() + timeoutMs;
    const forwarded = options.forwarded === true;
    let lastError = 'no active controller';
    for (;;) {
      const active = this.activeControllerId();
      try {
        if (active === this.nodeId) {
          return await local();
        } else if (active !== -1) {
          const peer = (forwarded ? this.peers : this.controlPeers).get(active);
          if (peer === undefined) throw new Error(`active controller ${active} is not in the bootstrap list`);
          const attemptMs = forwarded ? timeoutMs + 5000 : Math.max(1, Math.min(CONTROLLER_RPC_ATTEMPT_MS, deadline - this.now()));
          const { errorCode, value } = forwarded ? await remote(peer, attemptMs) : await this.untilControllerMoves(active, remote(peer, attemptMs));
          if (errorCode === ErrorCode.NONE) return value;
          if (errorCode !== ErrorCode.NOT_CONTROLLER) throw new KafkaError(errorCode, `${what} failed on controller ${active} with error ${errorCode}`);
          lastError = `controller ${active} answered NOT_CONTROLLER`;
        }
      } catch (err) {
        if (err instanceof KafkaError && err.code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && err.code !== ErrorCode.NOT_CONTROLLER) throw err;
        if (err instanceof TimeoutError) throw err;
        lastError = (err as Error).message;
      }
      const remaining = deadline - this.now();
      if (remaining <= 0) throw new TimeoutError(`${what}: ${lastError} (gave up after ${timeoutMs} ms)`);
      this.log.debug({ what, lastError }, 'controller call retrying');
      // at once if the controller moved already; otherwise when it does, or a moment later
      if (this.activeControllerId() === active) await this.controllerChange(Math.min(remaining, 250));
    }
  }

  /** `attempt`, or a rejection as soon as the active controller is no longer `active`. */
  private untilControllerMoves<R>(active: number, attempt: Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const onLeadership = (): void => {
        if (this.activeControllerId() === active) return;
        this.metadataPartition.off('leadership', onLeadership);
        reject(new ControllerMovedError(`controller ${active} is no longer active (now ${this.activeControllerId()})`));
      };
      this.metadataPartition.on('leadership', onLeadership);
      attempt.then((v) => { this.metadataPartition.off('leadership', onLeadership); resolve(v); },
        (err: unknown) => { this.metadataPartition.off('leadership', onLeadership); reject(err as Error); });
    });
  }

  /** Resolves when the metadata partition's leadership changes, or after `ms`. */
  private controllerChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); this.metadataPartition.off('leadership', done); resolve(); };
      const timer = setTimeout(done, ms);
      this.metadataPartition.on('leadership', done);
    });
  }
}
