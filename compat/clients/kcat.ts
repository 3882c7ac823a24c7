import { existsSync } from 'node:fs';
import type { Codec, ConsumedRecord, TestRecord } from '../records.js';
import { run, tail } from './process.js';
import type { ClientDriver } from './types.js';

export const KCAT = '/usr/bin/kcat';

interface KcatJson {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

async function produceToPartition(bootstrap: string[], topic: string, partition: number, records: TestRecord[], codec: Codec): Promise<void> {
  const headers = records[0]?.headers ?? {};
  const args = [
    '-P', '-b', bootstrap.join(','), '-t', topic, '-p', String(partition), '-K', '\t', '-z', codec,
    '-X', 'request.required.acks=-1', '-X', 'message.send.max.retries=0', '-X', 'linger.ms=5',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]),
  ];
  const input = records.map((r) => `${r.key}\t${r.value}\n`).join('');
  const res = await run(KCAT, args, input);
  if (res.code !== 0 || /Delivery failed|ERROR/i.test(res.stderr)) {
    throw new Error(`kcat produce to ${topic}-${partition} failed (exit ${res.code}):\n${tail(res.stderr)}`);
  }
}

export const kcatDriver: ClientDriver = {
  name: 'kcat',
  source: 'Debian kcat 1.7.1 (librdkafka 2.0.2)',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  perRecordHeaders: false, // kcat -P adds the same -H headers to every record
  async check() {
    if (!existsSync(KCAT)) throw new Error(`kcat not found at ${KCAT}: install the Debian package kcat (apt-get install kcat)`);
  },
  createTopic: null, // kcat has no admin API: topics come from auto-creation (num.partitions=3)

  async produce(bootstrap, topic, records, options = {}) {
    const partitions = [...new Set(records.map((r) => r.partition))];
    for (const r of records) {
      if (JSON.stringify(r.headers) !== JSON.stringify(records[0]!.headers)) throw new Error('kcat can only produce the same headers on every record');
    }
    // One kcat per partition (-p), all at once; each keeps its partition's order.
    await Promise.all(partitions.map((p) => produceToPartition(bootstrap, topic, p, records.filter((r) => r.partition === p), options.compression ?? 'none')));
  },

  async consume(bootstrap, topic, partitions) {
    const out: ConsumedRecord[] = [];
    // Group-less: kcat -C -p N -o beginning -e reads one partition from offset 0 to its end and exits.
    await Promise.all(Array.from({ length: partitions }, async (_, p) => {
      const args = ['-C', '-b', bootstrap.join(','), '-t', topic, '-p', String(p), '-o', 'beginning', '-e', '-J', '-q', '-X', 'check.crcs=true'];
      const res = await run(KCAT, args, '');
      if (res.code !== 0 || /ERROR/i.test(res.stderr)) throw new Error(`kcat consume of ${topic}-${p} failed (exit ${res.code}):\n${tail(res.stderr)}`);
      for (const line of res.stdout.split('\n')) {
        if (line.trim() === '') continue;
        const m = JSON.parse(line) as KcatJson;
        const headers: Record<string, string> = {};
        const h = m.headers ?? [];
        for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]!] = h[i + 1]!;
        out.push({ partition: m.partition, offset: m.offset, key: m.key ?? '', value: m.payload ?? '', headers });
      }
    }));
    return out;
  },
};
