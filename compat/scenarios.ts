import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './harness.js';
import { assertPreferredLeaders, assertSameRecords, CODEC_ID, makeRecords, storedCodecs, type Codec } from './records.js';
import type { ClientDriver } from './clients/types.js';
import { kafkajsDriver } from './clients/kafkajs.js';
import { platformaticDriver } from './clients/platformatic.js';
import { kcatDriver } from './clients/kcat.js';
import { confluentDriver, kafkaPythonDriver } from './clients/python.js';

export const PARTITIONS = 3;
/** Records of scenario 2 (the number). */
export const SCENARIO_2_RECORDS = 10_000;
/** Records per codec in scenario 3. */
export const SCENARIO_3_RECORDS = 2_000;

export const DRIVERS = { kafkajs: kafkajsDriver, platformatic: platformaticDriver, kcat: kcatDriver, kafkaPython: kafkaPythonDriver, confluent: confluentDriver };

/**
 * Who reads what a client compressed in scenario 3: always another client, chosen so that every
 * client that can read compressed batches reads some other client's.
 */
export function crossConsumer(producer: ClientDriver, codec: Codec): ClientDriver {
  const order: ClientDriver[] = {
    kafkajs: [kafkaPythonDriver, kcatDriver],
    '@platformatic/kafka': [kcatDriver, kafkaPythonDriver],
    kcat: [confluentDriver, kafkaPythonDriver],
    'kafka-python': [kcatDriver, confluentDriver],
    'confluent-kafka': [kafkajsDriver, kafkaPythonDriver],
  }[producer.name] ?? [kcatDriver];
  const c = order.find((d) => d.codecs.includes(codec));
  if (c === undefined) throw new Error(`no consumer for ${producer.name} ${codec}`);
  return c;
}

export interface ClientSuiteOptions {
  /** Known broker gaps: scenario key -> reason; those tests run as node:test todo (reported, not failing CI). */
  todo?: Partial<Record<'s1' | 's2' | 's2-consume' | `s3-${Codec}`, string>>;
}

/** Wraps a step so that any failure names the client and scenario (and shows the broker's last log lines). */
async function step<T>(label: string, cluster: Cluster, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    e.message = `[${label}] ${e.message}\n${cluster.logs()}`;
    throw e;
  }
}

/**
 * Runs an assertion about data read right after produce acknowledgements; when it fails, reads
 * again 2 s later and adds what that read saw, telling "visible late" apart from "lost".
 */
async function withLateReadNote(check: () => void, reread: () => Promise<string>): Promise<void> {
  try {
    check();
  } catch (err) {
    await new Promise((r) => setTimeout(r, 2000));
    const later = await reread().catch((x: unknown) => `failed: ${String(x)}`);
    throw new Error(`${(err as Error).message}\n(read again 2 s later: ${later})`, { cause: err });
  }
}

/** Scenarios 1-3 of issue 10 for one client, against its own fresh cluster. */
export function clientSuite(driver: ClientDriver, options: ClientSuiteOptions = {}): void {
  const todo = options.todo ?? {};
  const slug = driver.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
  describe(`compat: ${driver.name}`, () => {
    let cluster: Cluster;
    before(async () => {
      await driver.check();
      cluster = await startCluster();
    });
    after(async () => { await cluster?.destroy(); });
    const bootstrap = (): string[] => cluster.bootstrapList;
    const createOrAuto = async (label: string, topic: string): Promise<void> => {
      if (driver.createTopic !== null) await step(`${label} create topic`, cluster, () => driver.createTopic!(bootstrap(), topic, PARTITIONS, cluster.replicationFactor));
      // else: the first produce auto-creates it with num.partitions=3
    };

    it(`scenario 1 (${driver.name}): create a topic (3 partitions) ${driver.createTopic === null ? 'by auto-creation' : 'with the admin API'}, produce to every partition at once with retries disabled, preferred leaders in Metadata`, { todo: todo.s1 }, async () => {
      const label = `${driver.name} scenario 1`;
      const topic = `s1-${slug}`;
      await createOrAuto(label, topic);
      const records = makeRecords(`${slug}-s1`, 3 * PARTITIONS, PARTITIONS, driver.perRecordHeaders);
      await step(`${label} produce right after create`, cluster, () => driver.produce(bootstrap(), topic, records));
      await step(`${label} metadata`, cluster, () => assertPreferredLeaders(label, cluster.brokers[0]!.port, topic, PARTITIONS, cluster.replicationFactor));
      const got = await step(`${label} read back (kafkajs fetch)`, cluster, () => kafkajsDriver.consume(bootstrap(), topic, PARTITIONS, records.length));
      assertSameRecords(label, records, got);
    });

    const s2records = makeRecords(`${slug}-s2`, SCENARIO_2_RECORDS, PARTITIONS, driver.perRecordHeaders);
    const s2topic = `s2-${slug}`;
    let s2produced = false;
    it(`scenario 2 (${driver.name}): ${SCENARIO_2_RECORDS} records with keys and headers produced, all there in per-partition order`, { todo: todo.s2 }, async () => {
      const label = `${driver.name} scenario 2`;
      await createOrAuto(label, s2topic);
      await step(`${label} produce`, cluster, () => driver.produce(bootstrap(), s2topic, s2records));
      s2produced = true;
      // The reference read (kafkajs's fetch path) checks the produce side on its own.
      const got = await step(`${label} reference read`, cluster, () => kafkajsDriver.consume(bootstrap(), s2topic, PARTITIONS, s2records.length));
      await withLateReadNote(() => assertSameRecords(`${label} (reference read right after the acknowledgements)`, s2records, got),
        async () => `${(await kafkajsDriver.consume(bootstrap(), s2topic, PARTITIONS, s2records.length)).length} records`);
    });

    it(`scenario 2 (${driver.name}): the same ${SCENARIO_2_RECORDS} records consumed from the beginning by ${driver.name} itself`, { todo: todo['s2-consume'] }, async () => {
      const label = `${driver.name} scenario 2 consume`;
      if (!s2produced) await step(`${label} produce (kafkajs)`, cluster, () => kafkajsDriver.produce(bootstrap(), s2topic, s2records));
      const got = await step(label, cluster, () => driver.consume(bootstrap(), s2topic, PARTITIONS, s2records.length));
      assertSameRecords(label, s2records, got);
    });

    for (const codec of driver.codecs.filter((c) => c !== 'none')) {
      const reader = crossConsumer(driver, codec);
      it(`scenario 3 (${driver.name}): ${codec} batches produced by ${driver.name}, consumed by ${reader.name}`, { todo: todo[`s3-${codec}`] }, async () => {
        const label = `${driver.name} scenario 3 ${codec} -> ${reader.name}`;
        await reader.check();
        const topic = `s3-${slug}-${codec}`;
        await createOrAuto(label, topic);
        const records = makeRecords(`${slug}-s3-${codec}`, SCENARIO_3_RECORDS, PARTITIONS, driver.perRecordHeaders);
        await step(`${label} produce`, cluster, () => driver.produce(bootstrap(), topic, records, { compression: codec }));
        for (let p = 0; p < PARTITIONS; p++) {
          const codecs = await storedCodecs(cluster.brokers[0]!.port, topic, p);
          await withLateReadNote(
            () => assert.deepEqual([...codecs], [CODEC_ID[codec]], `${label}: batches of partition ${p} (read right after the acknowledgements) carry codecs [${[...codecs].join(',')}], expected ${codec} (${CODEC_ID[codec]})`),
            async () => `codecs [${[...await storedCodecs(cluster.brokers[0]!.port, topic, p)].join(',')}]`);
        }
        const got = await step(`${label} consume`, cluster, () => reader.consume(bootstrap(), topic, PARTITIONS, records.length));
        assertSameRecords(label, records, got);
      });
    }
  });
}
