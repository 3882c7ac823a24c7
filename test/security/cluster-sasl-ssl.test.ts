/**
 * A 3-broker cluster (child processes) whose only listener is SASL_SSL, the inter-broker listener
 * included: the brokers reach each other over TLS and authenticate with SCRAM-SHA-256 as
 * User:broker (a bootstrap SCRAM user, the only super user besides admin, so the authorizer lets
 * their Raft, registration and forwarding traffic through and nothing anonymous). kafkajs, over
 * TLS + SCRAM, creates a topic with replication factor 3, produces and consumes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../../compat/harness.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { makeCerts, type TestCerts } from './certs.js';
import { DescribeUserScramCredentialsApi } from '../../protocol/generated/index.js';
import type { DescribeUserScramCredentialsResponse } from '../../protocol/generated/describe-user-scram-credentials.js';
import { PeerClient } from '../../src/server/peer-client.js';
import { silentLogger } from '../../src/util/log.js';

const SCRAM_JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="broker-secret";';

describe('a cluster on SASL_SSL only (TLS and SCRAM between brokers)', () => {
  let certs: TestCerts;
  const brokers: BrokerProcess[] = [];
  const dirs: string[] = [];
  let bootstrap: string[] = [];

  before(async () => {
    certs = await makeCerts();
    const file = join(certs.dir, 'server.properties');
    await writeFile(file, Object.entries({
      listeners: 'SASL_SSL://127.0.0.1:0',
      'inter.broker.listener.name': 'SASL_SSL',
      'ssl.keystore.location': certs.paths.serverPem,
      'ssl.truststore.location': certs.paths.ca,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256',
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': SCRAM_JAAS,
      'raftka.bootstrap.scram.users': 'SCRAM-SHA-256=[name=broker,password=broker-secret];SCRAM-SHA-256=[name=admin,password=admin-secret]',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:broker;User:admin',
      'offsets.topic.num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
    }).map(([k, v]) => `${k}=${v}`).join('\n'));
    const ports = await Promise.all([1, 2, 3].map(() => freePort()));
    const list = ports.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(',');
    bootstrap = ports.map((p) => `127.0.0.1:${p}`);
    for (let i = 0; i < 3; i++) dirs.push(await makeDataDir(`raftka-saslssl-${i + 1}-`));
    const started = await Promise.allSettled([0, 1, 2].map((i) => startBroker({
      dataDir: dirs[i]!, nodeId: i + 1, port: ports[i]!, args: ['--bootstrap', list, '--config', file],
    })));
    for (const s of started) if (s.status === 'fulfilled') brokers.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.kill()));
    await Promise.all(dirs.map((d) => removeDataDir(d)));
    if (certs !== undefined) await rm(certs.dir, { recursive: true, force: true });
  });

  it('creates a topic with replication factor 3, produces and consumes through kafkajs over SASL_SSL', async () => {
    const kafka = new Kafka({
      clientId: 'sasl-ssl-cluster', brokers: bootstrap, logLevel: logLevel.NOTHING, connectionTimeout: 5000,
      ssl: { ca: certs.caCert }, sasl: { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' },
      retry: { retries: 10, initialRetryTime: 200 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'secure', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
      const md = await admin.fetchTopicMetadata({ topics: ['secure'] });
      assert.deepEqual(md.topics[0]!.partitions.map((p) => p.replicas.length), [3, 3, 3]);
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    } finally { await admin.disconnect(); }

    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: 30 }, (_, i) => `v-${i}`);
    await producer.send({ topic: 'secure', acks: -1, messages: values.map((value, i) => ({ partition: i % 3, value })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'secure-readers', sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen = new Set<string>();
    try {
      await consumer.subscribe({ topic: 'secure', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.run({ eachMessage: async ({ message }) => { seen.add(message.value!.toString()); if (seen.size === values.length) resolve(); } }).catch(reject);
      });
    } finally { await consumer.disconnect(); }
    assert.deepEqual([...seen].sort(), [...values].sort());
  });

  it('the active controller wrote the bootstrap SCRAM users once; every broker describes them (asked as User:broker over TLS + SCRAM)', async () => {
    for (const [i, address] of bootstrap.entries()) {
      const peer = new PeerClient(i + 1, '127.0.0.1', Number(address.split(':')[1]), 'scram-check', {
        requestTimeoutMs: 5000, maxBufferedBytes: 1 << 20, reconnectBackoffMs: 50,
        security: { tls: { ca: certs.caCert }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'broker', password: 'broker-secret' } },
      }, silentLogger);
      try {
        const deadline = performance.now() + 10_000;
        let users: string[] = [];
        while (performance.now() < deadline) {
          const r = await peer.request(DescribeUserScramCredentialsApi, 0, { users: null }) as DescribeUserScramCredentialsResponse;
          users = r.results.map((u) => `${u.user}:${u.credentialInfos.map((c) => c.mechanism).join(',')}`).sort();
          if (users.length === 2) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.deepEqual(users, ['admin:1', 'broker:1'], `broker ${i + 1}`);
      } finally { peer.close(); }
    }
  });
});
