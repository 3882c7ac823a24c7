import { Admin, Consumer, ProduceAcks, Producer, stringDeserializers, stringSerializers, type Message } from '@platformatic/kafka';
import type { Codec, ConsumedRecord } from '../records.js';
import { chunks, type ClientDriver } from './types.js';

// zstd needs zlib.zstdCompressSync (Node 22.15+); on Node 20 the client reports it unavailable.
const CODECS: Codec[] = typeof (await import('node:zlib') as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'
  ? ['none', 'gzip', 'snappy', 'lz4', 'zstd'] : ['none', 'gzip', 'snappy', 'lz4'];

const base = (bootstrap: string[]): { clientId: string; bootstrapBrokers: string[]; retries: number } =>
  ({ clientId: 'raftka-compat-platformatic', bootstrapBrokers: bootstrap, retries: 0 });

export const platformaticDriver: ClientDriver = {
  name: '@platformatic/kafka',
  source: 'npm @platformatic/kafka 1.35.0',
  codecs: CODECS,
  perRecordHeaders: true,
  async check() { /* a dev dependency: present whenever npm ci ran */ },

  async createTopic(bootstrap, topic, partitions, replicationFactor) {
    const admin = new Admin(base(bootstrap));
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: replicationFactor });
    } finally {
      await admin.close();
    }
  },

  async produce(bootstrap, topic, records, options = {}) {
    const producer = new Producer({ ...base(bootstrap), serializers: stringSerializers, acks: ProduceAcks.ALL, autocreateTopics: true });
    try {
      for (const batch of chunks(records, 1000)) {
        await producer.send({
          // The Producer's own `acks` option does not reach send() in 1.35 (send defaults to acks=1).
          acks: ProduceAcks.ALL,
          compression: options.compression ?? 'none',
          messages: batch.map((r) => ({ topic, partition: r.partition, key: r.key, value: r.value, headers: r.headers })),
        });
      }
    } finally {
      await producer.close();
    }
  },

  async consume(bootstrap, topic, _partitions, expected) {
    // The client reads only through a consumer group (JoinGroup/SyncGroup) with Fetch v12+.
    const consumer = new Consumer({ ...base(bootstrap), groupId: `raftka-compat-${topic}`, deserializers: stringDeserializers });
    const out: ConsumedRecord[] = [];
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      for await (const m of stream as AsyncIterable<Message<string, string, string, string>>) {
        out.push({ partition: m.partition, offset: Number(m.offset), key: m.key, value: m.value, headers: Object.fromEntries(m.headers) });
        if (out.length >= expected) break;
      }
    } finally {
      await consumer.close(true);
    }
    return out;
  },
};
