import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { check } from './checker.js';
import { emptyHistory, recordRead, type FinalState, type History, type SendOp } from './history.js';

const send = (producer: string, partition: number, values: string[], outcome: SendOp['outcome'], baseOffset = -1n, idempotent = true): SendOp => ({
  producer, idempotent, topic: 't', partition, values, start: 1, end: 2, outcome, baseOffset,
});

const log = (...entries: (string | null)[]): { offset: bigint; value: string; control: boolean }[] =>
  entries.map((v, i) => ({ offset: BigInt(i), value: v ?? '', control: v === null }));

function final(logs: Record<string, ReturnType<typeof log>>, committed: Record<string, bigint> = {}): FinalState {
  return { logs: new Map(Object.entries(logs)), committed: new Map(Object.entries(committed)), createdTopics: new Map() };
}

function history(sends: SendOp[]): History {
  const h = emptyHistory();
  h.sends.push(...sends);
  return h;
}

describe('the fault checker', () => {
  it('passes a clean history: acked records at their offsets, control records filling offsets, failed sends either way', () => {
    const h = history([send('a', 0, ['a:0', 'a:1'], 'ok', 1n), send('a', 0, ['a:2'], 'fail'), send('b', 0, ['b:0'], 'pending')]);
    const r = check(h, final({ 't-0': log(null, 'a:0', 'a:1', 'b:0') }));
    assert.deepEqual(r.anomalies, []);
    assert.equal(r.counts.acknowledged, 2);
    assert.equal(r.counts.indeterminate, 2);
    assert.equal(r.counts.indeterminateWritten, 1);
    assert.equal(r.counts.controlRecords, 1);
  });

  it('finds lost, duplicated (idempotent only), unexpected records, offset mismatches and gaps', () => {
    const h = history([
      send('a', 0, ['a:0'], 'ok', 0n), send('a', 0, ['a:1'], 'ok', 1n), send('a', 0, ['a:2'], 'ok', 5n),
      send('p', 0, ['p:0'], 'ok', 2n, false),
    ]);
    const finalLogs = final({ 't-0': [
      { offset: 0n, value: 'a:0', control: false }, { offset: 1n, value: 'a:0', control: false },
      { offset: 2n, value: 'p:0', control: false }, { offset: 3n, value: 'p:0', control: false },
      { offset: 5n, value: 'a:2', control: false }, { offset: 6n, value: 'x', control: false },
    ] });
    const r = check(h, finalLogs);
    const kinds = r.anomalies.map((a) => a.kind).sort();
    assert.deepEqual(kinds, ['duplicated', 'gap', 'lost', 'unexpected']);
    assert.equal(r.counts.lost, 1);
    assert.equal(r.counts.duplicated, 1);
    assert.equal(r.counts.duplicatedNonIdempotent, 1);
  });

  it('flags an acknowledged offset that holds another record', () => {
    const r = check(history([send('a', 0, ['a:0'], 'ok', 1n)]), final({ 't-0': log('a:0', 'z') }));
    assert.deepEqual(r.anomalies.map((a) => a.kind).sort(), ['offset-mismatch', 'unexpected']);
  });

  it('flags reads that the final log does not hold at the same offset', () => {
    const h = history([send('a', 0, ['a:0', 'a:1'], 'ok', 0n)]);
    recordRead(h.reads, { consumer: 'c', topic: 't', partition: 0, offset: 0n, value: 'a:0', time: 5 });
    recordRead(h.reads, { consumer: 'd', topic: 't', partition: 0, offset: 0n, value: 'a:0', time: 5 });
    recordRead(h.reads, { consumer: 'c', topic: 't', partition: 0, offset: 1n, value: 'gone', time: 6 });
    const r = check(h, final({ 't-0': log('a:0', 'a:1') }));
    assert.deepEqual(r.anomalies.map((a) => a.kind), ['offset-reused']);
    assert.equal(r.counts.readsVanished, 1);
    assert.equal(r.counts.readsChecked, 3);
    recordRead(h.reads, { consumer: 'd', topic: 't', partition: 0, offset: 0n, value: 'other', time: 7 });
    assert.deepEqual(check(h, final({ 't-0': log('a:0', 'a:1') })).anomalies.map((a) => a.kind), ['offset-reused', 'offset-reused']);
  });

  it('flags committed offsets that went back below an acknowledged commit', () => {
    const h = history([send('a', 0, ['a:0', 'a:1'], 'ok', 0n)]);
    h.commits.push({ group: 'g', member: 'm', topic: 't', partition: 0, offset: 2n, time: 7 });
    assert.deepEqual(check(h, final({ 't-0': log('a:0', 'a:1') }, { 't-0': 2n })).anomalies, []);
    assert.deepEqual(check(h, final({ 't-0': log('a:0', 'a:1') }, { 't-0': 1n })).anomalies.map((a) => a.kind), ['commit-lost']);
  });

  it('requires topics created during the faults to have leaders and take writes, when they exist or were acknowledged', () => {
    const h = history([]);
    h.topics.push({ topic: 'n0', partitions: 2, start: 1, end: 2, ok: true }, { topic: 'n1', partitions: 2, start: 1, end: 2, ok: false });
    const f = final({});
    f.createdTopics.set('n0', { exists: true, leaders: false, usable: false });
    f.createdTopics.set('n1', { exists: false, leaders: false, usable: false });
    const r = check(h, f);
    assert.deepEqual(r.anomalies.map((a) => `${a.kind} ${a.where}`), ['topic-unusable n0']);
  });
});
