/**
 * The common part of the handler authorization tests (acl-handlers, acl-txn-handlers): a metadata
 * image of broker 1 and some single-partition topics, a Controller on an in-memory metadata log
 * holding the tests' ACLs, the StandardAuthorizer over it, and every handler built on that.
 */
import assert from 'node:assert/strict';
import type { MetadataRecord } from '../../src/cluster/records.js';
import { Controller } from '../../src/cluster/controller.js';
import { DEFAULT_BROKER_CONFIG } from '../../src/config.js';
import { createHandlers } from '../../src/kafka/handlers/index.js';
import type { HandlerDeps } from '../../src/kafka/handlers/deps.js';
import type { ApiHandler, RequestContext } from '../../src/kafka/handlers/handler.js';
import { AclPermissionType as Perm, PatternType as Pat, type Acl } from '../../src/security/acls.js';
import { AuthHelper, NO_AUTHORIZER, StandardAuthorizer } from '../../src/security/authorizer.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

/** Broker 1 and the given topics (name -> topic id), one partition each, led by broker 1. */
export function imageRecords(topics: Record<string, string>): MetadataRecord[] {
  const records: MetadataRecord[] = [{
    type: 'RegisterBroker',
    data: {
      brokerId: 1, isMigratingZkBroker: false, incarnationId: '44444444-4444-4444-8444-444444444444', brokerEpoch: 0n,
      endPoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 0 }], features: [], rack: null, fenced: false,
      inControlledShutdown: false, logDirs: [],
    },
  }];
  for (const [name, topicId] of Object.entries(topics)) {
    records.push({ type: 'Topic', data: { name, topicId } });
    records.push({
      type: 'Partition',
      data: {
        partitionId: 0, topicId, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0,
        leaderEpoch: 1, partitionEpoch: 1, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null,
      },
    });
  }
  return records;
}

export const acl = (principal: string, operation: number, resourceType: number, resourceName: string, permissionType: number = Perm.ALLOW, patternType: number = Pat.LITERAL): Acl =>
  ({ principal, operation, resourceType, resourceName, patternType, host: '*', permissionType });

export interface AclHarness {
  readonly handlers: Map<number, ApiHandler>;
  readonly controller: Controller;
  readonly log: MemoryMetadataLog;
  readonly auth: AuthHelper;
}

/**
 * Handlers over the image of `topics` with `acls` created through the controller (User:admin is a
 * super user). `authorizer: false` builds them without an authorizer (and without the ACLs).
 * `deps` supplies the coordinators and overrides any default.
 */
export async function aclHarness(options: {
  topics: Record<string, string>; acls: readonly Acl[]; seed: number; authorizer?: boolean; allowEveryone?: boolean;
  deps: Pick<HandlerDeps, 'groups'> & Partial<HandlerDeps>;
}): Promise<AclHarness> {
  const log = new MemoryMetadataLog();
  await log.append(imageRecords(options.topics));
  const controller = new Controller(log, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(options.seed), () => performance.now(), silentLogger);
  const auth = options.authorizer === false ? NO_AUTHORIZER
    : new AuthHelper(new StandardAuthorizer({ superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: options.allowEveryone ?? false }, () => log.image().acls));
  if (options.authorizer !== false) await controller.createAcls([...options.acls]);
  const deps: HandlerDeps = {
    nodeId: 1, clusterId: 'cluster', autoCreateTopics: false, brokerConfig: DEFAULT_BROKER_CONFIG,
    metadata: () => log.image(),
    controllerId: () => 1,
    createTopics: async () => [],
    waitForMetadata: async () => true,
    partition: () => undefined,
    waitForHighWatermark: async () => undefined,
    allocateProducerId: async () => 42n,
    auth,
    deleteTopics: (topics) => controller.deleteTopics(topics),
    createPartitions: (topics, timeoutMs, validateOnly) => controller.createPartitions(topics, timeoutMs, validateOnly),
    alterConfigs: (changes, validateOnly) => controller.alterConfigs(changes, validateOnly),
    electLeaders: async () => [],
    createAcls: (creations) => controller.createAcls(creations),
    deleteAcls: (filters) => controller.deleteAcls(filters),
    ...options.deps,
  };
  return { handlers: createHandlers(deps), controller, log, auth };
}

/** A request context of `principal` on the PLAINTEXT listener. */
export function requestContext(principal: string, apiKey: number, apiVersion: number, clientId: string, remoteAddress = '127.0.0.1'): RequestContext {
  return {
    apiKey, apiVersion, correlationId: 7, clientId, log: silentLogger,
    connection: { id: 1, remoteAddress, localPort: 9092, clientSoftwareName: null, clientSoftwareVersion: null, principal, listenerName: 'PLAINTEXT' },
  };
}

/** Calls the handler of `apiKey` as `principal`. */
export async function callAs<Res>(handlers: Map<number, ApiHandler>, principal: string, apiKey: number, version: number, request: unknown, clientId: string): Promise<Res> {
  const h = handlers.get(apiKey);
  assert.ok(h !== undefined, `no handler for api key ${apiKey}`);
  return await h.handle(request, requestContext(principal, apiKey, version, clientId)) as Res;
}
