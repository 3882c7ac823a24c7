import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClassicGroup, Member, decodeSubscriptionTopics } from '../../src/groups/group.js';
import { javaStringHashCode, offsetsPartitionFor } from '../../src/groups/hash.js';
import { decodeOffsetsRecord, groupMetadataKey, offsetCommitKey, offsetCommitValue } from '../../src/groups/records.js';

const member = (id: string, ...protocols: string[]): Member =>
  new Member(id, null, 'c', '/h', 1000, 1000, 'consumer', protocols.map((name) => ({ name, metadata: Buffer.from(name) })));

describe('classic group state machine', () => {
  it('allows only Kafka\'s transitions', () => {
    const g = new ClassicGroup('g', () => 0);
    assert.throws(() => g.transitionTo('Stable'));
    assert.throws(() => g.transitionTo('CompletingRebalance'));
    g.transitionTo('PreparingRebalance');
    assert.throws(() => g.transitionTo('Stable'));
    g.transitionTo('CompletingRebalance');
    g.transitionTo('Stable');
    g.transitionTo('PreparingRebalance');
    g.transitionTo('Empty');
    g.transitionTo('Dead');
    assert.throws(() => g.transitionTo('Empty'));
  });

  it('moves to CompletingRebalance with members, to Empty without, bumping the generation', () => {
    const g = new ClassicGroup('g', () => 5);
    g.add(member('a', 'range'), () => undefined);
    g.transitionTo('PreparingRebalance');
    g.initNextGeneration();
    assert.deepEqual([g.state, g.generationId, g.protocolName, g.leaderId, g.currentStateTimestamp], ['CompletingRebalance', 1, 'range', 'a', 5]);
    g.transitionTo('PreparingRebalance');
    g.remove('a');
    g.initNextGeneration();
    assert.deepEqual([g.state, g.generationId, g.protocolName, g.leaderId], ['Empty', 2, null, null]);
  });

  it('elects a new leader among rejoined members when the leader leaves', () => {
    const g = new ClassicGroup('g', () => 0);
    g.add(member('a', 'range'), null);
    g.add(member('b', 'range'), () => undefined);
    assert.equal(g.leaderId, 'a');
    g.remove('a');
    assert.equal(g.leaderId, 'b');
  });

  it('supports only protocols every member shares, of the same protocol type', () => {
    const g = new ClassicGroup('g', () => 0);
    g.add(member('a', 'range', 'roundrobin'), null);
    g.add(member('b', 'roundrobin'), null);
    assert.equal(g.selectProtocol(), 'roundrobin');
    assert.equal(g.supportsProtocols('consumer', [{ name: 'roundrobin', metadata: Buffer.alloc(0) }]), true);
    assert.equal(g.supportsProtocols('consumer', [{ name: 'range', metadata: Buffer.alloc(0) }]), false);
    assert.equal(g.supportsProtocols('connect', [{ name: 'roundrobin', metadata: Buffer.alloc(0) }]), false);
  });

  it('reads the topics of a consumer subscription', () => {
    const b = Buffer.from([0, 1, 0, 0, 0, 2, 0, 1, 0x61, 0, 2, 0x62, 0x63, 0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual(decodeSubscriptionTopics(b), ['a', 'bc']);
  });
});

describe('__consumer_offsets layout', () => {
  it('hashes group ids like Java String.hashCode and Kafka partitionFor', () => {
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
    assert.equal(offsetsPartitionFor('my-group', 50), 1906497762 % 50);
  });

  it('writes keys and values in Kafka\'s versions', () => {
    // Key version 1: group, topic, partition; value version 3: offset, leader epoch, metadata, commit timestamp.
    assert.equal(offsetCommitKey('g', 't', 2).toString('hex'), '0001' + '00016' + '7' + '00017' + '4' + '00000002');
    assert.equal(groupMetadataKey('g').toString('hex'), '0002000167');
    const v = offsetCommitValue({ offset: 5n, leaderEpoch: 1, metadata: '', commitTimestamp: 7n, expireTimestamp: -1n });
    assert.equal(v.toString('hex'), '0003' + '0000000000000005' + '00000001' + '0000' + '0000000000000007');
    const r = decodeOffsetsRecord(offsetCommitKey('g', 't', 2), v);
    assert.deepEqual(r, { type: 'offset', group: 'g', topic: 't', partition: 2, value: { offset: 5n, leaderEpoch: 1, metadata: '', commitTimestamp: 7n, expireTimestamp: -1n } });
    assert.deepEqual(decodeOffsetsRecord(groupMetadataKey('g'), null), { type: 'group', group: 'g', value: null });
  });
});
