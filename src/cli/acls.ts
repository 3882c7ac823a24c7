import { parseFlags, required, UsageError } from './args.js';
import { BrokerError, KafkaClient } from './client/client.js';
import { println } from './output.js';
import { CreateAclsApi, type CreateAclsResponse } from '../../protocol/generated/create-acls.js';
import { DescribeAclsApi, type DescribeAclsResponse } from '../../protocol/generated/describe-acls.js';
import { DeleteAclsApi, type DeleteAclsResponse } from '../../protocol/generated/delete-acls.js';
import { ErrorCode } from '../kafka/errors.js';
import {
  AclOperation, AclPermissionType, AclResourceType, CLUSTER_NAME, PatternType, operationName, patternTypeName, permissionTypeName,
  resourceTypeName, type Acl, type AclFilter,
} from '../security/acls.js';

export const ACLS_USAGE = `Usage: raftka acls --bootstrap-server HOST:PORT <action> [options]   (like kafka-acls.sh)

Actions (exactly one):
  --add      add ACLs (needs a principal and a resource)
  --remove   remove the ACLs that match (no principal: every ACL of the resource) [--force]
  --list     list ACLs (of the given resources, or all) [--principal P]

Resources (one or more):
  --topic T   --group G   --transactional-id T   --cluster
  --resource-pattern-type literal|prefixed|match|any   (default literal; match and any only
                                                       with --list and --remove)
Entries:
  --allow-principal P   --deny-principal P    (e.g. User:alice; repeatable)
  --allow-host H        --deny-host H         (default *; repeatable)
  --operation OP        (Read, Write, Create, Delete, Alter, Describe, ClusterAction,
                         DescribeConfigs, AlterConfigs, IdempotentWrite, All; repeatable; default All)
  --producer            WRITE, DESCRIBE, CREATE on the topics (and WRITE, DESCRIBE on the
                        transactional ids; IDEMPOTENT_WRITE on the cluster with --idempotent)
  --consumer            READ, DESCRIBE on the topics and READ on the groups (needs --group)

The requests go as the anonymous principal (this tool has no SASL yet): use it on a listener
whose principal may alter ACLs (a super user, or ALTER and DESCRIBE on the cluster).
`;

interface Resource { readonly type: number; readonly name: string }

/** kafka-acls.sh names operations in camel case (ClusterAction); Kafka's enum has CLUSTER_ACTION. */
function parseOperationFlag(value: string): number {
  const wanted = value.replace(/[-_\s]/g, '').toUpperCase();
  for (let code = AclOperation.ALL; code <= AclOperation.TWO_PHASE_COMMIT; code++) {
    if (operationName(code).replace(/_/g, '') === wanted) return code;
  }
  throw new UsageError(`unknown operation '${value}'`);
}

function parsePatternFlag(value: string | undefined, action: 'add' | 'remove' | 'list'): number {
  if (value === undefined) return PatternType.LITERAL;
  const code = ['literal', 'prefixed', 'match', 'any'].indexOf(value.toLowerCase());
  if (code < 0) throw new UsageError(`--resource-pattern-type must be literal, prefixed, match or any, got '${value}'`);
  const pattern = [PatternType.LITERAL, PatternType.PREFIXED, PatternType.MATCH, PatternType.ANY][code]!;
  if (action === 'add' && pattern !== PatternType.LITERAL && pattern !== PatternType.PREFIXED) {
    throw new UsageError('A \'--resource-pattern-type\' value of \'match\' or \'any\' is not valid when adding acls.');
  }
  return pattern;
}

function describePattern(type: number, name: string, pattern: number): string {
  return `ResourcePattern(resourceType=${resourceTypeName(type)}, name=${name}, patternType=${patternTypeName(pattern)})`;
}

function describeEntry(e: { principal: string; host: string; operation: number; permissionType: number }): string {
  return `(principal=${e.principal}, host=${e.host}, operation=${operationName(e.operation)}, permissionType=${permissionTypeName(e.permissionType)})`;
}

/** raftka acls: kafka-acls.sh's --add, --remove and --list. */
export async function aclsCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    'bootstrap-server': { type: 'string' }, add: { type: 'boolean' }, remove: { type: 'boolean' }, list: { type: 'boolean' },
    topic: { type: 'string', multiple: true }, group: { type: 'string', multiple: true }, 'transactional-id': { type: 'string', multiple: true },
    cluster: { type: 'boolean' }, 'resource-pattern-type': { type: 'string' },
    'allow-principal': { type: 'string', multiple: true }, 'deny-principal': { type: 'string', multiple: true },
    'allow-host': { type: 'string', multiple: true }, 'deny-host': { type: 'string', multiple: true },
    operation: { type: 'string', multiple: true }, principal: { type: 'string' },
    producer: { type: 'boolean' }, consumer: { type: 'boolean' }, idempotent: { type: 'boolean' }, force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help === true) { process.stdout.write(ACLS_USAGE); return; }
  const actions = (['add', 'remove', 'list'] as const).filter((a) => f[a] === true);
  if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --add, --remove');
  const action = actions[0]!;
  const bootstrap = required('bootstrap-server', f['bootstrap-server']);
  const pattern = parsePatternFlag(f['resource-pattern-type'], action);
  const resources: Resource[] = [
    ...(f.topic ?? []).map((name) => ({ type: AclResourceType.TOPIC, name })),
    ...(f.group ?? []).map((name) => ({ type: AclResourceType.GROUP, name })),
    ...(f['transactional-id'] ?? []).map((name) => ({ type: AclResourceType.TRANSACTIONAL_ID, name })),
    ...(f.cluster === true ? [{ type: AclResourceType.CLUSTER, name: CLUSTER_NAME }] : []),
  ];
  const client = await KafkaClient.connect(bootstrap);
  try {
    if (action === 'list') { await list(client, resources, pattern, f.principal ?? null); return; }
    const allow = f['allow-principal'] ?? [];
    const deny = f['deny-principal'] ?? [];
    const ops = (f.operation ?? ['All']).map(parseOperationFlag);
    if (action === 'add') {
      if (allow.length === 0 && deny.length === 0) throw new UsageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
      if (resources.length === 0) throw new UsageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <id>');
      const byResource = entriesFor(resources, ops, allow, deny, f['allow-host'] ?? ['*'], f['deny-host'] ?? ['*'], f.producer === true, f.consumer === true, f.idempotent === true);
      const acls: Acl[] = [];
      for (const { resource, entries } of byResource) {
        println(`Adding ACLs for resource \`${describePattern(resource.type, resource.name, pattern)}\`: `);
        for (const e of entries) {
          println(` \t${describeEntry(e)} `);
          acls.push({ resourceType: resource.type, resourceName: resource.name, patternType: pattern, ...e });
        }
        println();
      }
      const { body } = await client.controllerRequest<CreateAclsResponse>(CreateAclsApi, {
        creations: acls.map((a) => ({ ...a, resourcePatternType: a.patternType })),
      });
      const failed = body.results.find((r) => r.errorCode !== ErrorCode.NONE);
      if (failed !== undefined) throw new BrokerError(failed.errorCode, failed.errorMessage);
      await list(client, resources, pattern, null);
      return;
    }
    // remove
    if (resources.length === 0) throw new UsageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <id>');
    const principals = [...allow.map((p) => [p, AclPermissionType.ALLOW] as const), ...deny.map((p) => [p, AclPermissionType.DENY] as const)];
    const filters: AclFilter[] = [];
    for (const r of resources) {
      if (principals.length === 0) {
        filters.push({ resourceType: r.type, resourceName: r.name, patternType: pattern, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY });
        continue;
      }
      for (const [principal, permissionType] of principals) {
        const hosts = permissionType === AclPermissionType.ALLOW ? f['allow-host'] ?? ['*'] : f['deny-host'] ?? ['*'];
        for (const host of hosts) for (const operation of ops) {
          filters.push({ resourceType: r.type, resourceName: r.name, patternType: pattern, principal, host, operation, permissionType });
        }
      }
    }
    const { body } = await client.controllerRequest<DeleteAclsResponse>(DeleteAclsApi, {
      filters: filters.map((x) => ({
        resourceTypeFilter: x.resourceType, resourceNameFilter: x.resourceName, patternTypeFilter: x.patternType,
        principalFilter: x.principal, hostFilter: x.host, operation: x.operation, permissionType: x.permissionType,
      })),
    });
    const failed = body.filterResults.find((r) => r.errorCode !== ErrorCode.NONE);
    if (failed !== undefined) throw new BrokerError(failed.errorCode, failed.errorMessage);
    for (const r of body.filterResults) for (const a of r.matchingAcls) {
      println(`Removed ACL ${describeEntry(a)} from resource \`${describePattern(a.resourceType, a.resourceName, a.patternType)}\``);
    }
  } finally {
    client.close();
  }
}

/** The entries to add per resource: the given operations, or those --producer / --consumer imply. */
function entriesFor(
  resources: readonly Resource[], ops: readonly number[], allow: readonly string[], deny: readonly string[],
  allowHosts: readonly string[], denyHosts: readonly string[], producer: boolean, consumer: boolean, idempotent: boolean,
): { resource: Resource; entries: Omit<Acl, 'resourceType' | 'resourceName' | 'patternType'>[] }[] {
  const opsFor = (r: Resource): readonly number[] => {
    if (!producer && !consumer) return ops;
    const out = new Set<number>();
    if (producer && r.type === AclResourceType.TOPIC) for (const op of [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]) out.add(op);
    if (producer && r.type === AclResourceType.TRANSACTIONAL_ID) for (const op of [AclOperation.WRITE, AclOperation.DESCRIBE]) out.add(op);
    if (consumer && r.type === AclResourceType.TOPIC) for (const op of [AclOperation.READ, AclOperation.DESCRIBE]) out.add(op);
    if (consumer && r.type === AclResourceType.GROUP) out.add(AclOperation.READ);
    return [...out];
  };
  const all = [...resources];
  if (producer && idempotent && !all.some((r) => r.type === AclResourceType.CLUSTER)) all.push({ type: AclResourceType.CLUSTER, name: CLUSTER_NAME });
  return all.map((resource) => {
    const resourceOps = producer && idempotent && resource.type === AclResourceType.CLUSTER ? [AclOperation.IDEMPOTENT_WRITE] : opsFor(resource);
    const entries: Omit<Acl, 'resourceType' | 'resourceName' | 'patternType'>[] = [];
    for (const operation of resourceOps) {
      for (const principal of allow) for (const host of allowHosts) entries.push({ principal, host, operation, permissionType: AclPermissionType.ALLOW });
      for (const principal of deny) for (const host of denyHosts) entries.push({ principal, host, operation, permissionType: AclPermissionType.DENY });
    }
    return { resource, entries };
  }).filter((r) => r.entries.length > 0);
}

async function list(client: KafkaClient, resources: readonly Resource[], pattern: number, principal: string | null): Promise<void> {
  const filters = resources.length === 0
    ? [{ type: AclResourceType.ANY, name: null as string | null, pattern: PatternType.ANY }]
    : resources.map((r) => ({ type: r.type, name: r.name as string | null, pattern }));
  for (const filter of filters) {
    const { body } = await client.controllerRequest<DescribeAclsResponse>(DescribeAclsApi, {
      resourceTypeFilter: filter.type, resourceNameFilter: filter.name, patternTypeFilter: filter.pattern,
      principalFilter: principal, hostFilter: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY,
    }, { min: 1 });
    if (body.errorCode !== ErrorCode.NONE) throw new BrokerError(body.errorCode, body.errorMessage);
    for (const r of body.resources) {
      println(`Current ACLs for resource \`${describePattern(r.resourceType, r.resourceName, r.patternType)}\`: `);
      for (const a of r.acls) println(` \t${describeEntry(a)} `);
      println();
    }
  }
}
