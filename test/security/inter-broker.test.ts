/**
 * The broker side of broker-to-broker security: a PeerClient with TLS and SASL (PLAIN, SCRAM)
 * against a broker's SASL_SSL listener, re-authentication before connections.max.reauth.ms runs
 * out, wrong credentials, and interBrokerSecurity() from server.properties settings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MetadataApi } from '../../protocol/generated/index.js';
import { defaultMetadataRequest, type MetadataResponse } from '../../protocol/generated/metadata.js';
import { PeerClient, PeerUnavailableError } from '../../src/server/peer-client.js';
import { interBrokerSecurity, type PeerSecurity } from '../../src/security/inter-broker.js';
import { loadBrokerConfig, type BrokerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/util/log.js';
import { makeCerts, type TestCerts } from './certs.js';
import { startSecureBroker, type TestBroker } from './helpers.js';

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret";';

function peer(port: number, security: PeerSecurity): PeerClient {
  return new PeerClient(2, '127.0.0.1', port, 'peer-test', { requestTimeoutMs: 5000, maxBufferedBytes: 1 << 20, reconnectBackoffMs: 50, security }, silentLogger);
}

async function metadata(p: PeerClient): Promise<MetadataResponse> {
  return await p.request(MetadataApi, 12, { ...defaultMetadataRequest(), topics: null }) as MetadataResponse;
}

describe('PeerClient: TLS and SASL to the inter-broker listener', () => {
  let certs: TestCerts;
  let b: TestBroker;
  let port: number;
  before(async () => {
    certs = await makeCerts();
    b = await startSecureBroker({
      listeners: 'SASL_SSL://127.0.0.1:0',
      'ssl.keystore.location': certs.paths.serverPem,
      'ssl.truststore.location': certs.paths.ca,
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
      'raftka.bootstrap.scram.users': 'SCRAM-SHA-512=[name=broker,password=scram-secret]',
      'connections.max.reauth.ms': '1000',
      'authorizer.class.name': 'standard',
      'super.users': 'User:broker',
    });
    port = b.port('SASL_SSL');
  });
  after(async () => {
    await b?.close();
    await rm(certs.dir, { recursive: true, force: true });
  });

  it('PLAIN over TLS: requests queued during the handshake are answered, as the broker principal; it re-authenticates in place', async () => {
    const p = peer(port, { tls: { ca: certs.caCert }, sasl: { mechanism: 'PLAIN', username: 'broker', password: 'broker-secret' } });
    try {
      // Three requests before the connection is even up: they wait for authentication, in order.
      const answers = await Promise.all([metadata(p), metadata(p), metadata(p)]);
      assert.ok(answers.every((r) => r.brokers.length === 1), 'a super user sees the cluster');
      // connections.max.reauth.ms=1000: without re-authentication the broker would close the
      // connection at the first request after 1 s. Requests keep succeeding for 3.5 s (the client
      // re-authenticates at 85% of each session, 150 ms ahead: enough on a loaded machine).
      const until = performance.now() + 3500;
      let served = 0;
      while (performance.now() < until) {
        await metadata(p);
        served++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(served >= 10);
    } finally { p.close(); }
  });

  it('SCRAM-SHA-512 with a bootstrap user: authenticates (the server signature checked)', async () => {
    const p = peer(port, { tls: { ca: certs.caCert }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'broker', password: 'scram-secret' } });
    try {
      assert.equal((await metadata(p)).brokers.length, 1);
    } finally { p.close(); }
  });

  it('a wrong password or an untrusted certificate: the request fails with PeerUnavailableError', async () => {
    const bad = peer(port, { tls: { ca: certs.caCert }, sasl: { mechanism: 'PLAIN', username: 'broker', password: 'wrong' } });
    try { await assert.rejects(metadata(bad), PeerUnavailableError); } finally { bad.close(); }
    const untrusted = peer(port, { tls: {}, sasl: { mechanism: 'PLAIN', username: 'broker', password: 'broker-secret' } });
    try { await assert.rejects(metadata(untrusted), PeerUnavailableError); } finally { untrusted.close(); }
  });

  it('interBrokerSecurity: from inter.broker.listener.name, sasl.mechanism.inter.broker.protocol and the JAAS username/password', async () => {
    const config = async (props: Record<string, string>): Promise<BrokerConfig> => {
      const file = join(certs.dir, 'inter-broker.properties');
      await writeFile(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n'));
      return loadBrokerConfig({ configFile: file, env: {}, overrides: {} });
    };
    const base = {
      listeners: 'INTERNAL://127.0.0.1:9092,EXTERNAL://0.0.0.0:9093',
      'listener.security.protocol.map': 'INTERNAL:SASL_SSL,EXTERNAL:SASL_PLAINTEXT',
      'inter.broker.listener.name': 'INTERNAL',
      'listener.name.internal.ssl.keystore.location': certs.paths.serverPem,
      'listener.name.internal.ssl.truststore.location': certs.paths.ca,
      'listener.name.internal.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="b1" password="s";',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256',
    };
    const s = interBrokerSecurity(await config(base));
    assert.deepEqual(s.sasl, { mechanism: 'SCRAM-SHA-256', username: 'b1', password: 's' });
    assert.equal(s.tls?.ca, certs.caCert);
    assert.equal(s.tls?.checkServerIdentity, undefined, 'host names verified by default (ssl.endpoint.identification.algorithm=https)');
    const noCheck = interBrokerSecurity(await config({ ...base, 'ssl.endpoint.identification.algorithm': '' }));
    assert.equal(typeof noCheck.tls?.checkServerIdentity, 'function');
    const { ['listener.name.internal.scram-sha-256.sasl.jaas.config']: _jaas, ...noJaas } = base;
    await assert.rejects(async () => interBrokerSecurity(await config(noJaas)), /needs username and password/);
    await assert.rejects(async () => interBrokerSecurity(await config({ ...base, 'sasl.enabled.mechanisms': 'PLAIN' })), /not in sasl.enabled.mechanisms/);
    assert.deepEqual(interBrokerSecurity(await config({ listeners: 'PLAINTEXT://127.0.0.1:9092' })), { tls: undefined, sasl: undefined });
  });
});
