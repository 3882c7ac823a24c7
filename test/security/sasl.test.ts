import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { ApiKey } from '../../protocol/generated/index.js';
import type { SaslHandshakeResponse } from '../../protocol/generated/sasl-handshake.js';
import type { SaslAuthenticateResponse } from '../../protocol/generated/sasl-authenticate.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { ApiVersionsResponse } from '../../protocol/generated/api-versions.js';
import type { AlterUserScramCredentialsResponse } from '../../protocol/generated/alter-user-scram-credentials.js';
import type { DescribeUserScramCredentialsResponse } from '../../protocol/generated/describe-user-scram-credentials.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { SCRAM_SHA_512, saltedPassword } from '../../src/security/scram.js';
import { call, FrameSocket, startSecureBroker, unsecuredJwt, type TestBroker } from './helpers.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

function client(port: number, sasl: SASLOptions | undefined): Kafka {
  return new Kafka({ clientId: 'sec-test', brokers: [`127.0.0.1:${port}`], sasl, retry: { retries: 0 }, logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
}

async function listTopics(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

describe('SASL listeners', () => {
  let b: TestBroker;
  let sasl: number;
  let plain: number;
  before(async () => {
    b = await startSecureBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'raftka.bootstrap.scram.users': 'SCRAM-SHA-256=[name=scram256,password=s256-secret];SCRAM-SHA-512=[name=scram512,password=s512-secret,iterations=8192]',
    });
    sasl = b.port('SASL_PLAINTEXT');
    plain = b.port('PLAINTEXT');
  });
  after(async () => { await b.close(); });

  it('PLAIN: kafkajs authenticates with a JAAS user, and a wrong password fails', async () => {
    const kafka = client(sasl, { mechanism: 'plain', username: 'alice', password: 'alice-secret' });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: 'sasl-plain', messages: [{ value: 'hello' }] });
    await producer.disconnect();
    assert.ok((await listTopics(kafka)).includes('sasl-plain'));
    await assert.rejects(listTopics(client(sasl, { mechanism: 'plain', username: 'alice', password: 'wrong' })), /SASL|authentication/i);
    await assert.rejects(listTopics(client(sasl, { mechanism: 'plain', username: 'mallory', password: 'alice-secret' })), /SASL|authentication/i);
  });

  it('SCRAM-SHA-256 and SCRAM-SHA-512: the bootstrap users authenticate, bad passwords fail', async () => {
    await listTopics(client(sasl, { mechanism: 'scram-sha-256', username: 'scram256', password: 's256-secret' }));
    await listTopics(client(sasl, { mechanism: 'scram-sha-512', username: 'scram512', password: 's512-secret' }));
    await assert.rejects(listTopics(client(sasl, { mechanism: 'scram-sha-256', username: 'scram256', password: 'nope' })), /SASL|authentication/i);
    // A credential exists for SHA-256 only: SHA-512 fails.
    await assert.rejects(listTopics(client(sasl, { mechanism: 'scram-sha-512', username: 'scram256', password: 's256-secret' })), /SASL|authentication/i);
  });

  it('a SCRAM user created with AlterUserScramCredentials can then authenticate; Describe shows mechanisms and iterations', async () => {
    const s = await FrameSocket.connect(plain);
    try {
      const salt = randomBytes(24);
      const res = await call<AlterUserScramCredentialsResponse>(s, ApiKey.AlterUserScramCredentials, 0, {
        deletions: [{ name: 'nobody', mechanism: 1 }],
        upsertions: [
          { name: 'carol', mechanism: 2, iterations: 4096, salt, saltedPassword: saltedPassword(SCRAM_SHA_512, 'carol-secret', salt, 4096) },
          { name: 'dave', mechanism: 1, iterations: 100, salt, saltedPassword: Buffer.from('x') },
        ],
      });
      const byUser = new Map(res.results.map((r) => [r.user, r.errorCode]));
      assert.equal(byUser.get('carol'), ErrorCode.NONE);
      assert.equal(byUser.get('nobody'), 91); // RESOURCE_NOT_FOUND
      assert.equal(byUser.get('dave'), 93); // UNACCEPTABLE_CREDENTIAL (too few iterations)
      const described = await call<DescribeUserScramCredentialsResponse>(s, ApiKey.DescribeUserScramCredentials, 0, { users: [{ name: 'carol' }, { name: 'dave' }] });
      assert.deepEqual(described.results.map((r) => [r.user, r.errorCode, r.credentialInfos]), [
        ['carol', 0, [{ mechanism: 2, iterations: 4096 }]],
        ['dave', 91, []],
      ]);
    } finally {
      s.close();
    }
    await listTopics(client(sasl, { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' }));
    await assert.rejects(listTopics(client(sasl, { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-wrong' })), /SASL|authentication/i);
  });

  it('OAUTHBEARER: an unsecured JWT authenticates as its sub; an expired one is refused', async () => {
    const token = unsecuredJwt({ sub: 'oauth-user', exp: Math.floor(Date.now() / 1000) + 3600, iat: Math.floor(Date.now() / 1000) });
    await listTopics(client(sasl, { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) }));
    // Raw exchange for the bad token: an error challenge, then SASL_AUTHENTICATION_FAILED and close (RFC 7628, as Kafka).
    const s = await FrameSocket.connect(sasl);
    const hs = await call<SaslHandshakeResponse>(s, ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    assert.equal(hs.errorCode, 0);
    const expired = unsecuredJwt({ sub: 'oauth-user', exp: Math.floor(Date.now() / 1000) - 10 });
    const first = await call<SaslAuthenticateResponse>(s, ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from(`n,,\u0001auth=Bearer ${expired}\u0001\u0001`) });
    assert.equal(first.errorCode, 0);
    assert.match(first.authBytes.toString(), /invalid_token/);
    const second = await call<SaslAuthenticateResponse>(s, ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from('\u0001') });
    assert.equal(second.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    await s.closed;
  });

  it('before authentication only ApiVersions and the SASL APIs are served: Metadata closes the connection unanswered', async () => {
    const s = await FrameSocket.connect(sasl);
    const versions = await call<ApiVersionsResponse>(s, ApiKey.ApiVersions, 0, {});
    assert.equal(versions.errorCode, 0);
    await assert.rejects(call<MetadataResponse>(s, ApiKey.Metadata, 1, { topics: null }), /connection closed/);
    // After a v1 handshake, anything but SaslAuthenticate gets ILLEGAL_SASL_STATE, then the connection closes.
    const t = await FrameSocket.connect(sasl);
    await call<SaslHandshakeResponse>(t, ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    const m = await call<MetadataResponse>(t, ApiKey.Metadata, 1, { topics: null });
    assert.equal(m.brokers.length, 0);
    await t.closed;
    // An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then close.
    const u = await FrameSocket.connect(sasl);
    const hs = await call<SaslHandshakeResponse>(u, ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(hs.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
    await u.closed;
  });

  it('SaslHandshake v0 then raw tokens (kafka-python, old clients): PLAIN, and a bad password closes', async () => {
    const s = await FrameSocket.connect(sasl);
    const hs = await call<SaslHandshakeResponse>(s, ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' });
    assert.equal(hs.errorCode, 0);
    s.writeFrame(Buffer.from('\u0000admin\u0000admin-secret'));
    assert.equal((await s.next()).length, 0); // an empty token: authenticated
    const m = await call<MetadataResponse>(s, ApiKey.Metadata, 1, { topics: null });
    assert.deepEqual(m.brokers.map((x) => x.port), [sasl]); // the SASL listener's own endpoint
    s.close();
    const bad = await FrameSocket.connect(sasl);
    await call<SaslHandshakeResponse>(bad, ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' });
    bad.writeFrame(Buffer.from('\u0000admin\u0000nope'));
    await assert.rejects(bad.next(), /connection closed/);
  });

  it('Metadata answers each listener its own endpoints', async () => {
    const s = await FrameSocket.connect(plain);
    const m = await call<MetadataResponse>(s, ApiKey.Metadata, 1, { topics: null });
    assert.deepEqual(m.brokers.map((x) => x.port), [plain]);
    s.close();
  });
});

describe('SASL re-authentication (KIP-368)', () => {
  let b: TestBroker;
  let sasl: number;
  before(async () => {
    b = await startSecureBroker({
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'connections.max.reauth.ms': '1500',
    }, { bootstrap: [] });
    sasl = b.port('SASL_PLAINTEXT');
  });
  after(async () => { await b.close(); });

  const authenticate = async (s: FrameSocket, user: string, password: string): Promise<SaslAuthenticateResponse> => {
    const hs = await call<SaslHandshakeResponse>(s, ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    assert.equal(hs.errorCode, 0);
    return call<SaslAuthenticateResponse>(s, ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) });
  };

  it('answers the session lifetime, closes an expired session, and keeps a re-authenticated one', async () => {
    const expiring = await FrameSocket.connect(sasl);
    const renewed = await FrameSocket.connect(sasl);
    const a = await authenticate(expiring, 'alice', 'alice-secret');
    assert.equal(a.errorCode, 0);
    assert.equal(a.sessionLifetimeMs, 1500n);
    await authenticate(renewed, 'alice', 'alice-secret');
    assert.equal((await call<MetadataResponse>(expiring, ApiKey.Metadata, 1, { topics: null })).brokers.length, 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await authenticate(renewed, 'alice', 'alice-secret');
    assert.equal(again.errorCode, 0);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await assert.rejects(call<MetadataResponse>(expiring, ApiKey.Metadata, 1, { topics: null }), /connection closed/);
    assert.equal((await call<MetadataResponse>(renewed, ApiKey.Metadata, 1, { topics: null })).brokers.length, 1);
    // Re-authenticating as someone else is refused.
    const other = await authenticate(renewed, 'admin', 'admin-secret');
    assert.equal(other.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    await renewed.closed;
  });

  it('kafkajs re-authenticates on its own before the session expires', async () => {
    const kafka = new Kafka({ clientId: 'reauth', brokers: [`127.0.0.1:${sasl}`], sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' }, logLevel: logLevel.NOTHING, reauthenticationThreshold: 1000 });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let i = 0; i < 4; i++) {
        await admin.listTopics();
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
    } finally {
      await admin.disconnect();
    }
  });
});
