import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import type { TestRecord } from '../records.js';
import { KCAT } from './kcat.js';
import { PYTHON, pythonScript } from './python.js';
import { run, tail } from './process.js';

/** One send attempt of the loop: acknowledged (with the offset the client reported) or failed. */
export type Attempt = { record: TestRecord; offset: number } | { record: TestRecord; error: string };

/**
 * Scenario 7's producer: sends `supply` one record at a time with acks=all (each awaited before
 * the next; retries as the client defaults), until `count` are acknowledged or the supply runs
 * out. Calls `progress(acknowledged)` after every acknowledgement (the test kills the partition
 * leader from there, without waiting). Errors are not thrown: they are attempts with `error`.
 */
export type AcksAllLoop = (bootstrap: string[], topic: string, supply: TestRecord[], count: number, progress: (acked: number) => void) => Promise<Attempt[]>;

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const kafkajsLoop: AcksAllLoop = async (bootstrap, topic, supply, count, progress) => {
  // kafkajs's default retry (5 retries, exponential from 300 ms) on the producer.
  const producer = new Kafka({ clientId: 'raftka-compat-kafkajs-loop', brokers: bootstrap, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const attempts: Attempt[] = [];
  let acked = 0;
  try {
    for (const record of supply) {
      if (acked >= count) break;
      try {
        const [md] = await producer.send({ topic, acks: -1, messages: [{ partition: record.partition, key: record.key, value: record.value, headers: record.headers }] });
        attempts.push({ record, offset: Number(md!.baseOffset) });
        progress(++acked);
      } catch (e) {
        attempts.push({ record, error: errorText(e) });
      }
    }
  } finally {
    await producer.disconnect();
  }
  return attempts;
};

const platformaticLoop: AcksAllLoop = async (bootstrap, topic, supply, count, progress) => {
  // The client's default retries (3, 1 s apart).
  const producer = new Producer({ clientId: 'raftka-compat-platformatic-loop', bootstrapBrokers: bootstrap, serializers: stringSerializers, acks: ProduceAcks.ALL });
  const attempts: Attempt[] = [];
  let acked = 0;
  try {
    for (const record of supply) {
      if (acked >= count) break;
      try {
        // acks on every send: the Producer's own option does not reach send() in 1.35.
        const res = await producer.send({ acks: ProduceAcks.ALL, messages: [{ topic, partition: record.partition, key: record.key, value: record.value, headers: record.headers }] });
        const offset = res.offsets?.find((o) => o.topic === topic && o.partition === record.partition)?.offset;
        if (offset === undefined) throw new Error(`send() resolved without an offset for ${topic}-${record.partition}`);
        attempts.push({ record, offset: Number(offset) });
        progress(++acked);
      } catch (e) {
        attempts.push({ record, error: errorText(e) });
      }
    }
  } finally {
    await producer.close();
  }
  return attempts;
};

/**
 * kcat: one process per record, so every record gets its own delivery report. With `-v -v`
 * (verbosity 3) kcat's delivery-report callback prints `Message delivered to partition P
 * (offset O)` for a record the broker acknowledged, and `Delivery failed for message: ...` for
 * one it gave up on (librdkafka's default retries; message.timeout.ms bounds the wait). A record
 * counts as acknowledged only with exit code 0 and that positive line, whose offset the test
 * checks against the read-back.
 */
const kcatLoop: AcksAllLoop = async (bootstrap, topic, supply, count, progress) => {
  const attempts: Attempt[] = [];
  let acked = 0;
  for (const record of supply) {
    if (acked >= count) break;
    const args = ['-P', '-b', bootstrap.join(','), '-t', topic, '-p', String(record.partition), '-K', '\t', '-v', '-v',
      '-X', 'request.required.acks=-1', '-X', 'message.timeout.ms=10000',
      ...Object.entries(record.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`])];
    const res = await run(KCAT, args, `${record.key}\t${record.value}\n`, 30_000);
    const delivered = [...res.stderr.matchAll(/Message delivered to partition (\d+) \(offset (-?\d+)\)/g)];
    if (res.code === 0 && delivered.length === 1 && Number(delivered[0]![1]) === record.partition) {
      attempts.push({ record, offset: Number(delivered[0]![2]) });
      progress(++acked);
    } else {
      attempts.push({ record, error: `exit ${res.code}, ${delivered.length} delivery reports: ${tail(res.stderr, 3).replace(/\n/g, ' | ')}` });
    }
  }
  return attempts;
};

/** The Python clients run the loop in `python/<script> produce-loop`, one JSON line per attempt. */
function pythonLoop(script: string, client: string): AcksAllLoop {
  return (bootstrap, topic, supply, count, progress) => new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [pythonScript(script), 'produce-loop', bootstrap.join(','), topic, JSON.stringify({ count })], { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    const killOnExit = (): void => { if (pid !== undefined) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
    process.once('exit', killOnExit);
    const attempts: Attempt[] = [];
    let acked = 0;
    let err = '';
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim() === '') continue;
        const a = JSON.parse(line) as { i: number; offset?: number; error?: string };
        const record = supply[a.i]!;
        if (a.offset !== undefined) { attempts.push({ record, offset: a.offset }); progress(++acked); } else attempts.push({ record, error: a.error ?? 'unknown' });
      }
    });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      if (code === 0) resolve(attempts); else reject(new Error(`${client} produce-loop exited ${code} after ${attempts.length} attempts:\n${tail(err)}`));
    });
    child.stdin.on('error', () => undefined); // it stops reading after `count` acknowledgements
    child.stdin.end(supply.map((r) => JSON.stringify(r) + '\n').join(''));
  });
}

/** Scenario 7's acks=all producers by client name (every client of the suite has one). */
export const ACKS_ALL_LOOPS: Record<string, AcksAllLoop> = {
  kafkajs: kafkajsLoop,
  '@platformatic/kafka': platformaticLoop,
  kcat: kcatLoop,
  'kafka-python': pythonLoop('kafka_python_client.py', 'kafka-python'),
  'confluent-kafka': pythonLoop('confluent_client.py', 'confluent-kafka'),
};
