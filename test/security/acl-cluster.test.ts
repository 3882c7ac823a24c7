/**
 * An authorizer in a cluster of three broker processes. Peers talk PLAINTEXT as User:ANONYMOUS,
 * so that principal is a super user here (the setup of a private inter-broker listener). CreateAcls
 * and DeleteAcls sent to a broker that is not the controller go there in an Envelope; every
 * broker's image then shows the ACL. (The Envelope's client principal: acl-handlers.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { CreateAclsResponse } from '../../protocol/generated/create-acls.js';
import type { DescribeAclsResponse } from '../../protocol/generated/describe-acls.js';
import type { DeleteAclsResponse } from '../../protocol/generated/delete-acls.js';
import { startCluster, type Cluster } from '../../compat/harness.js';
import { RawClient } from '../helpers/raw-client.js';
import { AclOperation as Op, AclPermissionType as Perm, AclResourceType as Type, PatternType as Pat } from '../../src/security/acls.js';

async function request<T>(port: number, apiKey: number, version: number, body: unknown): Promise<T> {
  const client = await RawClient.connect(port);
  try {
    client.send(apiKey, version, body);
    return (await client.receive()).body as T;
  } finally {
    client.close();
  }
}

const ANY_FILTER = {
  resourceTypeFilter: Type.ANY, resourceNameFilter: null, patternTypeFilter: Pat.ANY, principalFilter: null, hostFilter: null,
  operation: Op.ANY, permissionType: Perm.ANY,
};

describe('ACLs in a cluster of three brokers', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({
      size: 3,
      config: { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:ANONYMOUS' },
    });
  });
  after(async () => { await cluster?.destroy(); });

  it('forwards CreateAcls and DeleteAcls to the controller; every broker serves the change', async () => {
    const md = await request<MetadataResponse>(cluster.brokers[0]!.port, ApiKey.Metadata, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false, includeClusterAuthorizedOperations: false });
    const other = cluster.brokers.find((b) => b.nodeId !== md.controllerId)!;
    const created = await request<CreateAclsResponse>(other.port, ApiKey.CreateAcls, 3, {
      creations: [{ resourceType: Type.TOPIC, resourceName: 'orders', resourcePatternType: Pat.PREFIXED, principal: 'User:alice', host: '*', operation: Op.READ, permissionType: Perm.ALLOW }],
    });
    assert.deepEqual(created.results.map((r) => r.errorCode), [0], cluster.logs());
    // The relaying broker answered once its own image had the ACL; the others follow the log.
    const relayed = await request<DescribeAclsResponse>(other.port, ApiKey.DescribeAcls, 3, ANY_FILTER);
    assert.deepEqual(relayed.resources.map((r) => [r.resourceName, r.patternType, r.acls[0]!.principal]), [['orders', Pat.PREFIXED, 'User:alice']]);
    for (const b of cluster.brokers) {
      for (let attempt = 0; ; attempt++) {
        const r = await request<DescribeAclsResponse>(b.port, ApiKey.DescribeAcls, 3, ANY_FILTER);
        if (r.resources.length === 1) break;
        assert.ok(attempt < 50, `broker ${b.nodeId} never showed the ACL`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const deleted = await request<DeleteAclsResponse>(other.port, ApiKey.DeleteAcls, 3, { filters: [ANY_FILTER] });
    assert.equal(deleted.filterResults[0]!.matchingAcls.length, 1);
    const after = await request<DescribeAclsResponse>(other.port, ApiKey.DescribeAcls, 3, ANY_FILTER);
    assert.deepEqual(after.resources, []);
  });
});
