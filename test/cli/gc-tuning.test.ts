// raftka.heap.growing.percent: parsed like any broker setting, applied as V8's
// --heap-growing-percent (0 leaves V8's heuristic), refused out of range.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBrokerConfig } from '../../src/config.js';
import { applyHeapGrowingPercent } from '../../src/util/gc-tuning.js';

describe('raftka.heap.growing.percent', () => {
  it('defaults to 300 (a factor of 4) and is read from the environment like any setting', () => {
    assert.equal(loadBrokerConfig({ env: {} }).heapGrowingPercent, 300);
    assert.equal(loadBrokerConfig({ env: { RAFTKA_RAFTKA_HEAP_GROWING_PERCENT: '0' } }).heapGrowingPercent, 0);
    assert.throws(() => loadBrokerConfig({ env: { RAFTKA_RAFTKA_HEAP_GROWING_PERCENT: 'lots' } }), /raftka\.heap\.growing\.percent must be an integer/);
  });

  it('sets the V8 flag, nothing at 0, and refuses values out of range', () => {
    const set: string[] = [];
    applyHeapGrowingPercent(300, (f) => set.push(f));
    applyHeapGrowingPercent(0, (f) => set.push(f));
    assert.deepEqual(set, ['--heap-growing-percent=300']);
    for (const bad of [-1, 1.5, 1001]) assert.throws(() => applyHeapGrowingPercent(bad, () => assert.fail('set')), /from 0 to 1000/);
  });
});
