import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { LatencyHistogram } from '../../src/cli/histogram.js';
import { murmur2, partitionForKey } from '../../src/cli/partitioner.js';
import { Random } from '../../src/util/random.js';

const require = createRequire(import.meta.url);
/** kafkajs' own port of Kafka's murmur2 (the Java client's partitioner), as the reference. */
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('LatencyHistogram', () => {
  it('reports percentiles within 1/64 of the exact value (seeded random latencies)', () => {
    const random = new Random(42);
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 20000; i++) {
      // Mostly fast, a long tail: 50 us .. 5 s.
      const v = Math.floor(50 * Math.exp(random.next() * Math.log(100000)));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 95, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      const got = h.percentile(p);
      assert.ok(got >= exact && got <= exact * (1 + 1 / 64) + 1, `p${p}: ${got} vs exact ${exact}`);
    }
    assert.equal(h.count, 20000);
    assert.equal(h.max, values.at(-1));
    assert.equal(h.min, values[0]);
  });

  it('is exact for small values, never reports above the max, and resets', () => {
    const h = new LatencyHistogram();
    for (const v of [1, 2, 3, 4, 100]) h.record(v);
    assert.equal(h.percentile(50), 3);
    assert.equal(h.percentile(100), 100);
    assert.equal(h.mean, 22);
    h.record(1_000_003);
    assert.equal(h.percentile(100), 1_000_003);
    h.reset();
    assert.equal(h.count, 0);
    assert.equal(h.percentile(99), 0);
  });
});

describe('murmur2 partitioner', () => {
  it('agrees with the Java client\'s murmur2 (via kafkajs) on seeded random keys of every length remainder', () => {
    const random = new Random(7);
    for (let i = 0; i < 2000; i++) {
      const key = Buffer.alloc(random.int(0, 40));
      for (let j = 0; j < key.length; j++) key[j] = random.int(0, 255);
      assert.equal(murmur2(key), kafkajsMurmur2(key), `key ${key.toString('hex')}`);
    }
  });

  it('maps keys to partitions as Kafka does (toPositive(murmur2) % n)', () => {
    const key = Buffer.from('user-42');
    assert.equal(partitionForKey(key, 7), (kafkajsMurmur2(key) & 0x7fffffff) % 7);
  });
});
