import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from './util/log.js';
import { systemClock } from './util/clock.js';
import { Random } from './util/random.js';
import type { BrokerConfig, ClusterMember } from './config.js';
import { HardStateStore } from './storage/hard-state.js';
import { FlushScheduler } from './storage/flush-scheduler.js';
import { ReplicaManager } from './partition/replica-manager.js';
import { BrokerRaft } from './partition/raft-groups.js';
import { PRODUCER_ID_BLOCK_SIZE, ProducerIdManager } from './partition/producer-ids.js';
import { Controller } from './cluster/controller.js';
import { CONTROLLER_RPC_ATTEMPT_MS, ControllerClient } from './cluster/controller-client.js';
import { MetadataLog, METADATA_TOPIC } from './cluster/metadata-log.js';
import { MetadataPublisher } from './cluster/publisher.js';
import { LogMaintenance } from './partition/log-maintenance.js';
import { localAdminDeps, localReassignmentDeps } from './cluster/admin-local.js';
import { createHandlers } from './kafka/handlers/index.js';
import { createInternalHandlers } from './kafka/handlers/internal.js';
import { envelopeHandler, forwardInEnvelope, forwardedToController, type Forwarder } from './kafka/handlers/forward.js';
import { relayedChangeVisible } from './kafka/handlers/relay-visibility.js';
import { createAuthHelper } from './security/authorizer.js';
import { heldUntil } from './kafka/handlers/startup-gate.js';
import { ApiKey, apiByKey } from '../protocol/generated/index.js';
import { ListenerSet } from './server/listener-set.js';
import { ErrorCode, KafkaError } from './kafka/errors.js';
import { alterUserScramCredentialsHandler } from './kafka/handlers/alter-user-scram-credentials.js';
import { parseAddScramList } from './security/scram.js';
import { scramCredentialLookup } from './security/scram-admin.js';
import { ScramBootstrapper } from './security/scram-bootstrap.js';
import { interBrokerSecurity } from './security/inter-broker.js';
import { GroupCoordinator, groupCoordinatorConfig } from './groups/coordinator.js';
import { systemScheduler } from './groups/scheduler.js';
import { PeerClient } from './server/peer-client.js';
import { TransactionCoordinator, transactionCoordinatorConfig } from './transactions/coordinator.js';
import { writeTxnMarkers } from './kafka/handlers/write-txn-markers.js';
import { WriteTxnMarkersApi, type WriteTxnMarkersResponse } from '../protocol/generated/write-txn-markers.js';
import { RaftEnvelopeApi, type LeaderTransferItem } from './server/internal-apis.js';
import { LeaderTransferRouter } from './cluster/leader-transfer.js';
import { BrokerMetrics, MetricsServer } from './metrics/broker-metrics.js';
import { brokerMetricsSource, countElections } from './metrics/broker-source.js';

/** Raft tick: heartbeats every tick, elections after 10 to 20 ticks (1 to 2 s), as KRaft's 1 s timeout. */
const RAFT_TICK_MS = 100;
/** How often partition leaders check whether their leadership or ISR needs recording. */
const LEADER_CHECK_MS = 500;
/** At most this long, a starting broker waits for the metadata to record the leaderships it holds. */
const STARTUP_LEADERS_MS = 5000;
/** How often the active controller looks for brokers to fence. */
const FENCE_CHECK_MS = 1000;
/** How often a broker in controlled shutdown asks again for its remaining leaderships to move. */
const SHUTDOWN_RETRY_MS = 100;
/** How long a forwarded answer waits for this broker's image to show the change it reports. */
const RELAY_CATCH_UP_MS = 2000;
/** Largest controller quorum: the first brokers of the bootstrap list (KRaft's controller.quorum.voters). */
const MAX_QUORUM = 3;

/** Optional callbacks of Broker.start. */
export interface BrokerStartHooks {
  /** The /metrics and /health endpoint listens (metrics.port set). */
  readonly onMetricsListening?: (host: string, port: number) => void;
}

/** Readiness as /health reports it, and the metrics endpoint to close. */
interface Operability {
  readonly metricsServer: MetricsServer | undefined;
  readonly state: { ready: boolean; closing: boolean };
}

/**
 * One raftka broker: the listener, the handlers, the metadata log (the controller quorum's Raft
 * group), the controller (active on the quorum's leader), and the partition replicas it hosts.
 */
export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly port: number,
    readonly clusterId: string,
    private readonly server: ListenerSet,
    private readonly replicas: ReplicaManager,
    private readonly raft: BrokerRaft,
    private readonly hardState: HardStateStore,
    private readonly peers: readonly PeerClient[],
    private readonly timers: NodeJS.Timeout[],
    private readonly maintenance: LogMaintenance,
    private readonly groups: GroupCoordinator,
    private readonly transactions: TransactionCoordinator,
    /** Hands this broker's leaderships to other replicas (Kafka's controlled shutdown). */
    private readonly controlledShutdown: (timeoutMs: number) => Promise<void>,
    private readonly log: Logger,
    private readonly ops: Operability = { metricsServer: undefined, state: { ready: true, closing: false } },
  ) {}

  /** Bound port of each listener, by listener name. */
  get listenerPorts(): ReadonlyMap<string, number> { return this.server.ports; }

  static async start(config: BrokerConfig, log: Logger, hooks: BrokerStartHooks = {}): Promise<Broker> {
    const members: ClusterMember[] = config.bootstrap.length > 0
      ? [...config.bootstrap]
      : [{ nodeId: config.nodeId, host: config.host, port: config.port }];
    const self = members.find((m) => m.nodeId === config.nodeId);
    if (self === undefined) throw new Error(`node id ${config.nodeId} is not in the bootstrap list`);
    // The controller quorum: the first 1 or 3 brokers of the bootstrap list (1 for clusters of one
    // or two). The others follow the metadata log as Raft learners (KRaft's observers).
    const quorumSize = members.length >= MAX_QUORUM ? MAX_QUORUM : 1;
    const quorum = members.slice(0, quorumSize).map((m) => m.nodeId);
    const observers = members.slice(quorumSize).map((m) => m.nodeId);

    // Metrics and health first, so /health answers 503 while the broker starts.
    const metrics = config.metricsPort >= 0 ? new BrokerMetrics() : undefined;
    const ops: Operability = {
      metricsServer: metrics === undefined ? undefined : new MetricsServer(metrics, log.child({ component: 'metrics' })),
      state: { ready: false, closing: false },
    };
    if (ops.metricsServer !== undefined) {
      const metricsPort = await ops.metricsServer.listen(config.host, config.metricsPort);
      log.info({ host: config.host, port: metricsPort }, 'metrics and health endpoint listening');
      hooks.onMetricsListening?.(config.host, metricsPort);
    }

    await mkdir(config.dataDir, { recursive: true });
    const clusterId = await loadOrCreateClusterId(config);
    const hardState = await HardStateStore.open(join(config.dataDir, 'raft-hard-state'), log);
    const peers = new Map<number, PeerClient>();
    // TLS and SASL towards the peers' inter-broker listener (inter.broker.listener.name).
    const peerSecurity = members.length > 1 ? interBrokerSecurity(config) : {};
    for (const m of members) {
      if (m.nodeId === config.nodeId) continue;
      peers.set(m.nodeId, new PeerClient(m.nodeId, m.host, m.port, `raftka-broker-${config.nodeId}`, {
        requestTimeoutMs: 30000, maxBufferedBytes: 64 << 20, reconnectBackoffMs: 200, security: peerSecurity,
      }, log.child({ peer: m.nodeId })));
    }
    // A second connection per peer for the short controller RPCs and the controller's leader
    // transfers (see ControllerClient: a connection answers in order, and a forwarded CreateTopics
    // waits for the very leader reports that would queue behind it).
    const controlPeers = new Map<number, PeerClient>();
    for (const m of members) {
      if (m.nodeId === config.nodeId) continue;
      controlPeers.set(m.nodeId, new PeerClient(m.nodeId, m.host, m.port, `raftka-broker-${config.nodeId}-control`, {
        requestTimeoutMs: CONTROLLER_RPC_ATTEMPT_MS, maxBufferedBytes: 64 << 20, reconnectBackoffMs: 200, security: peerSecurity,
      }, log.child({ peer: m.nodeId, channel: 'control' })));
    }
    const seed = randomBytes(4).readUInt32BE(0);
    const raft = new BrokerRaft(config.nodeId, hardState, systemClock, new Random(seed), log, { tickMs: RAFT_TICK_MS },
      // false (unreachable: reset or refused connection) starts the fast failover of the groups it leads
      (to, envelope) => peers.get(to)?.send(RaftEnvelopeApi, 0, envelope) ?? false);
    const replicas = new ReplicaManager(config.dataDir, (groupId, partitionLog, voters, learners, topic) => {
      // Every broker applies the metadata log as it commits; data partitions' followers serve no reads.
      const group = raft.create(groupId, partitionLog, voters, learners, topic === METADATA_TOPIC ? 'eager' : 'lazy');
      if (metrics !== undefined) countElections(group.group, metrics);
      return group;
    }, log,
      (groupId) => hardState.delete(groupId),
      // One scheduler for the broker's data dir: every partition's flush joins its sync rounds.
      config.logFlushRounds ? new FlushScheduler() : undefined);

    // The metadata log: the controller quorum's Raft group.
    const metadataPartition = await replicas.open({
      topic: METADATA_TOPIC, partition: 0, replicas: quorum, learners: observers,
      logConfig: {}, partitionConfig: { maxMessageBytes: 8 * 1024 * 1024 },
    });
    const now = (): number => systemClock.monotonic();
    const metadata = new MetadataLog(metadataPartition, now, log);
    metadata.on('error', (err: unknown) => log.fatal({ err }, 'metadata log cannot be applied'));
    const controller = new Controller(metadata, {
      numPartitions: config.numPartitions, defaultReplicationFactor: config.defaultReplicationFactor,
    }, new Random(seed ^ 0x5bd1e995), now, log.child({ component: 'controller' }));
    // The first SCRAM users (raftka.bootstrap.scram.users / --add-scram), written once by
    // whichever broker is the active controller, now or after a later election.
    const bootstrapScram = parseAddScramList(config.bootstrapScramUsers);
    const scramBootstrapper = new ScramBootstrapper(bootstrapScram, {
      isActiveController: () => metadataPartition.isLeader,
      metadataLogEndOffset: () => metadataPartition.logEndOffset,
      imageOffset: () => metadata.image().offset,
      waitForImageOffset: (offset, timeoutMs) => metadata.waitForImage((image) => image.offset >= offset, now() + timeoutMs),
      everWritten: () => metadata.image().scram.everWritten,
      write: (entries) => controller.bootstrapScram(entries),
      log: log.child({ component: 'scram-bootstrap' }),
    });
    metadataPartition.on('leadership', () => {
      if (metadataPartition.isLeader) {
        log.info({ term: metadataPartition.leaderEpoch }, 'this broker is now the active controller');
        controller.activate();
        void scramBootstrapper.maybeApply();
      }
    });
    // ACLs live in the metadata image; the authorizer (authorizer.class.name) reads them there.
    const auth = createAuthHelper(config, () => metadata.image().acls);
    const controllerClient = new ControllerClient(config.nodeId, metadataPartition, controller, peers, metadata, now, log.child({ component: 'controller-client' }), controlPeers);
    const publisher = new MetadataPublisher(config.nodeId, replicas, controllerClient,
      Math.ceil(config.replicaLagTimeMaxMs / RAFT_TICK_MS), log,
      { enabled: config.autoLeaderRebalanceEnable, imbalancePerBrokerPercentage: config.leaderImbalancePerBrokerPercentage, immediate: config.leaderRebalanceImmediateEnable });

    // Producer ids come in blocks committed by the controller (AllocateProducerIds).
    const producerIds = new ProducerIdManager(config.nodeId, {
      allocate: () => controllerClient.allocateProducerIds(PRODUCER_ID_BLOCK_SIZE, 30000),
    });
    const groups = new GroupCoordinator(groupCoordinatorConfig(config), {
      nodeId: config.nodeId, metadata: () => metadata.image(), partition: (topic, p) => replicas.get(topic, p),
      createTopics: (topics, timeoutMs, validateOnly) => controllerClient.createTopics(topics, timeoutMs, validateOnly),
      scheduler: systemScheduler(systemClock), log: log.child({ component: 'group-coordinator' }),
    });
    // The transaction coordinator writes markers to its own partitions directly, to the others' leaders with WriteTxnMarkers.
    const transactions = new TransactionCoordinator(transactionCoordinatorConfig(config), {
      nodeId: config.nodeId, metadata: () => metadata.image(), partition: (topic, p) => replicas.get(topic, p),
      createTopics: (topics, timeoutMs, validateOnly) => controllerClient.createTopics(topics, timeoutMs, validateOnly),
      allocateProducerId: () => producerIds.generateProducerId(),
      offsetsPartitionFor: (groupId) => groups.partitionFor(groupId),
      markerTransport: async (brokerId, request) => {
        if (brokerId === config.nodeId) {
          return { markers: await writeTxnMarkers({ metadata: () => metadata.image(), partition: (topic, p) => replicas.get(topic, p), groups }, request.markers, log) };
        }
        const peer = peers.get(brokerId);
        if (peer === undefined) throw new Error(`broker ${brokerId} is not in the bootstrap list`);
        return await peer.request(WriteTxnMarkersApi, 1, request) as WriteTxnMarkersResponse;
      },
      scheduler: systemScheduler(systemClock), log: log.child({ component: 'txn-coordinator' }),
    });
    // ElectLeaders: the controller asks each partition's leader, here or on its broker, to hand over.
    const startLeaderTransfer = (item: LeaderTransferItem): number => {
      const partition = replicas.get(item.topic, item.partition);
      if (partition === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (!partition.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      partition.transferLeadership(item.to);
      return ErrorCode.NONE;
    };
    const leaderTransfers = new LeaderTransferRouter(config.nodeId, startLeaderTransfer, controlPeers, log.child({ component: 'leader-transfer' }));
    const handlers = createHandlers({
      nodeId: config.nodeId,
      clusterId,
      autoCreateTopics: config.autoCreateTopics,
      metadata: () => metadata.image(),
      controllerId: () => controllerClient.activeControllerId(),
      createTopics: (topics, timeoutMs, validateOnly) => controllerClient.createTopics(topics, timeoutMs, validateOnly),
      waitForMetadata: (predicate, timeoutMs) => metadata.waitForImage(predicate, now() + timeoutMs).then(() => true, () => false),
      partition: (topic, p) => replicas.get(topic, p),
      waitForHighWatermark: (partitions, timeoutMs) => replicas.waitForHighWatermark(partitions, timeoutMs),
      allocateProducerId: () => producerIds.generateProducerId(),
      groups,
      auth,
      transactions,
      reassignments: localReassignmentDeps(controller, () => metadataPartition.isLeader),
      ...localAdminDeps({
        brokerConfig: config, controller, isActiveController: () => metadataPartition.isLeader,
        transferLeadership: (topic, p, to, leader) => leaderTransfers.request(topic, p, to, leader),
      }),
    });
    const forwarder: Forwarder = {
      isActiveController: () => metadataPartition.isLeader,
      toController: (apiKey, apiVersion, request, ctx) => {
        const peer = peers.get(controllerClient.activeControllerId());
        const api = apiByKey(apiKey);
        if (peer === undefined || api === undefined) return Promise.reject(new Error('no active controller to forward to'));
        return forwardInEnvelope(peer, api, apiVersion, request, ctx);
      },
      beforeRelay: async (apiKey, request, response) => {
        const visible = relayedChangeVisible(apiKey, request, response);
        if (visible !== undefined) await metadata.waitForImage(visible, now() + RELAY_CATCH_UP_MS).catch(() => undefined);
      },
    };
    const forwarded = new Set<number>([ApiKey.DeleteTopics, ApiKey.CreatePartitions, ApiKey.AlterConfigs, ApiKey.IncrementalAlterConfigs, ApiKey.ElectLeaders, ApiKey.CreateAcls, ApiKey.DeleteAcls,
      ApiKey.AlterPartitionReassignments, ApiKey.ListPartitionReassignments]);
    for (const apiKey of forwarded) {
      const h = handlers.get(apiKey);
      if (h !== undefined) handlers.set(apiKey, forwardedToController(h, forwarder));
    }
    // SCRAM credentials: changed on the active controller (forwarded there), described from the image.
    handlers.set(ApiKey.AlterUserScramCredentials, forwardedToController(alterUserScramCredentialsHandler(async (deletions, upsertions) => {
      if (!metadataPartition.isLeader) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the active controller.');
      return controller.alterScramCredentials(deletions, upsertions);
    }, auth), forwarder));
    forwarded.add(ApiKey.AlterUserScramCredentials);
    handlers.set(ApiKey.Envelope, envelopeHandler({ handlers: () => handlers, forwarded, isActiveController: () => metadataPartition.isLeader, auth }));
    for (const h of createInternalHandlers({
      isActiveController: () => metadataPartition.isLeader,
      controller,
      receiveRaft: (envelope) => raft.receive(envelope),
      startLeaderTransfer,
      auth,
    })) handlers.set(h.apiKey, h);
    // Client APIs wait until this broker is ready (caught up with the metadata log, registered
    // and unfenced); peers' internal APIs are served at once, and so are ApiVersions and SASL
    // authentication, which peers need before any internal API on a SASL listener (held, they
    // would wait for a readiness that needs those very peers).
    let startedServing!: () => void;
    const serving = new Promise<void>((resolve) => { startedServing = resolve; });
    const neverHeld = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);
    for (const [apiKey, h] of handlers) if (h.internal !== true && !neverHeld.has(apiKey)) handlers.set(apiKey, heldUntil(h, serving));
    groups.start();
    transactions.start();
    // One server per listener (listeners, listener.security.protocol.map): TLS, SASL, limits.
    const server = ListenerSet.create(config, handlers, {
      observer: metrics?.requests, log,
      scramCredential: scramCredentialLookup(() => metadata.image(), bootstrapScram),
    });
    // Peers reach this broker through its listener (Raft traffic included), so it listens first.
    const ports = await server.listen();
    const port = ports.get(server.listeners[0]!.name)!;

    await metadataPartition.waitForLeader();
    await metadata.load();
    metadata.on('image', (image) => publisher.publish(image));
    publisher.publish(metadata.image());
    metrics?.attach(brokerMetricsSource(config.nodeId, () => metadata.image(), replicas, () => metadataPartition.isLeader, ops.state));

    const maintenance = new LogMaintenance(() => [...replicas.all()].filter((p) => p.topic !== METADATA_TOPIC), {
      retentionCheckIntervalMs: config.logRetentionCheckIntervalMs, cleanerBackoffMs: config.logCleanerBackoffMs,
    }, systemClock, log.child({ component: 'log-maintenance' }));
    maintenance.start();
    const timers = [
      setInterval(() => publisher.checkLeaders(), LEADER_CHECK_MS),
      // the leader balancer (auto.leader.rebalance.enable, leader.imbalance.*)
      setInterval(() => publisher.balanceLeaders(), Math.max(1, config.leaderImbalanceCheckIntervalSeconds) * 1000),
      setInterval(() => {
        if (!metadataPartition.isLeader) return;
        controller.fenceExpiredBrokers(config.brokerSessionTimeoutMs).catch((err: unknown) => log.warn({ err }, 'fencing check failed'));
      }, FENCE_CHECK_MS),
      setInterval(() => {
        controllerClient.heartbeat(metadata.image().offset, config.brokerHeartbeatIntervalMs * 2)
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'broker heartbeat failed'));
      }, config.brokerHeartbeatIntervalMs),
    ];

    const advertisedHost = config.advertisedHost !== '' ? config.advertisedHost
      : config.bootstrap.length > 0 ? self.host
        : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const endpoints = server.endpoints(advertisedHost, config.bootstrap.length > 0 ? self.host : '127.0.0.1');
    await controllerClient.registerBroker({
      nodeId: config.nodeId, host: endpoints[0]!.host, port: endpoints[0]!.port, rack: config.brokerRack === '' ? null : config.brokerRack,
      incarnationId: randomUUID(), clusterId, endpoints,
    }, 60000);
    await metadata.waitForImage((image) => image.brokers.get(config.nodeId)?.fenced === false, Number.POSITIVE_INFINITY);
    await scramBootstrapper.maybeApply();
    await publisher.started();
    // A restart's registration cleared this broker's old leaderships: serve once the ones it
    // leads now are recorded, so that the first Metadata answers name it.
    await metadata.waitForImage((image) => publisher.leadershipsRecorded(image), now() + STARTUP_LEADERS_MS).catch(() => undefined);
    ops.state.ready = true;
    const opened = replicas.opened;
    log.info({ ...opened }, `start-up: ${startupSummary(opened)}`);
    startedServing();
    log.info({ host: config.host, port, dataDir: config.dataDir, clusterId, quorum }, 'broker ready');
    const controlledShutdown = async (timeoutMs: number): Promise<void> => {
      if (peers.size === 0) return;
      const deadline = now() + timeoutMs;
      // Marked in controlled shutdown first, so that no leadership moves here while this broker
      // hands its own away; it stays listed (and leading) until each leadership has moved.
      try {
        await controllerClient.heartbeat(metadata.image().offset, timeoutMs, true);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'controlled shutdown: the controller did not answer; stopping anyway');
        return;
      }
      await metadata.waitForImage((image) => image.brokers.get(config.nodeId)?.inControlledShutdown === true, deadline).catch(() => undefined);
      // Hand every leadership over; ask again until none is left or the time is up (a transfer
      // can be abandoned, or answered by a replica that has not yet seen this broker leaving).
      let moved = 0;
      while (now() < deadline) {
        const led = [...replicas.all()].filter((p) => p.isLeader);
        if (led.length === 0) break;
        const image = metadata.image();
        for (const p of led) {
          const candidates = p.topic === METADATA_TOPIC ? quorum : (image.partition(p.topic, p.index)?.isr ?? []);
          const target = candidates.find((id) => id !== config.nodeId && image.brokers.get(id)?.fenced === false && image.brokers.get(id)?.inControlledShutdown === false);
          if (target !== undefined) p.transferLeadership(target);
        }
        moved = Math.max(moved, led.length);
        await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_RETRY_MS));
      }
      const still = [...replicas.all()].filter((p) => p.isLeader).length;
      log.info({ leaderships: moved, stillLeading: still }, 'controlled shutdown: leaderships handed over');
      // Now fenced: out of every ISR, and no longer listed.
      await controllerClient.heartbeat(metadata.image().offset, Math.max(1000, deadline - now()), false, true)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'controlled shutdown: could not be fenced; the session timeout will'));
    };
    return new Broker(config, port, clusterId, server, replicas, raft, hardState, [...peers.values(), ...controlPeers.values()], timers, maintenance, groups, transactions, controlledShutdown, log, ops);
  }

  /** How this broker found its partition logs at start-up, in one line. */
  get startupSummary(): string { return startupSummary(this.replicas.opened); }

  /**
   * Stops the broker. With `controlled` (SIGTERM), its leaderships move to other in-sync replicas
   * first, so clients see only a retriable NOT_LEADER_OR_FOLLOWER, never a timeout.
   */
  async close(controlled = false, timeoutMs = 10000): Promise<void> {
    this.ops.state.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.maintenance.stop();
    if (controlled) await this.controlledShutdown(timeoutMs);
    this.groups.close();
    this.transactions.close();
    await this.server.close();
    await this.replicas.close();
    await this.raft.close();
    for (const p of this.peers) p.close();
    await this.hardState.close();
    await this.ops.metricsServer?.close();
    this.log.info('broker stopped');
  }
}

/**
 * Kafka keeps the cluster id in meta.properties in each log dir; so does raftka. It is
 * `cluster.id` when set; otherwise brokers of a static cluster derive it from the node ids of the
 * bootstrap list, so they agree without a formatting step.
 */
async function loadOrCreateClusterId(config: BrokerConfig): Promise<string> {
  const path = join(config.dataDir, 'meta.properties');
  try {
    const m = /^cluster\.id=(.+)$/m.exec(await readFile(path, 'utf8'));
    if (m !== null) return m[1]!.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // The node ids alone, not the addresses: each broker may reach the others through its own
  // addresses (a proxy, another interface), and they must still agree.
  const ids = config.bootstrap.map((m) => m.nodeId).sort((a, b) => a - b).join(',');
  const clusterId = config.clusterId !== '' ? config.clusterId
    : config.bootstrap.length > 0 ? createHash('sha256').update(`raftka-cluster:${ids}`).digest().subarray(0, 16).toString('base64url')
      : randomBytes(16).toString('base64url');
  await writeFile(`${path}.tmp`, `version=1\ncluster.id=${clusterId}\nnode.id=${config.nodeId}\n`);
  await rename(`${path}.tmp`, path);
  return clusterId;
}

/** "12 partition logs: 9 clean, 2 recovered after an unclean stop (cut 312 bytes of torn tail), 1 new". */
function startupSummary(o: ReplicaManager['opened']): string {
  const total = o.new + o.clean + o.recovered;
  const parts = [`${o.clean} clean`];
  if (o.recovered > 0) parts.push(`${o.recovered} recovered after an unclean stop${o.truncatedBytes > 0 ? ` (cut ${o.truncatedBytes} bytes of torn tail)` : ''}`);
  if (o.new > 0) parts.push(`${o.new} new`);
  return `${total} partition log${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
