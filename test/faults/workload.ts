import { Kafka, logLevel, type Admin, type Consumer, type Producer, type RecordMetadata, type ConsumerCommitOffsetsEvent } from 'kafkajs';
import { Random } from '../../src/util/random.js';
import { recordRead, type History, type SendOp } from './history.js';
import { guardKafkajsStopRace } from './kafkajs-stop-race.js';

export interface WorkloadOptions {
  bootstrap: string[];
  topic: string;
  partitions: number;
  /** Producers of each kind (idempotent and plain), all acks=all. */
  idempotentProducers: number;
  plainProducers: number;
  /** Consumers reading everything from the start, each in its own group, committing nothing. */
  readers: number;
  /** Members of the group that commits offsets. */
  groupMembers: number;
  /** Milliseconds between CreateTopics attempts (0: none). */
  topicEveryMs: number;
  random: Random;
  history: History;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function kafka(bootstrap: string[], clientId: string): Kafka {
  return new Kafka({
    clientId, brokers: bootstrap, logLevel: logLevel.NOTHING,
    connectionTimeout: 1000, requestTimeout: 5000,
    retry: { retries: 4, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

export const COMMIT_GROUP = 'faults-committers';

/**
 * Records the commits of a kafkajs COMMIT_OFFSETS event (emitted only after the coordinator
 * answered an OffsetCommit without error) as acknowledged.
 */
export function recordCommits(history: History, member: string, payload: ConsumerCommitOffsetsEvent['payload']): void {
  const time = Date.now();
  for (const t of payload.topics) {
    for (const p of t.partitions) history.commits.push({ group: payload.groupId, member, topic: t.topic, partition: Number(p.partition), offset: BigInt(String(p.offset)), time });
  }
}

/**
 * The partitions of `partitions` that a kafkajs send() result does not acknowledge: no entry for
 * the partition, or an entry with an error code (kafkajs 2.2.4 can resolve a multi-partition
 * send() without one of them across a leader change).
 */
export function unacknowledgedPartitions(result: readonly RecordMetadata[], topic: string, partitions: readonly number[]): number[] {
  return partitions.filter((p) => !result.some((r) => r.topicName === topic && r.partition === p && r.errorCode === 0));
}

/**
 * The clients of the run: acks=all producers (idempotent and not) writing unique values
 * `name:sequence` to explicit partitions, readers consuming from the start, a group that commits
 * offsets, and topic creation. Every outcome goes into the history; nothing here judges it.
 */
export class Workload {
  private stopping = false;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  /** Every client not yet disconnected, so stop() can close the stragglers (kafkajs retries keep the process alive). */
  private readonly clients = new Set<Producer | Consumer | Admin>();
  private readonly inFlight = new Set<SendOp>();
  private readonly ackWaiters: ((op: SendOp) => void)[] = [];
  private topicSeq = 0;

  constructor(private readonly options: WorkloadOptions) {
    // Stopping a kafkajs consumer while its fetchers rebalance spins forever (kafkajs-stop-race.ts).
    guardKafkajsStopRace();
  }

  start(): void {
    const o = this.options;
    for (let i = 0; i < o.idempotentProducers; i++) this.loops.push(this.produceLoop(`idem${i}`, true, o.random.nextU32()));
    for (let i = 0; i < o.plainProducers; i++) this.loops.push(this.produceLoop(`plain${i}`, false, o.random.nextU32()));
    for (let i = 0; i < o.readers; i++) this.loops.push(this.consumeLoop(`reader${i}`, `faults-reader-${i}`, false));
    for (let i = 0; i < o.groupMembers; i++) this.loops.push(this.consumeLoop(`member${i}`, COMMIT_GROUP, true));
    if (o.topicEveryMs > 0) this.loops.push(this.topicLoop());
  }

  /** Resolves with the next acknowledged send (for "kill the leader right after an ack"). */
  nextAck(): Promise<SendOp> { return new Promise((resolve) => this.ackWaiters.push(resolve)); }

  /** Acknowledged records so far. */
  acknowledged(): number { return this.options.history.sends.filter((s) => s.outcome === 'ok').reduce((n, s) => n + s.values.length, 0); }

  /** Stops the loops; sends still unanswered after `graceMs` stay 'pending' (indeterminate). */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    const all = Promise.all(this.loops);
    await Promise.race([all, sleep(graceMs)]);
    await Promise.all([...this.clients].map((c) => this.close(c)));
    await Promise.race([all, sleep(2000)]);
    await Promise.all([...this.clients].map((c) => this.close(c)));
  }

  private track<T extends Producer | Consumer | Admin>(client: T): T {
    this.clients.add(client);
    return client;
  }

  private async close(client: Producer | Consumer | Admin | null): Promise<void> {
    if (client === null) return;
    this.clients.delete(client);
    await client.disconnect().catch(() => undefined);
  }

  private async produceLoop(name: string, idempotent: boolean, seed: number): Promise<void> {
    const o = this.options;
    const random = new Random(seed);
    let seq = 0;
    let producer: Producer | null = null;
    while (!this.stopping) {
      if (producer === null) {
        const p = this.track(kafka(o.bootstrap, name).producer(idempotent
          ? { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1000 } }
          : { allowAutoTopicCreation: false, retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1000 } }));
        try {
          await p.connect();
          producer = p;
        } catch {
          await this.close(p);
          await sleep(300);
          continue;
        }
      }
      const partition = random.int(0, o.partitions - 1);
      const n = random.int(1, 3);
      const values = Array.from({ length: n }, () => `${name}:${seq++}`);
      const op: SendOp = { producer: name, idempotent, topic: o.topic, partition, values, start: Date.now(), end: 0, outcome: 'pending', baseOffset: -1n };
      o.history.sends.push(op);
      this.inFlight.add(op);
      try {
        const res = await producer.send({ topic: o.topic, acks: -1, timeout: 5000, messages: values.map((value) => ({ partition, value })) });
        op.end = Date.now();
        // kafkajs 2.2.4's send() can resolve without a result for a partition whose request failed
        // across a leader change (README "Client caveat"): only a result for the partition, without
        // an error, is an acknowledgement. Anything else is indeterminate, handled as a failure.
        const missing = unacknowledgedPartitions(res, o.topic, [partition]);
        if (missing.length > 0) throw new Error(`send() resolved without an acknowledgement for partition ${missing.join(',')}`);
        const r = res.find((x) => x.topicName === o.topic && x.partition === partition)!;
        op.outcome = 'ok';
        op.baseOffset = r.baseOffset !== undefined ? BigInt(r.baseOffset) : -1n;
        for (const w of this.ackWaiters.splice(0)) w(op);
      } catch (err) {
        op.end = Date.now();
        op.outcome = 'fail';
        op.error = (err as Error).message;
        // After an indeterminate failure an idempotent producer must not go on with the same
        // producer id and sequence (the next batch could be taken for a duplicate of the failed
        // one): start over with a new producer id, as the Java client bumps its epoch.
        const p = producer;
        producer = null;
        await this.close(p);
        await sleep(100);
      } finally {
        this.inFlight.delete(op);
      }
    }
    await this.close(producer);
  }

  private async consumeLoop(name: string, groupId: string, commits: boolean): Promise<void> {
    const o = this.options;
    while (!this.stopping) {
      const consumer = this.track(kafka(o.bootstrap, name).consumer({
        groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000, maxWaitTimeInMs: 200,
        // No restarts by kafkajs itself: a restart it scheduled survives disconnect() and keeps the
        // process alive; this loop makes a fresh consumer after a crash instead.
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: () => Promise.resolve(false) }, allowAutoTopicCreation: false,
      }));
      const crashed = new Promise<void>((resolve) => {
        consumer.on(consumer.events.CRASH, () => resolve());
      });
      // A commit counts only when kafkajs reports that the coordinator accepted it: its
      // commitOffsets() also resolves, without sending anything, once the consumer is stopping
      // (runner.commitOffsets returns when not running), which is no acknowledgement.
      if (commits) consumer.on(consumer.events.COMMIT_OFFSETS, (e) => recordCommits(o.history, name, e.payload));
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: o.topic, fromBeginning: true });
        let sinceCommit = 0;
        await consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            const offset = BigInt(message.offset);
            recordRead(o.history.reads, { consumer: name, topic, partition, offset, value: message.value?.toString() ?? '', time: Date.now() });
            if (commits && ++sinceCommit >= 5) {
              sinceCommit = 0;
              const next = offset + 1n;
              try {
                await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
              } catch { /* not acknowledged: not counted */ }
            }
          },
        });
        while (!this.stopping) {
          const done = await Promise.race([crashed.then(() => true), sleep(500).then(() => false)]);
          if (done) break;
        }
      } catch { /* connect/subscribe failed: retry below */ }
      await this.close(consumer);
      if (!this.stopping) await sleep(500);
    }
  }

  private async topicLoop(): Promise<void> {
    const o = this.options;
    let admin: Admin | null = null;
    while (!this.stopping) {
      await sleep(o.topicEveryMs);
      if (this.stopping) break;
      const topic = `faults-new-${this.topicSeq++}`;
      const start = Date.now();
      try {
        if (admin === null) {
          admin = this.track(kafka(o.bootstrap, 'faults-admin').admin());
          await admin.connect();
        }
        const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3 }], timeout: 5000 });
        o.history.topics.push({ topic, partitions: 2, start, end: Date.now(), ok: created });
      } catch (err) {
        o.history.topics.push({ topic, partitions: 2, start, end: Date.now(), ok: false, error: (err as Error).message });
        await this.close(admin);
        admin = null;
      }
    }
    await this.close(admin);
  }
}
