import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { HardStateStore } from '../../src/storage/hard-state.js';
import { tempDir, countingIo } from './helpers.js';

describe('HardStateStore', () => {
  it('10,000 concurrent set() calls cost a handful of fsyncs and all survive a reopen', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'raft-hard-state');
      const io = countingIo();
      const store = await HardStateStore.open(path, undefined, { io });
      const before = io.syncs;
      const writes: Promise<void>[] = [];
      for (let g = 0; g < 10_000; g++) writes.push(store.set(`topic-${g % 100}-${g}`, { term: g % 7 + 1, votedFor: g % 3 - 1 }));
      await Promise.all(writes);
      const used = io.syncs - before;
      assert.ok(used >= 1 && used <= 3, `expected a handful of fsyncs, got ${used}`);
      await store.close();
      const again = await HardStateStore.open(path);
      assert.deepEqual(again.get('topic-42-142'), { term: 142 % 7 + 1, votedFor: 142 % 3 - 1 });
      assert.equal([...again.groups()].length, 10_000);
      await again.close();
    } finally { t.cleanup(); }
  });

  it('set() arriving while an fsync runs share the next one', async () => {
    const t = tempDir();
    try {
      const io = countingIo();
      const store = await HardStateStore.open(join(t.dir, 'hs'), undefined, { io });
      const before = io.syncs;
      const first = store.set('g', { term: 1, votedFor: 1 });
      await new Promise((r) => setImmediate(r)); // the first write is now in flight
      const later = Array.from({ length: 500 }, (_, i) => store.set(`g${i}`, { term: 2, votedFor: -1 }));
      await Promise.all([first, ...later]);
      assert.equal(io.syncs - before, 2);
      await store.close();
    } finally { t.cleanup(); }
  });

  it('keeps the latest state, deletes, optional fields, and rejects nonsense', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'hs');
      const store = await HardStateStore.open(path);
      await store.set('a', { term: 1, votedFor: 3 });
      await store.set('a', { term: 2, votedFor: -1, commitOffset: '12345678901234567890', config: { voters: [1, 2, 3] } });
      await store.set('b', { term: 5, votedFor: 2 });
      await store.delete('b');
      assert.throws(() => store.set('c', { term: -1, votedFor: 0 }), RangeError);
      assert.throws(() => store.set('c', { term: 1.5, votedFor: 0 }), RangeError);
      await store.close();
      const again = await HardStateStore.open(path);
      assert.deepEqual(again.get('a'), { term: 2, votedFor: -1, commitOffset: '12345678901234567890', config: { voters: [1, 2, 3] } });
      assert.equal(again.get('b'), undefined);
      await again.close();
    } finally { t.cleanup(); }
  });

  it('drops a torn tail and keeps everything before it', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'hs');
      const store = await HardStateStore.open(path);
      await store.set('a', { term: 1, votedFor: 1 });
      await store.set('b', { term: 2, votedFor: 2 });
      await store.close();
      const good = statSync(path).size;
      truncateSync(path, good - 3); // the last record is torn
      appendFileSync(path, Buffer.from([0, 0]));
      const again = await HardStateStore.open(path);
      assert.deepEqual(again.get('a'), { term: 1, votedFor: 1 });
      assert.equal(again.get('b'), undefined);
      await again.set('c', { term: 3, votedFor: 3 });
      await again.close();
      const third = await HardStateStore.open(path);
      assert.deepEqual(third.get('c'), { term: 3, votedFor: 3 });
      await third.close();
    } finally { t.cleanup(); }
  });

  it('compacts the file when it grows far beyond its live content', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'hs');
      const store = await HardStateStore.open(path, undefined, { compactBytes: 4096 });
      for (let term = 1; term <= 150; term++) await store.set('only', { term, votedFor: 1 });
      assert.ok(statSync(path).size < 4096, `file is ${statSync(path).size} bytes`);
      await store.close();
      const again = await HardStateStore.open(path);
      assert.deepEqual(again.get('only'), { term: 150, votedFor: 1 });
      await again.close();
    } finally { t.cleanup(); }
  });
});
