/**
 * TLS settings and principals end to end, with kafkajs and the authorizer:
 * - a PKCS12 keystore (ssl.keystore.type=PKCS12) with ssl.client.auth=required;
 * - ssl.client.auth=requested: a client certificate gives its principal, none gives User:ANONYMOUS;
 * - the principal of a real client certificate (User:CN=client,O=raftka,C=US) is what an ACL
 *   allows a produce for, and nobody else gets it;
 * - a bare sasl.jaas.config (no listener or mechanism prefix) holds the PLAIN users.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import kafkajs, { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { makeCerts, PKCS12_PASSWORD, type TestCerts } from './certs.js';
import { startSecureBroker, type TestBroker } from './helpers.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const CLIENT = 'User:CN=client,O=raftka,C=US';

function kafka(port: number, ssl?: ConnectionOptions, sasl?: SASLOptions): Kafka {
  return new Kafka({ clientId: 'tls-principal', brokers: [`127.0.0.1:${port}`], ssl, sasl, retry: { retries: 0 }, logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
}

/** '' when the produce succeeded, else the Kafka error type. */
async function produce(k: Kafka, topic: string): Promise<string> {
  const producer = k.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: 'x' }] });
    return '';
  } catch (err) {
    const e = err as { type?: string; cause?: { type?: string }; message?: string };
    return e.type ?? e.cause?.type ?? String(e.message);
  } finally {
    await producer.disconnect();
  }
}

describe('TLS principals, PKCS12 keystores, ssl.client.auth=requested, bare sasl.jaas.config', () => {
  let certs: TestCerts;
  let b: TestBroker;
  let withCert: ConnectionOptions;
  let noCert: ConnectionOptions;
  before(async () => {
    certs = await makeCerts();
    withCert = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert, servername: 'localhost' };
    noCert = { ca: certs.caCert, servername: 'localhost' };
    b = await startSecureBroker({
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0,REQ://127.0.0.1:0',
      'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL,REQ:SSL',
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
      'listener.name.mtls.ssl.keystore.type': 'PKCS12',
      'listener.name.mtls.ssl.keystore.location': certs.paths.serverP12,
      'listener.name.mtls.ssl.keystore.password': PKCS12_PASSWORD,
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.req.ssl.keystore.location': certs.paths.serverPem,
      'listener.name.req.ssl.client.auth': 'requested',
      'ssl.truststore.location': certs.paths.ca,
      'authorizer.class.name': 'standard',
      'super.users': 'User:admin',
    });
    const admin = kafka(b.port('SASL_PLAINTEXT'), undefined, { mechanism: 'plain', username: 'admin', password: 'admin-secret' }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'certs', numPartitions: 1 }] });
      await admin.createAcls({ acl: [{
        resourceType: AclResourceTypes.TOPIC, resourceName: 'certs', resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: CLIENT, host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW,
      }] });
    } finally { await admin.disconnect(); }
  });
  after(async () => {
    await b?.close();
    if (certs !== undefined) await rm(certs.dir, { recursive: true, force: true });
  });

  it('bare sasl.jaas.config: its PLAIN user authenticates (it created the topic and ACL above); a wrong password does not', async () => {
    const bad = kafka(b.port('SASL_PLAINTEXT'), undefined, { mechanism: 'plain', username: 'admin', password: 'nope' }).admin();
    await assert.rejects(bad.connect());
  });

  it('PKCS12 keystore, ssl.client.auth=required: the certificate\'s principal may produce per its ACL; no certificate, no connection', async () => {
    assert.equal(await produce(kafka(b.port('MTLS'), withCert), 'certs'), '');
    await assert.rejects(kafka(b.port('MTLS'), noCert).admin().connect());
  });

  it('ssl.client.auth=requested: with the certificate it is User:CN=client,O=raftka,C=US (allowed); without, User:ANONYMOUS (denied)', async () => {
    assert.equal(await produce(kafka(b.port('REQ'), withCert), 'certs'), '');
    assert.equal(await produce(kafka(b.port('REQ'), noCert), 'certs'), 'TOPIC_AUTHORIZATION_FAILED');
  });

  it('the records written under the certificate principal are there (read by the super user)', async () => {
    const admin = kafka(b.port('SASL_PLAINTEXT'), undefined, { mechanism: 'plain', username: 'admin', password: 'admin-secret' }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets('certs');
      assert.equal(offsets[0]!.high, '2');
    } finally { await admin.disconnect(); }
  });
});
