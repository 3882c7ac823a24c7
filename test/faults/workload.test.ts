import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordMetadata } from 'kafkajs';
import { unacknowledgedPartitions } from './workload.js';

const ok = (partition: number, topicName = 't'): RecordMetadata => ({ topicName, partition, errorCode: 0, baseOffset: '0' });

describe('fault workload: what counts as acknowledged', () => {
  it('a send() result without an entry for a partition leaves that partition unacknowledged (kafkajs 2.2.4 failover drop)', () => {
    assert.deepEqual(unacknowledgedPartitions([ok(0), ok(2)], 't', [0, 1, 2]), [1]);
  });
  it('an entry with an error code, or for another topic, is no acknowledgement', () => {
    assert.deepEqual(unacknowledgedPartitions([{ ...ok(0), errorCode: 6 }, ok(1, 'other')], 't', [0, 1]), [0, 1]);
  });
  it('every partition answered without error: nothing missing', () => {
    assert.deepEqual(unacknowledgedPartitions([ok(1)], 't', [1]), []);
  });
});
