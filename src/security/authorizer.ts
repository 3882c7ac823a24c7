/**
 * The authorizer: Kafka's StandardAuthorizer rules over the ACLs of the metadata image.
 * - super.users may do anything;
 * - a matching DENY beats any ALLOW;
 * - an ACL matches when its principal is the caller's or `User:*`, its host is the caller's
 *   address or `*`, its pattern covers the resource (literal name, literal `*`, or a prefix), and
 *   its operation is the one asked, or ALL, or (ALLOW ACLs only) one that implies it: READ, WRITE,
 *   DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS;
 * - with no ACL at all on the resource, `allow.everyone.if.no.acl.found` decides (default false);
 *   with ACLs on the resource but none matching, the answer is no.
 */
import {
  AclImage, AclOperation, AclPermissionType, AclResourceType, CLUSTER_NAME, PatternType, SUPPORTED_OPERATIONS, WILDCARD,
  WILDCARD_PRINCIPAL, type AclWithId,
} from './acls.js';

/** `authorizer.class.name` values that turn the authorizer on (Kafka's, and raftka's short names). */
export const AUTHORIZER_CLASS_NAMES: readonly string[] = [
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
  'StandardAuthorizer',
  'standard',
  'acl',
];

export interface AuthorizerConfig {
  /** super.users: principals allowed everything. */
  readonly superUsers: ReadonlySet<string>;
  /** allow.everyone.if.no.acl.found */
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** Parses `super.users` (`User:alice;User:bob`, Kafka's separator is `;`). */
export function parseSuperUsers(value: string): Set<string> {
  return new Set(value.split(';').map((s) => s.trim()).filter((s) => s !== ''));
}

/**
 * Whether `authorizer.class.name` names the authorizer: '' is none (everything allowed); an
 * unknown class name is a configuration error (Kafka fails to start on it too).
 */
export function authorizerEnabled(className: string): boolean {
  const name = className.trim();
  if (name === '') return false;
  if (!AUTHORIZER_CLASS_NAMES.includes(name)) {
    throw new Error(`authorizer.class.name=${name} is not supported (use ${AUTHORIZER_CLASS_NAMES[0]} or 'standard')`);
  }
  return true;
}

/** Kafka prints IPv4 client addresses plainly; Node gives IPv4-mapped IPv6 on dual-stack sockets. */
export function normaliseHost(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** An ALLOW ACL for one of these operations also allows DESCRIBE (resp. DESCRIBE_CONFIGS). */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/** ALLOW, DENY, or null when the ACL does not apply (StandardAuthorizerData.findResult; the resource already matched). */
function aclResult(acl: AclWithId, principal: string, host: string, operation: number): 'allow' | 'deny' | null {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return null;
  if (acl.host !== WILDCARD && acl.host !== host) return null;
  const allow = acl.permissionType === AclPermissionType.ALLOW;
  if (acl.operation !== AclOperation.ALL) {
    if (allow && operation === AclOperation.DESCRIBE) {
      if (!IMPLIES_DESCRIBE.has(acl.operation)) return null;
    } else if (allow && operation === AclOperation.DESCRIBE_CONFIGS) {
      if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return null;
    } else if (acl.operation !== operation) {
      return null;
    }
  }
  return allow ? 'allow' : acl.permissionType === AclPermissionType.DENY ? 'deny' : null;
}

export class StandardAuthorizer {
  constructor(
    readonly config: AuthorizerConfig,
    /** The current ACLs (the metadata image's). */
    private readonly acls: () => AclImage,
  ) {}

  isSuperUser(principal: string): boolean { return this.config.superUsers.has(principal); }

  /** May `principal` connecting from `host` perform `operation` on the resource? */
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.isSuperUser(principal)) return true;
    let hasResourceAcls = false;
    let allowed = false;
    let denied = false;
    this.acls().forEachMatching(resourceType, name, (acl) => {
      hasResourceAcls = true;
      const r = aclResult(acl, principal, host, operation);
      if (r === 'deny') { denied = true; return false; }
      if (r === 'allow') allowed = true;
      return true;
    });
    if (denied) return false;
    if (allowed) return true;
    return !hasResourceAcls && this.config.allowEveryoneIfNoAclFound;
  }

  /**
   * May `principal` perform `operation` on at least one resource of the type (Kafka's
   * Authorizer.authorizeByResourceType, used by InitProducerId without a transactional id)?
   * Only exact operations (and ALL) count, as in Kafka; a DENY dominates an ALLOW of the same
   * literal name or of a name it is a prefix of; a DENY on the literal `*` denies all.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    // A name no ACL can be about: super users, and allow.everyone.if.no.acl.found with no ACLs.
    if (this.authorize(principal, host, operation, resourceType, 'hardcode')) return true;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allow: { name: string; literal: boolean }[] = [];
    let wildcardAllow = false;
    for (const acl of this.acls().ofType(resourceType)) {
      if (acl.host !== host && acl.host !== WILDCARD) continue;
      if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permissionType === AclPermissionType.DENY) {
        if (literal && acl.resourceName === WILDCARD) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else if (acl.permissionType === AclPermissionType.ALLOW) {
        if (literal && acl.resourceName === WILDCARD) wildcardAllow = true;
        else allow.push({ name: acl.resourceName, literal });
      }
    }
    if (wildcardAllow) return true;
    return allow.some(({ name, literal }) => {
      if (literal && denyLiteral.has(name)) return false;
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return false;
      return true;
    });
  }
}

/** What the authorization checks need of a request: who sent it and from where. */
export interface AuthContext {
  readonly connection: { readonly principal: string; readonly remoteAddress: string };
}

/** Kafka's "authorized operations not requested / unknown" value (Int.MinValue). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * The handlers' side of authorization (Kafka's AuthHelper): every check goes through here, and
 * without an authorizer every check passes.
 */
export class AuthHelper {
  constructor(readonly authorizer: StandardAuthorizer | null) {}

  /** True when an authorizer is configured. */
  get enabled(): boolean { return this.authorizer !== null; }

  /** May the request's principal perform `operation` on the resource? Always true without an authorizer. */
  authorize(ctx: AuthContext, operation: number, resourceType: number, name: string): boolean {
    if (this.authorizer === null) return true;
    return this.authorizer.authorize(ctx.connection.principal, normaliseHost(ctx.connection.remoteAddress), operation, resourceType, name);
  }

  /** `operation` on the cluster resource. */
  authorizeCluster(ctx: AuthContext, operation: number): boolean {
    return this.authorize(ctx, operation, AclResourceType.CLUSTER, CLUSTER_NAME);
  }

  /** `operation` on at least one resource of the type. */
  authorizeByResourceType(ctx: AuthContext, operation: number, resourceType: number): boolean {
    if (this.authorizer === null) return true;
    return this.authorizer.authorizeByResourceType(ctx.connection.principal, normaliseHost(ctx.connection.remoteAddress), operation, resourceType);
  }

  /** The names (of one resource type) the principal may perform `operation` on, each checked once. */
  filterAuthorized(ctx: AuthContext, operation: number, resourceType: number, names: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (this.authorize(ctx, operation, resourceType, name)) out.add(name);
    }
    return out;
  }

  /**
   * The authorized-operations bit field of a resource (bit n = AclOperation n), from the
   * authorizer; `withoutAuthorizer` is returned when there is none.
   */
  authorizedOperations(ctx: AuthContext, resourceType: number, name: string, withoutAuthorizer: number): number {
    if (this.authorizer === null) return withoutAuthorizer;
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS.get(resourceType) ?? []) {
      if (this.authorize(ctx, op, resourceType, name)) bits |= 1 << op;
    }
    return bits;
  }

  /**
   * The cluster's authorized operations (Metadata v8-10, DescribeCluster): 0 without DESCRIBE on
   * the cluster, as Kafka; `withoutAuthorizer` when there is no authorizer.
   */
  clusterAuthorizedOperations(ctx: AuthContext, withoutAuthorizer: number): number {
    if (this.authorizer === null) return withoutAuthorizer;
    if (!this.authorizeCluster(ctx, AclOperation.DESCRIBE)) return 0;
    return this.authorizedOperations(ctx, AclResourceType.CLUSTER, CLUSTER_NAME, withoutAuthorizer);
  }
}

/** No authorizer configured: everything is allowed. */
export const NO_AUTHORIZER = new AuthHelper(null);

/** The AuthHelper of handler deps that may have none (tests, tools). */
export function authOf(deps: { readonly auth?: AuthHelper }): AuthHelper {
  return deps.auth ?? NO_AUTHORIZER;
}

/** Builds the AuthHelper a broker's config asks for (none when authorizer.class.name is empty). */
export function createAuthHelper(config: { readonly authorizerClassName: string; readonly superUsers: string; readonly allowEveryoneIfNoAclFound: boolean }, acls: () => AclImage): AuthHelper {
  if (!authorizerEnabled(config.authorizerClassName)) return NO_AUTHORIZER;
  return new AuthHelper(new StandardAuthorizer({
    superUsers: parseSuperUsers(config.superUsers), allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound,
  }, acls));
}
