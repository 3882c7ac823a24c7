/**
 * Transactions under ACLs end to end: a kafkajs transactional producer as a SASL/PLAIN user is
 * denied until a TRANSACTIONAL_ID ACL allows it WRITE on its transactional id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { startSecureBroker, type TestBroker } from './helpers.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required '
  + 'user_admin="admin-secret" user_alice="alice-secret";';

function kafkaAs(port: number, user: string): Kafka {
  const sasl: SASLOptions = { mechanism: 'plain', username: user, password: `${user}-secret` };
  return new Kafka({ clientId: `txn-acl-${user}`, brokers: [`127.0.0.1:${port}`], sasl, retry: { retries: 0 }, logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
}

function errorType(err: unknown): string {
  const e = err as { type?: string; cause?: { type?: string }; originalError?: { type?: string }; message?: string };
  return e.type ?? e.cause?.type ?? e.originalError?.type ?? String(e.message);
}

describe('transactional producer and TRANSACTIONAL_ID ACLs (kafkajs, SASL/PLAIN)', () => {
  let b: TestBroker;
  let port: number;

  before(async () => {
    b = await startSecureBroker({
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
    }, { transactionStateLogNumPartitions: 1 });
    port = b.port('SASL_PLAINTEXT');
    const admin = kafkaAs(port, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    await admin.createAcls({ acl: [{
      resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW,
    }] });
    await admin.disconnect();
  });
  after(async () => { await b?.close(); });

  it('denied without WRITE on the transactional id, committed once an ACL grants it', async () => {
    const alice = kafkaAs(port, 'alice');
    const attempt = async (): Promise<string> => {
      const producer = alice.producer({ transactionalId: 'tx-alice', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50 } });
      await producer.connect();
      try { return await producer.transaction().then(() => 'no error', errorType); } finally { await producer.disconnect(); }
    };
    // No ACL on the id: FindCoordinator answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which kafkajs
    // reports only as "no coordinator".
    assert.match(await attempt(), /Failed to find group coordinator/);

    const admin = kafkaAs(port, 'admin').admin();
    await admin.connect();
    const grant = (operation: number) => admin.createAcls({ acl: [{
      resourceType: AclResourceTypes.TRANSACTIONAL_ID, resourceName: 'tx-alice', resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:alice', host: '*', operation, permissionType: AclPermissionTypes.ALLOW,
    }] });
    // DESCRIBE finds the coordinator; InitProducerId needs WRITE.
    await grant(AclOperationTypes.DESCRIBE);
    assert.equal(await attempt(), 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    await grant(AclOperationTypes.WRITE);

    const producer = alice.producer({ transactionalId: 'tx-alice', idempotent: true, maxInFlightRequests: 1, retry: { retries: 3 } });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'orders', messages: [{ value: 'o-1' }, { value: 'o-2' }] });
    await txn.commit();
    await producer.disconnect();

    // EndTxn is answered once PrepareCommit is durable; the COMMIT marker follows. Then the last
    // stable offset (kafkajs lists offsets read_committed) is past the two records and the marker.
    const deadline = performance.now() + 10_000;
    let high = '';
    while (performance.now() < deadline) {
      high = (await admin.fetchTopicOffsets('orders'))[0]!.high;
      if (high === '3') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(high, '3', 'two records and the COMMIT marker');
    await admin.disconnect();
  });
});
