import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AclImage, AclOperation as Op, AclPermissionType as Perm, AclResourceType as Type, PatternType as Pat,
  filterMatches, validateNewAcl, type Acl, type AclFilter,
} from '../../src/security/acls.js';
import { AuthHelper, StandardAuthorizer, authorizerEnabled, normaliseHost, parseSuperUsers } from '../../src/security/authorizer.js';
import { Controller } from '../../src/cluster/controller.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

const acl = (over: Partial<Acl>): Acl => ({
  resourceType: Type.TOPIC, resourceName: 'orders', patternType: Pat.LITERAL, principal: 'User:alice', host: '*',
  operation: Op.READ, permissionType: Perm.ALLOW, ...over,
});

function imageOf(acls: readonly Acl[]): AclImage {
  let image = AclImage.EMPTY;
  acls.forEach((a, i) => { image = image.withAcl({ ...a, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }); });
  return image;
}

function authorizer(acls: readonly Acl[], options: { superUsers?: string; allowEveryone?: boolean } = {}): StandardAuthorizer {
  const image = imageOf(acls);
  return new StandardAuthorizer({ superUsers: parseSuperUsers(options.superUsers ?? ''), allowEveryoneIfNoAclFound: options.allowEveryone ?? false }, () => image);
}

interface Case {
  readonly name: string;
  readonly acls: readonly Acl[];
  readonly principal?: string;
  readonly host?: string;
  readonly op: number;
  readonly type?: number;
  readonly resource?: string;
  readonly superUsers?: string;
  readonly allowEveryone?: boolean;
  readonly allowed: boolean;
}

const CASES: readonly Case[] = [
  { name: 'no ACL at all: denied by default', acls: [], op: Op.READ, allowed: false },
  { name: 'no ACL at all, allow.everyone.if.no.acl.found', acls: [], op: Op.READ, allowEveryone: true, allowed: true },
  { name: 'ACLs on the resource for someone else: denied even with allow.everyone', acls: [acl({ principal: 'User:bob' })], op: Op.READ, allowEveryone: true, allowed: false },
  { name: 'ACLs on another resource only: allow.everyone applies', acls: [acl({ resourceName: 'other' })], op: Op.READ, allowEveryone: true, allowed: true },
  { name: 'literal ALLOW READ', acls: [acl({})], op: Op.READ, allowed: true },
  { name: 'literal ALLOW READ does not allow WRITE', acls: [acl({})], op: Op.WRITE, allowed: false },
  { name: 'literal name must match exactly', acls: [acl({ resourceName: 'order' })], op: Op.READ, allowed: false },
  { name: 'DENY beats ALLOW', acls: [acl({}), acl({ permissionType: Perm.DENY })], op: Op.READ, allowed: false },
  { name: 'DENY READ, ALLOW WRITE: write allowed', acls: [acl({ operation: Op.WRITE }), acl({ permissionType: Perm.DENY })], op: Op.WRITE, allowed: true },
  { name: 'DENY READ, ALLOW WRITE: read denied', acls: [acl({ operation: Op.WRITE }), acl({ permissionType: Perm.DENY })], op: Op.READ, allowed: false },
  { name: 'wildcard principal User:*', acls: [acl({ principal: 'User:*' })], op: Op.READ, allowed: true },
  { name: 'wildcard principal DENY beats a named ALLOW', acls: [acl({}), acl({ principal: 'User:*', permissionType: Perm.DENY })], op: Op.READ, allowed: false },
  { name: 'wildcard resource *', acls: [acl({ resourceName: '*' })], op: Op.READ, allowed: true },
  { name: 'wildcard resource DENY beats a literal ALLOW', acls: [acl({}), acl({ resourceName: '*', permissionType: Perm.DENY })], op: Op.READ, allowed: false },
  { name: 'prefixed ALLOW', acls: [acl({ resourceName: 'ord', patternType: Pat.PREFIXED })], op: Op.READ, allowed: true },
  { name: 'prefixed equal to the whole name', acls: [acl({ resourceName: 'orders', patternType: Pat.PREFIXED })], op: Op.READ, allowed: true },
  { name: 'prefixed longer than the name does not match', acls: [acl({ resourceName: 'orders-eu', patternType: Pat.PREFIXED })], op: Op.READ, allowed: false },
  { name: 'prefixed that is not a prefix', acls: [acl({ resourceName: 'pay', patternType: Pat.PREFIXED })], op: Op.READ, allowed: false },
  { name: 'prefixed DENY beats a literal ALLOW', acls: [acl({}), acl({ resourceName: 'or', patternType: Pat.PREFIXED, permissionType: Perm.DENY })], op: Op.READ, allowed: false },
  { name: 'a literal named like a prefix does not match', acls: [acl({ resourceName: 'ord' })], op: Op.READ, allowed: false },
  { name: 'host matches', acls: [acl({ host: '10.0.0.1' })], host: '10.0.0.1', op: Op.READ, allowed: true },
  { name: 'host differs', acls: [acl({ host: '10.0.0.1' })], host: '10.0.0.2', op: Op.READ, allowed: false },
  { name: 'DENY from one host only', acls: [acl({}), acl({ host: '10.0.0.9', permissionType: Perm.DENY })], host: '10.0.0.1', op: Op.READ, allowed: true },
  { name: 'ALL allows any operation', acls: [acl({ operation: Op.ALL })], op: Op.ALTER_CONFIGS, allowed: true },
  { name: 'DENY ALL denies any operation', acls: [acl({ operation: Op.WRITE }), acl({ operation: Op.ALL, permissionType: Perm.DENY })], op: Op.WRITE, allowed: false },
  { name: 'READ implies DESCRIBE', acls: [acl({})], op: Op.DESCRIBE, allowed: true },
  { name: 'WRITE implies DESCRIBE', acls: [acl({ operation: Op.WRITE })], op: Op.DESCRIBE, allowed: true },
  { name: 'DELETE implies DESCRIBE', acls: [acl({ operation: Op.DELETE })], op: Op.DESCRIBE, allowed: true },
  { name: 'ALTER implies DESCRIBE', acls: [acl({ operation: Op.ALTER })], op: Op.DESCRIBE, allowed: true },
  { name: 'CREATE does not imply DESCRIBE', acls: [acl({ operation: Op.CREATE })], op: Op.DESCRIBE, allowed: false },
  { name: 'ALTER_CONFIGS implies DESCRIBE_CONFIGS', acls: [acl({ operation: Op.ALTER_CONFIGS })], op: Op.DESCRIBE_CONFIGS, allowed: true },
  { name: 'DENY READ does not deny DESCRIBE', acls: [acl({ operation: Op.DESCRIBE }), acl({ permissionType: Perm.DENY })], op: Op.DESCRIBE, allowed: true },
  { name: 'super user with no ACL', acls: [], principal: 'User:admin', superUsers: 'User:admin;User:broker', op: Op.ALTER, allowed: true },
  { name: 'super user beats DENY', acls: [acl({ principal: 'User:admin', permissionType: Perm.DENY })], principal: 'User:admin', superUsers: 'User:admin', op: Op.READ, allowed: true },
  { name: 'resource types are separate', acls: [acl({ resourceType: Type.GROUP })], op: Op.READ, allowed: false },
  { name: 'group READ', acls: [acl({ resourceType: Type.GROUP, resourceName: 'g1' })], type: Type.GROUP, resource: 'g1', op: Op.READ, allowed: true },
  { name: 'cluster CLUSTER_ACTION', acls: [acl({ resourceType: Type.CLUSTER, resourceName: 'kafka-cluster', operation: Op.CLUSTER_ACTION })], type: Type.CLUSTER, resource: 'kafka-cluster', op: Op.CLUSTER_ACTION, allowed: true },
];

describe('StandardAuthorizer matching rules', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const a = authorizer(c.acls, { superUsers: c.superUsers, allowEveryone: c.allowEveryone });
      assert.equal(a.authorize(c.principal ?? 'User:alice', c.host ?? '127.0.0.1', c.op, c.type ?? Type.TOPIC, c.resource ?? 'orders'), c.allowed);
    });
  }

  it('authorizeByResourceType: an ALLOW somewhere unless a DENY dominates it', () => {
    const by = (acls: readonly Acl[]): boolean => authorizer(acls).authorizeByResourceType('User:alice', '127.0.0.1', Op.WRITE, Type.TOPIC);
    assert.equal(by([]), false);
    assert.equal(by([acl({ operation: Op.WRITE })]), true);
    assert.equal(by([acl({ operation: Op.WRITE }), acl({ operation: Op.WRITE, permissionType: Perm.DENY })]), false);
    assert.equal(by([acl({ operation: Op.WRITE }), acl({ resourceName: 'or', patternType: Pat.PREFIXED, operation: Op.WRITE, permissionType: Perm.DENY })]), false);
    assert.equal(by([acl({ operation: Op.WRITE }), acl({ resourceName: 'pay', patternType: Pat.PREFIXED, operation: Op.WRITE, permissionType: Perm.DENY })]), true);
    assert.equal(by([acl({ resourceName: '*', operation: Op.WRITE })]), true);
    assert.equal(by([acl({ operation: Op.WRITE }), acl({ resourceName: '*', operation: Op.WRITE, permissionType: Perm.DENY })]), false);
    // Implied operations do not count here (as in Kafka).
    assert.equal(by([acl({ operation: Op.READ })]), false);
  });

  it('the AuthHelper maps connections to principal and host, and fills authorized operations', () => {
    const image = imageOf([acl({ operation: Op.WRITE, host: '10.1.2.3' }), acl({ operation: Op.ALTER_CONFIGS, host: '10.1.2.3' })]);
    const helper = new AuthHelper(new StandardAuthorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: false }, () => image));
    const ctx = { connection: { principal: 'User:alice', remoteAddress: '::ffff:10.1.2.3' } };
    assert.equal(helper.authorize(ctx, Op.WRITE, Type.TOPIC, 'orders'), true);
    const bits = helper.authorizedOperations(ctx, Type.TOPIC, 'orders', -1);
    assert.equal(bits, (1 << Op.WRITE) | (1 << Op.DESCRIBE) | (1 << Op.ALTER_CONFIGS) | (1 << Op.DESCRIBE_CONFIGS));
    assert.equal(helper.clusterAuthorizedOperations(ctx, -1), 0);
    assert.equal(new AuthHelper(null).authorizedOperations(ctx, Type.TOPIC, 'orders', 42), 42);
    assert.equal(new AuthHelper(null).authorize(ctx, Op.ALTER, Type.CLUSTER, 'kafka-cluster'), true);
    assert.equal(normaliseHost('::ffff:127.0.0.1'), '127.0.0.1');
  });

  it('authorizer.class.name: Kafka\'s class name or raftka\'s short one, unknown names refused', () => {
    assert.equal(authorizerEnabled(''), false);
    assert.equal(authorizerEnabled('org.apache.kafka.metadata.authorizer.StandardAuthorizer'), true);
    assert.equal(authorizerEnabled('standard'), true);
    assert.throws(() => authorizerEnabled('com.example.MyAuthorizer'), /not supported/);
  });

  it('looks at the ACLs of the resource only (index by type, name and prefix)', () => {
    // 20,000 ACLs on other topics; a check must not scan them.
    const many: Acl[] = [];
    for (let i = 0; i < 20000; i++) many.push(acl({ resourceName: `topic-${i}`, principal: `User:u${i % 100}` }));
    many.push(acl({ resourceName: 'orders', patternType: Pat.PREFIXED, operation: Op.WRITE }));
    const loading = performance.now();
    const a = authorizer(many);
    const loadMs = performance.now() - loading;
    assert.ok(loadMs < 5000, `loading 20,001 ACLs took ${loadMs.toFixed(0)} ms`);
    const started = performance.now();
    let allowed = 0;
    for (let i = 0; i < 100000; i++) if (a.authorize('User:alice', '127.0.0.1', Op.WRITE, Type.TOPIC, 'orders-eu')) allowed++;
    const perCheckUs = ((performance.now() - started) * 1000) / 100000;
    assert.equal(allowed, 100000);
    assert.ok(perCheckUs < 20, `one authorize() took ${perCheckUs.toFixed(2)} µs`);
  });
});

describe('ACL validation and filters', () => {
  it('refuses what Kafka refuses (INVALID_REQUEST)', () => {
    assert.equal(validateNewAcl(acl({})), null);
    assert.match(validateNewAcl(acl({ resourceType: Type.ANY }))!, /Invalid resourceType ANY/);
    assert.match(validateNewAcl(acl({ resourceType: 99 }))!, /Invalid resourceType UNKNOWN/);
    assert.match(validateNewAcl(acl({ patternType: Pat.MATCH }))!, /Invalid patternType MATCH/);
    assert.match(validateNewAcl(acl({ operation: Op.ANY }))!, /Invalid operation ANY/);
    assert.match(validateNewAcl(acl({ permissionType: Perm.ANY }))!, /Invalid permissionType ANY/);
    assert.match(validateNewAcl(acl({ resourceType: Type.CLUSTER, resourceName: 'x' }))!, /only valid name for the CLUSTER resource is kafka-cluster/);
    assert.match(validateNewAcl(acl({ resourceName: '' }))!, /empty resource name/);
    assert.match(validateNewAcl(acl({ principal: 'alice' }))!, /Could not parse principal/);
  });

  it('matches filters as AclBindingFilter does (ANY, MATCH, LITERAL, PREFIXED, nulls)', () => {
    const any: AclFilter = { resourceType: Type.ANY, resourceName: null, patternType: Pat.ANY, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY };
    const lit = acl({});
    const pre = acl({ resourceName: 'ord', patternType: Pat.PREFIXED });
    const wild = acl({ resourceName: '*' });
    assert.equal(filterMatches(any, lit), true);
    assert.equal(filterMatches({ ...any, resourceName: 'orders' }, pre), false, 'ANY pattern: exact names only');
    assert.equal(filterMatches({ ...any, resourceName: 'orders', patternType: Pat.MATCH }, pre), true);
    assert.equal(filterMatches({ ...any, resourceName: 'orders', patternType: Pat.MATCH }, wild), true);
    assert.equal(filterMatches({ ...any, resourceName: 'orders', patternType: Pat.MATCH }, lit), true);
    assert.equal(filterMatches({ ...any, resourceName: 'payments', patternType: Pat.MATCH }, pre), false);
    assert.equal(filterMatches({ ...any, patternType: Pat.PREFIXED }, lit), false);
    assert.equal(filterMatches({ ...any, patternType: Pat.LITERAL }, lit), true);
    assert.equal(filterMatches({ ...any, principal: 'User:bob' }, lit), false);
    assert.equal(filterMatches({ ...any, operation: Op.WRITE }, lit), false);
    assert.equal(filterMatches({ ...any, permissionType: Perm.DENY }, lit), false);
    assert.equal(filterMatches({ ...any, resourceType: Type.GROUP }, lit), false);
  });
});

describe('ACLs through the controller and the metadata records', () => {
  const newController = (): { controller: Controller; log: MemoryMetadataLog } => {
    const log = new MemoryMetadataLog();
    return { controller: new Controller(log, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(7), () => performance.now(), silentLogger), log };
  };

  it('creates (once), describes and deletes ACLs, each change a committed record', async () => {
    const { controller, log } = newController();
    const created = await controller.createAcls([acl({}), acl({}), acl({ resourceName: 'pay', patternType: Pat.PREFIXED, permissionType: Perm.DENY }), acl({ operation: Op.ANY })]);
    assert.deepEqual(created.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
    assert.equal(log.records.filter((r) => r.type === 'AccessControlEntry').length, 2, 'the duplicate adds no record');
    assert.equal(log.image().acls.size, 2);
    // Creating an existing ACL again succeeds without a record.
    await controller.createAcls([acl({})]);
    assert.equal(log.records.length, 2);

    const any: AclFilter = { resourceType: Type.ANY, resourceName: null, patternType: Pat.ANY, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY };
    const deleted = await controller.deleteAcls([{ ...any, permissionType: Perm.DENY }, { ...any, operation: 0 }, { ...any, permissionType: Perm.DENY }]);
    assert.deepEqual(deleted.map((r) => [r.errorCode, r.deleted.length]), [[ErrorCode.NONE, 1], [ErrorCode.INVALID_REQUEST, 0], [ErrorCode.NONE, 1]]);
    assert.equal(log.records.filter((r) => r.type === 'RemoveAccessControlEntry').length, 1, 'one record per ACL, however many filters match it');
    assert.deepEqual([...log.image().acls.all()].map((a) => a.resourceName), ['orders']);
    const a = new StandardAuthorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: false }, () => log.image().acls);
    assert.equal(a.authorize('User:alice', '1.2.3.4', Op.READ, Type.TOPIC, 'orders'), true);
    assert.equal(a.authorize('User:alice', '1.2.3.4', Op.READ, Type.TOPIC, 'payments'), false);
  });
});
