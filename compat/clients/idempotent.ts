import { spawn } from 'node:child_process';
import { Kafka, logLevel, type Message, type RecordMetadata } from 'kafkajs';
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import type { TestRecord } from '../records.js';
import { PYTHON, pythonScript } from './python.js';
import { tail } from './process.js';
import { chunks } from './types.js';

/**
 * Produces `records` with the client's idempotent producer (acks=all, retries on), in batches of
 * `batch`; calls `progress(delivered)` after every acknowledged batch (the test restarts a broker
 * from there, without waiting for the producer).
 */
export type IdempotentProduce = (bootstrap: string[], topic: string, records: TestRecord[], batch: number, progress: (delivered: number) => void) => Promise<void>;

/**
 * Sends `messages` (each with its partition set) and sends again, until every partition has an
 * answer, the messages of any partition that `send` resolved without: kafkajs 2.2.4's send()
 * does that across a leader failover. Its retry loop keeps answers per broker, so a partition
 * whose request failed (old leader killed, or NOT_LEADER_OR_FOLLOWER) and whose new leader
 * already answered for another partition of the same send() is never sent again; send()
 * resolves without it, having rolled its sequence numbers back, and no broker acknowledged it.
 * Compat scenario 6 lost 16 records of partition 0 that way (with the broker's startup gate).
 * Sending them again through the same producer reuses those sequence numbers, so a copy that
 * did reach a broker is answered as a duplicate: every record once, in order.
 * Returns how many times a partition had to be sent again.
 */
export async function sendEveryPartition(send: (messages: Message[]) => Promise<RecordMetadata[]>, messages: Message[], maxRounds = 5): Promise<number> {
  let pending = messages;
  let resent = 0;
  for (let round = 1; ; round++) {
    const answered = new Set((await send(pending)).filter((m) => m.errorCode === 0).map((m) => m.partition));
    const missing = pending.filter((m) => !answered.has(m.partition!));
    if (missing.length === 0) return resent;
    const partitions = [...new Set(missing.map((m) => m.partition!))];
    if (round >= maxRounds) throw new Error(`send() resolved without an answer for partitions [${partitions.join(', ')}] ${round} times`);
    resent += partitions.length;
    pending = missing;
  }
}

const kafkajsIdempotent: IdempotentProduce = async (bootstrap, topic, records, batch, progress) => {
  const kafka = new Kafka({ clientId: 'raftka-compat-kafkajs-idem', brokers: bootstrap, logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2000 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let delivered = 0;
    for (const part of chunks(records, batch)) {
      await sendEveryPartition((messages) => producer.send({ topic, acks: -1, messages }),
        part.map((r) => ({ partition: r.partition, key: r.key, value: r.value, headers: r.headers })));
      delivered += part.length;
      progress(delivered);
    }
  } finally {
    await producer.disconnect();
  }
};

const platformaticIdempotent: IdempotentProduce = async (bootstrap, topic, records, batch, progress) => {
  const producer = new Producer({ clientId: 'raftka-compat-platformatic-idem', bootstrapBrokers: bootstrap, serializers: stringSerializers,
    idempotent: true, acks: ProduceAcks.ALL, retries: 20, retryDelay: 250 });
  try {
    let delivered = 0;
    for (const part of chunks(records, batch)) {
      await producer.send({ acks: ProduceAcks.ALL, messages: part.map((r) => ({ topic, partition: r.partition, key: r.key, value: r.value, headers: r.headers })) });
      delivered += part.length;
      progress(delivered);
    }
  } finally {
    await producer.close();
  }
};

const confluentIdempotent: IdempotentProduce = (bootstrap, topic, records, batch, progress) => new Promise((resolve, reject) => {
  const child = spawn(PYTHON, [pythonScript('confluent_client.py'), 'produce-idempotent', bootstrap.join(','), topic, JSON.stringify({ batch })], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid;
  const killOnExit = (): void => { if (pid !== undefined) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.once('exit', killOnExit);
  let err = '';
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== '') progress((JSON.parse(line) as { delivered: number }).delivered);
    }
  });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.once('error', (e) => { clearTimeout(timer); reject(e); });
  child.once('close', (code) => {
    clearTimeout(timer);
    process.off('exit', killOnExit);
    if (code === 0) resolve(); else reject(new Error(`confluent-kafka produce-idempotent exited ${code}:\n${tail(err)}`));
  });
  child.stdin.on('error', () => undefined);
  child.stdin.end(records.map((r) => JSON.stringify(r) + '\n').join(''));
});

/** Idempotent producers by client name (kcat and kafka-python 2.0.2 have none). */
export const IDEMPOTENT_PRODUCERS: Record<string, IdempotentProduce> = {
  kafkajs: kafkajsIdempotent,
  '@platformatic/kafka': platformaticIdempotent,
  'confluent-kafka': confluentIdempotent,
};
