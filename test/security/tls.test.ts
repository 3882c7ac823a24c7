import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { principalFromSubject } from '../../src/security/listeners.js';
import { makeCerts, type TestCerts } from './certs.js';
import { startSecureBroker, type TestBroker } from './helpers.js';

async function listTopics(port: number, ssl: ConnectionOptions, sasl?: SASLOptions): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'tls-test', brokers: [`127.0.0.1:${port}`], ssl, sasl, retry: { retries: 0 }, logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

describe('TLS listeners', () => {
  let certs: TestCerts;
  let b: TestBroker;
  before(async () => {
    certs = await makeCerts();
    b = await startSecureBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,MTLS:SSL,SSL:SSL,SASL_SSL:SASL_SSL',
      // MTLS: a PEM keystore file, client certificates required.
      'listener.name.mtls.ssl.keystore.location': certs.paths.serverPem,
      'listener.name.mtls.ssl.truststore.location': certs.paths.ca,
      'listener.name.mtls.ssl.client.auth': 'required',
      // SSL and SASL_SSL: inline PEM key and chain, client certificates not asked for.
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.key': certs.serverKey.trim().replaceAll('\n', '\\n'),
      'ssl.keystore.certificate.chain': certs.serverCert.trim().replaceAll('\n', '\\n'),
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'raftka.bootstrap.scram.users': 'SCRAM-SHA-256=[name=alice,password=alice-secret]',
    });
  });
  after(async () => {
    await b?.close();
    await rm(certs.dir, { recursive: true, force: true });
  });

  it('ssl.client.auth=required: a client certificate signed by the truststore CA connects; none is refused', async () => {
    const port = b.port('MTLS');
    await listTopics(port, { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert, servername: 'localhost' });
    await assert.rejects(listTopics(port, { ca: certs.caCert, servername: 'localhost' }));
  });

  it('ssl.client.auth=none: a TLS client without a certificate connects; a client not trusting the CA does not', async () => {
    const port = b.port('SSL');
    await listTopics(port, { ca: certs.caCert, servername: 'localhost' });
    await assert.rejects(listTopics(port, { servername: 'localhost' }));
  });

  it('SASL_SSL with SCRAM-SHA-256: kafkajs with TLS and a bootstrap SCRAM user', async () => {
    const port = b.port('SASL_SSL');
    await listTopics(port, { ca: certs.caCert, servername: 'localhost' }, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' });
    await assert.rejects(listTopics(port, { ca: certs.caCert, servername: 'localhost' }, { mechanism: 'scram-sha-256', username: 'alice', password: 'bad' }));
  });

  it('the TLS principal is User:<subject DN> in RFC 2253 order, as Kafka\'s default principal builder', () => {
    assert.equal(principalFromSubject(new X509Certificate(certs.clientCert).subject), 'User:CN=client,O=raftka,C=US');
    assert.equal(principalFromSubject('C=US\nO=a, b\nCN=x'), 'User:CN=x,O=a\\, b,C=US');
  });
});
