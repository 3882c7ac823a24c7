import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { fetchAllWithKafkajs } from '../../test/helpers/kafkajs-fetch.js';
import type { Codec, ConsumedRecord } from '../records.js';
import { chunks, type ClientDriver } from './types.js';

// kafkajs ships gzip only; snappy, lz4 and zstd need third-party codec packages.
const CODECS: Record<string, CompressionTypes> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };

function client(bootstrap: string[]): Kafka {
  return new Kafka({ clientId: 'raftka-compat-kafkajs', brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

const text = (v: Buffer | string | (Buffer | string)[] | null | undefined): string => {
  if (Array.isArray(v)) throw new Error('repeated header');
  return v === null || v === undefined ? '' : v.toString();
};

export const kafkajsDriver: ClientDriver = {
  name: 'kafkajs',
  source: 'npm kafkajs 2.2.4',
  codecs: ['none', 'gzip'] satisfies Codec[],
  perRecordHeaders: true,
  async check() { /* a dev dependency: present whenever npm ci ran */ },

  async createTopic(bootstrap, topic, partitions, replicationFactor) {
    const admin = client(bootstrap).admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }], waitForLeaders: false });
      if (!created) throw new Error(`kafkajs createTopics(${topic}) returned false (topic already existed)`);
    } finally {
      await admin.disconnect();
    }
  },

  async produce(bootstrap, topic, records, options = {}) {
    const compression = CODECS[options.compression ?? 'none'];
    if (compression === undefined) throw new Error(`kafkajs cannot compress with ${options.compression}`);
    const producer = client(bootstrap).producer({ retry: { retries: 0 }, allowAutoTopicCreation: true });
    await producer.connect();
    try {
      for (const batch of chunks(records, 1000)) {
        await producer.send({
          topic, acks: -1, compression,
          messages: batch.map((r) => ({ partition: r.partition, key: r.key, value: r.value, headers: r.headers })),
        });
      }
    } finally {
      await producer.disconnect();
    }
  },

  async consume(bootstrap, topic) {
    // kafkajs has no group-less consumer: read through its own Cluster/Broker fetch path.
    const messages = await fetchAllWithKafkajs(client(bootstrap), topic);
    return messages.map((m): ConsumedRecord => ({
      partition: m.partition, offset: Number(m.offset), key: text(m.key), value: text(m.value),
      headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, text(v)])),
    }));
  },
};
