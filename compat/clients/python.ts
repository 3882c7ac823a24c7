import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Codec, ConsumedRecord } from '../records.js';
import { run, tail } from './process.js';
import type { ClientDriver } from './types.js';

export const PYTHON = '/usr/bin/python3';
// The scripts stay in the source tree: dist/compat/clients/ -> compat/python/.
export const pythonScript = (name: string): string => fileURLToPath(new URL(`../../../compat/python/${name}`, import.meta.url));

interface PythonClient { name: string; source: string; script: string; module: string; debianPackage: string; codecModules: [Codec, string, string][] }

async function checkPython(c: PythonClient): Promise<void> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install the Debian package python3`);
  const res = await run(PYTHON, ['-c', `import ${c.module}`], '');
  if (res.code !== 0) throw new Error(`${c.name}: ${PYTHON} cannot import ${c.module}: install the Debian package ${c.debianPackage}\n${tail(res.stderr, 3)}`);
  for (const [codec, module, pkg] of c.codecModules) {
    const r = await run(PYTHON, ['-c', `import ${module}`], '');
    if (r.code !== 0) throw new Error(`${c.name} needs ${module} for ${codec}: install the Debian package ${pkg}`);
  }
}

function pythonDriver(c: PythonClient): ClientDriver {
  const call = async (op: string, bootstrap: string[], topic: string, options: object, input = ''): Promise<string> => {
    const res = await run(PYTHON, [c.script, op, bootstrap.join(','), topic, JSON.stringify(options)], input);
    if (res.code !== 0) throw new Error(`${c.name} ${op} ${topic} failed (exit ${res.code}):\n${tail(res.stderr)}`);
    return res.stdout;
  };
  return {
    name: c.name,
    source: c.source,
    codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    perRecordHeaders: true,
    check: () => checkPython(c),
    async createTopic(bootstrap, topic, partitions, replicationFactor) {
      await call('create-topic', bootstrap, topic, { partitions, replication_factor: replicationFactor });
    },
    async produce(bootstrap, topic, records, options = {}) {
      await call('produce', bootstrap, topic, { compression: options.compression ?? 'none' }, records.map((r) => JSON.stringify(r) + '\n').join(''));
    },
    async consume(bootstrap, topic, partitions, expected) {
      const stdout = await call('consume', bootstrap, topic, { partitions, expected });
      return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ConsumedRecord);
    },
  };
}

export const kafkaPythonDriver = pythonDriver({
  name: 'kafka-python', source: 'Debian python3-kafka 2.0.2', script: pythonScript('kafka_python_client.py'), module: 'kafka', debianPackage: 'python3-kafka',
  // kafka-python compresses snappy, lz4 and zstd through optional modules.
  codecModules: [['snappy', 'snappy', 'python3-snappy'], ['lz4', 'lz4.frame', 'python3-lz4'], ['zstd', 'zstandard', 'python3-zstandard']],
});

export const confluentDriver = pythonDriver({
  name: 'confluent-kafka', source: 'Debian python3-confluent-kafka 1.7.0 (librdkafka 2.0.2)', script: pythonScript('confluent_client.py'),
  module: 'confluent_kafka', debianPackage: 'python3-confluent-kafka', codecModules: [],
});
