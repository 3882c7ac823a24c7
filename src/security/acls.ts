/**
 * Kafka's ACL vocabulary (org.apache.kafka.common.acl and .resource) and the ACLs of the metadata
 * image: an immutable set indexed by resource type and name, so that authorizing an action looks
 * at the ACLs that can match its resource only (literal name, the `*` wildcard, and the prefixes of
 * the name that some PREFIXED ACL uses), never at every ACL.
 */

/** Kafka's ResourceType codes (the ACL resource types; not ConfigResource.Type). */
export const AclResourceType = {
  UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7,
} as const;

/** Kafka's PatternType codes. */
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

/** Kafka's AclOperation codes. */
export const AclOperation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8,
  CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14, TWO_PHASE_COMMIT: 15,
} as const;

/** Kafka's AclPermissionType codes. */
export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The name of the one CLUSTER resource. */
export const CLUSTER_NAME = 'kafka-cluster';
/** An ACL resource name or host that matches any. */
export const WILDCARD = '*';
/** The principal of ACLs that match any principal. */
export const WILDCARD_PRINCIPAL = 'User:*';

const RESOURCE_TYPE_NAMES = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN', 'USER'];
const PATTERN_TYPE_NAMES = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED'];
const OPERATION_NAMES = ['UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'CREATE_TOKENS', 'DESCRIBE_TOKENS', 'TWO_PHASE_COMMIT'];
const PERMISSION_NAMES = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW'];

const nameOf = (names: readonly string[], code: number): string => names[code] ?? 'UNKNOWN';
export const resourceTypeName = (code: number): string => nameOf(RESOURCE_TYPE_NAMES, code);
export const patternTypeName = (code: number): string => nameOf(PATTERN_TYPE_NAMES, code);
export const operationName = (code: number): string => nameOf(OPERATION_NAMES, code);
export const permissionTypeName = (code: number): string => nameOf(PERMISSION_NAMES, code);

/** Parses a Kafka enum name (case-insensitive, `-` or `_`), -1 if unknown. */
function codeOf(names: readonly string[], name: string): number {
  const i = names.indexOf(name.trim().toUpperCase().replaceAll('-', '_'));
  return i <= 0 ? -1 : i;
}
export const parseResourceType = (name: string): number => codeOf(RESOURCE_TYPE_NAMES, name);
export const parsePatternType = (name: string): number => codeOf(PATTERN_TYPE_NAMES, name);
export const parseOperation = (name: string): number => codeOf(OPERATION_NAMES, name);
export const parsePermissionType = (name: string): number => codeOf(PERMISSION_NAMES, name);

/** Codes outside an enum's range read as UNKNOWN, as Kafka's fromCode does. */
const known = (names: readonly string[], code: number): number => (code >= 0 && code < names.length ? code : 0);

/**
 * The operations each resource type supports (Kafka's AclEntry.supportedOperations): the bits of
 * the authorized-operations fields.
 */
export const SUPPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [AclResourceType.TOPIC, [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DELETE,
    AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]],
  [AclResourceType.GROUP, [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]],
  [AclResourceType.CLUSTER, [AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE]],
  [AclResourceType.TRANSACTIONAL_ID, [AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.TWO_PHASE_COMMIT]],
  [AclResourceType.DELEGATION_TOKEN, [AclOperation.DESCRIBE]],
  [AclResourceType.USER, [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS]],
]);

/** One ACL: a resource pattern and an access control entry (Kafka's AclBinding / StandardAcl). */
export interface Acl {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** An ACL as stored in the metadata log (AccessControlEntryRecord), with its id. */
export interface AclWithId extends Acl {
  readonly id: string;
}

/** Kafka's AclBindingFilter: null strings and ANY codes match anything. */
export interface AclFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

export function describeAcl(a: Acl): string {
  return `(pattern=${resourceTypeName(a.resourceType)}:${patternTypeName(a.patternType)}:${a.resourceName}, principal=${a.principal}, host=${a.host}, ` +
    `operation=${operationName(a.operation)}, permissionType=${permissionTypeName(a.permissionType)})`;
}

/** The same ACL (all fields but the id): CreateAcls of an existing ACL adds nothing. */
export function aclKey(a: Acl): string {
  return JSON.stringify([a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permissionType]);
}

/**
 * Why a new ACL is refused (AclApis.handleCreateAcls and AclControlManager.validateNewAcl), or
 * null. Every refusal is INVALID_REQUEST.
 */
export function validateNewAcl(a: Acl): string | null {
  const type = known(RESOURCE_TYPE_NAMES, a.resourceType);
  if (type === AclResourceType.UNKNOWN || type === AclResourceType.ANY) return `Invalid resourceType ${resourceTypeName(type)}`;
  const pattern = known(PATTERN_TYPE_NAMES, a.patternType);
  if (pattern !== PatternType.LITERAL && pattern !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(pattern)}`;
  const op = known(OPERATION_NAMES, a.operation);
  if (op === AclOperation.UNKNOWN || op === AclOperation.ANY) return `Invalid operation ${operationName(op)}`;
  const perm = known(PERMISSION_NAMES, a.permissionType);
  if (perm !== AclPermissionType.ALLOW && perm !== AclPermissionType.DENY) return `Invalid permissionType ${permissionTypeName(perm)}`;
  if (type === AclResourceType.CLUSTER && a.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (a.resourceName === '') return 'Invalid empty resource name';
  const colon = a.principal.indexOf(':');
  if (colon <= 0) return `Could not parse principal from \`${a.principal}\` (no colon is present separating the principal type from the principal name)`;
  return null;
}

/** Why a filter is refused (it has an UNKNOWN element: AclControlManager.validateFilter), or null. */
export function validateFilter(f: AclFilter): string | null {
  if (known(RESOURCE_TYPE_NAMES, f.resourceType) === 0 || known(PATTERN_TYPE_NAMES, f.patternType) === 0) return 'Unknown patternFilter.';
  if (known(OPERATION_NAMES, f.operation) === 0 || known(PERMISSION_NAMES, f.permissionType) === 0) return 'Unknown entryFilter.';
  return null;
}

/** Kafka's AclBindingFilter.matches (ResourcePatternFilter + AccessControlEntryFilter). */
export function filterMatches(f: AclFilter, a: Acl): boolean {
  if (f.resourceType !== AclResourceType.ANY && f.resourceType !== a.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== a.patternType) return false;
  if (f.resourceName !== null) {
    if (f.patternType === PatternType.ANY || f.patternType === a.patternType) {
      if (f.resourceName !== a.resourceName) return false;
    } else if (a.patternType === PatternType.LITERAL) {
      // MATCH: the ACLs that would apply to a resource of this name.
      if (f.resourceName !== a.resourceName && a.resourceName !== WILDCARD) return false;
    } else if (!f.resourceName.startsWith(a.resourceName)) {
      return false;
    }
  }
  if (f.principal !== null && f.principal !== a.principal) return false;
  if (f.host !== null && f.host !== a.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== a.operation) return false;
  if (f.permissionType !== AclPermissionType.ANY && f.permissionType !== a.permissionType) return false;
  return true;
}

/**
 * An immutable string-keyed map whose updates copy only a small part of it: keys are spread by a
 * hash over 64 x 64 buckets, and a change copies the two 64-slot arrays on its path and one
 * bucket. Applying n ACL records costs O(n * (128 + n/4096)), not O(n^2) as copying a Map would.
 */
export class CowMap<V> {
  private static readonly FAN = 64;
  private static readonly EMPTY_INNER: readonly (ReadonlyMap<string, unknown> | undefined)[] = new Array<undefined>(64).fill(undefined);
  static empty<V>(): CowMap<V> {
    return new CowMap<V>(new Array<readonly (ReadonlyMap<string, V> | undefined)[]>(CowMap.FAN).fill(CowMap.EMPTY_INNER as readonly (ReadonlyMap<string, V> | undefined)[]), 0);
  }

  private constructor(private readonly outer: readonly (readonly (ReadonlyMap<string, V> | undefined)[])[], readonly size: number) {}

  private static hash(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }

  private bucket(h: number): ReadonlyMap<string, V> | undefined { return this.outer[h & 63]![(h >>> 6) & 63]; }

  get(key: string): V | undefined { return this.bucket(CowMap.hash(key))?.get(key); }
  has(key: string): boolean { return this.bucket(CowMap.hash(key))?.has(key) ?? false; }

  private with(h: number, bucket: ReadonlyMap<string, V> | undefined, size: number): CowMap<V> {
    const outer = this.outer.slice();
    const inner = outer[h & 63]!.slice();
    inner[(h >>> 6) & 63] = bucket;
    outer[h & 63] = inner;
    return new CowMap(outer, size);
  }

  set(key: string, value: V): CowMap<V> {
    const h = CowMap.hash(key);
    const bucket = new Map(this.bucket(h) ?? []);
    const grew = !bucket.has(key);
    bucket.set(key, value);
    return this.with(h, bucket, this.size + (grew ? 1 : 0));
  }

  delete(key: string): CowMap<V> {
    const h = CowMap.hash(key);
    const old = this.bucket(h);
    if (old?.has(key) !== true) return this;
    const bucket = new Map(old);
    bucket.delete(key);
    return this.with(h, bucket.size === 0 ? undefined : bucket, this.size - 1);
  }

  *values(): IterableIterator<V> {
    for (const inner of this.outer) for (const bucket of inner) if (bucket !== undefined) yield* bucket.values();
  }
}

/** The ACLs of one resource type, by literal name and by prefix. */
interface TypeIndex {
  readonly literal: CowMap<readonly AclWithId[]>;
  readonly prefixed: CowMap<readonly AclWithId[]>;
  /** How many prefixed names there are of each length; `prefixLengths` lists the lengths, ascending. */
  readonly prefixCounts: ReadonlyMap<number, number>;
  readonly prefixLengths: readonly number[];
}

const EMPTY_TYPE_INDEX: TypeIndex = { literal: CowMap.empty(), prefixed: CowMap.empty(), prefixCounts: new Map(), prefixLengths: [] };

/** The index with `acl` added (+1) or removed (-1). */
function indexWith(index: TypeIndex, acl: AclWithId, change: 1 | -1): TypeIndex {
  const prefixed = acl.patternType === PatternType.PREFIXED;
  const bucket = prefixed ? index.prefixed : index.literal;
  const before = bucket.get(acl.resourceName) ?? [];
  const after = change === 1 ? [...before, acl] : before.filter((a) => a.id !== acl.id);
  const next = after.length === 0 ? bucket.delete(acl.resourceName) : bucket.set(acl.resourceName, after);
  if (!prefixed) return { ...index, literal: next };
  let { prefixCounts, prefixLengths } = index;
  const nameAdded = before.length === 0 && after.length > 0;
  const nameRemoved = before.length > 0 && after.length === 0;
  if (nameAdded || nameRemoved) {
    const counts = new Map(prefixCounts);
    const len = acl.resourceName.length;
    const count = (counts.get(len) ?? 0) + (nameAdded ? 1 : -1);
    if (count === 0) counts.delete(len); else counts.set(len, count);
    prefixCounts = counts;
    prefixLengths = [...counts.keys()].sort((a, b) => a - b);
  }
  return { literal: index.literal, prefixed: next, prefixCounts, prefixLengths };
}

/**
 * The cluster's ACLs: immutable, changed only by applying AccessControlEntry and
 * RemoveAccessControlEntry records (copy on write of one shard per map, see CowMap).
 */
export class AclImage {
  static readonly EMPTY = new AclImage(CowMap.empty(), CowMap.empty(), new Map());

  private constructor(
    private readonly ids: CowMap<AclWithId>,
    /** aclKey → id: CreateAcls of an ACL that exists already adds no record. */
    private readonly byKey: CowMap<string>,
    private readonly byType: ReadonlyMap<number, TypeIndex>,
  ) {}

  get size(): number { return this.ids.size; }

  get(id: string): AclWithId | undefined { return this.ids.get(id); }

  /** Every ACL. */
  all(): IterableIterator<AclWithId> { return this.ids.values(); }

  /** The id of an identical ACL, if there is one. */
  idOf(acl: Acl): string | undefined { return this.byKey.get(aclKey(acl)); }

  withAcl(acl: AclWithId): AclImage {
    const base = this.ids.has(acl.id) ? this.withoutAcl(acl.id) : this;
    const byType = new Map(base.byType).set(acl.resourceType, indexWith(base.byType.get(acl.resourceType) ?? EMPTY_TYPE_INDEX, acl, 1));
    return new AclImage(base.ids.set(acl.id, acl), base.byKey.set(aclKey(acl), acl.id), byType);
  }

  withoutAcl(id: string): AclImage {
    const acl = this.ids.get(id);
    if (acl === undefined) return this;
    const key = aclKey(acl);
    const byKey = this.byKey.get(key) === id ? this.byKey.delete(key) : this.byKey;
    const byType = new Map(this.byType).set(acl.resourceType, indexWith(this.byType.get(acl.resourceType) ?? EMPTY_TYPE_INDEX, acl, -1));
    return new AclImage(this.ids.delete(id), byKey, byType);
  }

  /**
   * Calls `visit` with every ACL whose pattern matches the resource (literal name, literal `*`,
   * and each PREFIXED ACL whose prefix starts the name); stops when `visit` returns false.
   */
  forEachMatching(resourceType: number, name: string, visit: (acl: AclWithId) => boolean): void {
    const index = this.byType.get(resourceType);
    if (index === undefined) return;
    const lists: (readonly AclWithId[] | undefined)[] = [index.literal.get(name)];
    if (name !== WILDCARD) lists.push(index.literal.get(WILDCARD));
    for (const len of index.prefixLengths) {
      if (len > name.length) break;
      lists.push(index.prefixed.get(len === name.length ? name : name.slice(0, len)));
    }
    for (const list of lists) {
      if (list === undefined) continue;
      for (const acl of list) if (!visit(acl)) return;
    }
  }

  /** Every ACL of a resource type (authorizeByResourceType). */
  *ofType(resourceType: number): Iterable<AclWithId> {
    const index = this.byType.get(resourceType);
    if (index === undefined) return;
    for (const list of index.literal.values()) yield* list;
    for (const list of index.prefixed.values()) yield* list;
  }

  /** The ACLs a filter matches (DescribeAcls, DeleteAcls: admin requests, so a scan is fine). */
  matching(filter: AclFilter): AclWithId[] {
    const out: AclWithId[] = [];
    for (const acl of this.ids.values()) if (filterMatches(filter, acl)) out.push(acl);
    return out;
  }
}
