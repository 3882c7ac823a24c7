import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from './util/log.js';
import { systemClock } from './util/clock.js';
import { Random } from './util/random.js';
import type { BrokerConfig } from './config.js';
import { HardStateStore } from './storage/hard-state.js';
import { ReplicaManager } from './partition/replica-manager.js';
import { BrokerRaft } from './partition/raft-groups.js';
import { FileProducerIdBlockSource, ProducerIdManager, producerIdFile } from './partition/producer-ids.js';
import { Controller } from './cluster/controller.js';
import { MetadataLog, METADATA_TOPIC } from './cluster/metadata-log.js';
import { MetadataPublisher } from './cluster/publisher.js';
import { localAdminDeps } from './cluster/admin-local.js';
import { createHandlers } from './kafka/handlers/index.js';
import { KafkaServer } from './server/server.js';
import { GroupCoordinator, groupCoordinatorConfig } from './groups/coordinator.js';
import { systemScheduler } from './groups/scheduler.js';

/** Raft tick: heartbeats every tick, elections after 10 to 20 ticks (1 to 2 s), as KRaft's 1 s timeout. */
const RAFT_TICK_MS = 100;

/**
 * One raftka broker: the listener, the handlers, the controller (this broker alone is the
 * controller quorum for now), the metadata log and the partition replicas it hosts.
 */
export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly port: number,
    readonly clusterId: string,
    private readonly server: KafkaServer,
    private readonly replicas: ReplicaManager,
    private readonly raft: BrokerRaft,
    private readonly hardState: HardStateStore,
    private readonly log: Logger,
  ) {}

  static async start(config: BrokerConfig, log: Logger): Promise<Broker> {
    await mkdir(config.dataDir, { recursive: true });
    const clusterId = await loadOrCreateClusterId(config);
    const hardState = await HardStateStore.open(join(config.dataDir, 'raft-hard-state'), log);
    const seed = randomBytes(4).readUInt32BE(0);
    const raft = new BrokerRaft(config.nodeId, hardState, systemClock, new Random(seed), log, { tickMs: RAFT_TICK_MS }, () => undefined);
    const replicas = new ReplicaManager(config.dataDir, (groupId, partitionLog, voters) => raft.create(groupId, partitionLog, voters), log,
      (groupId) => hardState.delete(groupId));

    // The metadata log: the controller quorum's Raft group (this broker alone, for now).
    const metadataPartition = await replicas.open({
      topic: METADATA_TOPIC, partition: 0, replicas: [config.nodeId],
      logConfig: {}, partitionConfig: { maxMessageBytes: 8 * 1024 * 1024 },
    });
    await metadataPartition.waitForLeadership();
    const metadata = new MetadataLog(metadataPartition, () => systemClock.monotonic(), log);
    metadata.on('error', (err: unknown) => log.fatal({ err }, 'metadata log cannot be applied'));
    await metadata.load();
    const controller = new Controller(metadata, {
      numPartitions: config.numPartitions, defaultReplicationFactor: config.defaultReplicationFactor,
    }, new Random(seed ^ 0x5bd1e995), () => systemClock.monotonic(), log.child({ component: 'controller' }));
    const publisher = new MetadataPublisher(config.nodeId, replicas, controller, log);
    metadata.on('image', (image) => publisher.publish(image));
    publisher.publish(metadata.image());

    const producerIds = new ProducerIdManager(config.nodeId, new FileProducerIdBlockSource(producerIdFile(config.dataDir), config.nodeId));
    const groups = new GroupCoordinator(groupCoordinatorConfig(config), {
      nodeId: config.nodeId, metadata: () => metadata.image(), partition: (topic, p) => replicas.get(topic, p),
      createTopics: (topics, timeoutMs, validateOnly) => controller.createTopics(topics, timeoutMs, validateOnly),
      scheduler: systemScheduler(systemClock), log: log.child({ component: 'group-coordinator' }),
    });
    const handlers = createHandlers({
      nodeId: config.nodeId,
      clusterId,
      autoCreateTopics: config.autoCreateTopics,
      metadata: () => metadata.image(),
      controllerId: () => config.nodeId,
      createTopics: (topics, timeoutMs, validateOnly) => controller.createTopics(topics, timeoutMs, validateOnly),
      partition: (topic, p) => replicas.get(topic, p),
      groups,
      waitForHighWatermark: (partitions, timeoutMs) => replicas.waitForHighWatermark(partitions, timeoutMs),
      allocateProducerId: () => producerIds.generateProducerId(),
      ...localAdminDeps({
        brokerConfig: config, controller, isActiveController: () => metadataPartition.isLeader,
        transferLeadership: (topic, p, to) => replicas.get(topic, p)?.transferLeadership(to),
      }),
    });
    groups.start();
    const server = new KafkaServer({
      host: config.host, port: config.port, queuedMaxRequests: config.queuedMaxRequests,
      socketRequestMaxBytes: config.socketRequestMaxBytes, connectionsMaxIdleMs: config.connectionsMaxIdleMs,
    }, handlers, log);
    const port = await server.listen();
    const advertisedHost = config.advertisedHost !== '' ? config.advertisedHost : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    await controller.registerBroker(config.nodeId, advertisedHost, config.advertisedPort || port, null, randomUUID());
    log.info({ host: config.host, port, dataDir: config.dataDir, clusterId }, 'broker ready');
    return new Broker(config, port, clusterId, server, replicas, raft, hardState, log);
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.replicas.close();
    await this.raft.close();
    await this.hardState.close();
    this.log.info('broker stopped');
  }
}

/** Kafka keeps the cluster id in meta.properties in each log dir; so does raftka. */
async function loadOrCreateClusterId(config: BrokerConfig): Promise<string> {
  const path = join(config.dataDir, 'meta.properties');
  try {
    const m = /^cluster\.id=(.+)$/m.exec(await readFile(path, 'utf8'));
    if (m !== null) return m[1]!.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const clusterId = randomBytes(16).toString('base64url');
  await writeFile(`${path}.tmp`, `version=1\ncluster.id=${clusterId}\nnode.id=${config.nodeId}\n`);
  await rename(`${path}.tmp`, path);
  return clusterId;
}
