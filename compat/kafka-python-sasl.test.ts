/**
 * kafka-python (Debian python3-kafka 2.0.2, /usr/bin/python3) against a SASL_PLAINTEXT listener:
 * it sends SaslHandshake v0 and then raw SASL tokens. PLAIN (a JAAS user) and SCRAM-SHA-256 (a
 * bootstrap SCRAM user) each produce and consume; a wrong password fails. Skipped when the module
 * is not installed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startSecureBroker, type TestBroker } from '../test/security/helpers.js';
import { PYTHON, pythonScript } from './clients/python.js';
import { run, tail } from './clients/process.js';
import { makeRecords, type ConsumedRecord } from './records.js';

const SCRIPT = pythonScript('kafka_python_client.py');
const missing = !existsSync(PYTHON) ? `${PYTHON} not found`
  : spawnSync(PYTHON, ['-c', 'import kafka'], { stdio: 'ignore' }).status !== 0 ? `${PYTHON} cannot import kafka (Debian package python3-kafka)` : undefined;

interface Sasl { mechanism: string; username: string; password: string }

async function python(op: string, port: number, topic: string, options: object, input = ''): Promise<string> {
  const res = await run(PYTHON, [SCRIPT, op, `127.0.0.1:${port}`, topic, JSON.stringify(options)], input, 60_000);
  if (res.code !== 0) throw new Error(`kafka-python ${op} failed (exit ${res.code}):\n${tail(res.stderr)}`);
  return res.stdout;
}

describe('compat: kafka-python over SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256)', { skip: missing }, () => {
  let b: TestBroker;
  let port: number;
  before(async () => {
    b = await startSecureBroker({
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
      'raftka.bootstrap.scram.users': 'SCRAM-SHA-256=[name=bob,password=bob-secret]',
    }, { numPartitions: 2 });
    port = b.port('SASL_PLAINTEXT');
  });
  after(async () => { await b?.close(); });

  for (const sasl of [
    { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
    { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'bob-secret' },
  ] satisfies Sasl[]) {
    it(`${sasl.mechanism}: produce then consume every record`, async () => {
      const topic = `py-${sasl.mechanism.toLowerCase()}`;
      const records = makeRecords(topic, 10, 2, true);
      // The topic is auto-created by the producer's first Metadata request (num.partitions=2).
      await python('produce', port, topic, { compression: 'gzip', sasl }, records.map((r) => JSON.stringify(r) + '\n').join(''));
      const consumed = (await python('consume', port, topic, { partitions: 2, expected: records.length, sasl }))
        .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ConsumedRecord);
      assert.deepEqual(consumed.map((r) => r.value).sort(), records.map((r) => r.value).sort());
    });
  }

  it('a wrong SCRAM password fails', async () => {
    await assert.rejects(python('consume', port, 'py-scram-sha-256', { partitions: 1, expected: 1, sasl: { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'nope' } }));
  });
});
