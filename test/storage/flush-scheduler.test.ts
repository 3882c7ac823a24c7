import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlushScheduler } from '../../src/storage/flush-scheduler.js';
import { defaultIo, type StorageIo } from '../../src/storage/io.js';
import { PartitionLog } from '../../src/storage/log.js';
import { makeBatch } from './batches.js';
import { tempDir } from './helpers.js';

/** A base io whose every call waits until the test settles it. */
class ManualIo implements StorageIo {
  readonly calls: { what: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private waiting: { n: number; resolve: () => void }[] = [];
  fdatasync(fd: number): Promise<void> { return this.call(`fd ${fd}`); }
  fsyncDir(dir: string): Promise<void> { return this.call(`dir ${dir}`); }
  /** Resolves once `n` calls were made in total. */
  callsReach(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ n, resolve }));
  }
  whats(from = 0): string[] { return this.calls.slice(from).map((c) => c.what).sort(); }
  private call(what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.calls.push({ what, resolve, reject });
      this.waiting = this.waiting.filter((w) => { if (this.calls.length >= w.n) { w.resolve(); return false; } return true; });
    });
  }
}

/** Tracks whether a promise settled, without awaiting it. */
function track(p: Promise<void>): { settled: () => 'pending' | 'resolved' | 'rejected'; error: () => unknown; done: Promise<void> } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  const done = p.then(() => { state = 'resolved'; }, (e: unknown) => { state = 'rejected'; error = e; });
  return { settled: () => state, error: () => error, done };
}

/** Lets every pending callback of this turn (microtasks and immediates) run. */
function turn(): Promise<void> { return new Promise((resolve) => setImmediate(resolve)); }

describe('FlushScheduler (broker-wide sync rounds)', () => {
  it('issues every file and directory asked for in one turn together, each once, in one round', async () => {
    const io = new ManualIo();
    const s = new FlushScheduler(io);
    const a1 = track(s.fdatasync(3)), a2 = track(s.fdatasync(3)), b = track(s.fdatasync(4)), d = track(s.fsyncDir('/x'));
    await io.callsReach(3);
    assert.deepEqual(io.whats(), ['dir /x', 'fd 3', 'fd 4'], 'fd 3 asked twice is synced once');
    assert.equal(s.stats.rounds, 1);
    io.calls[0]!.resolve();
    await a1.done; await a2.done;
    assert.equal(a1.settled(), 'resolved');
    assert.equal(a2.settled(), 'resolved');
    assert.equal(b.settled(), 'pending', 'fd 4 is answered only when its own sync completed');
    for (const c of io.calls.slice(1)) c.resolve();
    await Promise.all([b.done, d.done]);
    assert.deepEqual({ ...s.stats }, { rounds: 1, fileSyncs: 2, dirSyncs: 1, requests: 4, maxRoundSyncs: 3 });
  });

  it('runs one round at a time: a request made during a round waits for the next round, even for a file the running round syncs', async () => {
    const io = new ManualIo();
    const s = new FlushScheduler(io);
    const first = track(s.fdatasync(3));
    await io.callsReach(1);
    // Round 1 runs (its fdatasync of fd 3 began before these): they must not be answered by it.
    const again = track(s.fdatasync(3));
    const other = track(s.fdatasync(5));
    await turn(); await turn();
    assert.equal(io.calls.length, 1, 'no second round while the first runs');
    io.calls[0]!.resolve();
    await first.done;
    assert.equal(again.settled(), 'pending', 'the sync that began before the request does not cover it');
    await io.callsReach(3);
    assert.deepEqual(io.whats(1), ['fd 3', 'fd 5'], 'the next round syncs everything asked for during the first');
    assert.equal(s.stats.rounds, 2);
    io.calls[1]!.resolve(); io.calls[2]!.resolve();
    await Promise.all([again.done, other.done]);
    assert.equal(again.settled(), 'resolved');
    assert.equal(other.settled(), 'resolved');
    await turn();
    assert.equal(s.busy, false);
  });

  it('the next round starts only when the slowest sync of the running round ended', async () => {
    const io = new ManualIo();
    const s = new FlushScheduler(io);
    const fast = track(s.fdatasync(1));
    const slow = track(s.fdatasync(2));
    await io.callsReach(2);
    const fd1 = io.calls.find((c) => c.what === 'fd 1')!, fd2 = io.calls.find((c) => c.what === 'fd 2')!;
    fd1.resolve();
    await fast.done;
    const later = track(s.fdatasync(1)); // e.g. the fast partition's next append
    await turn(); await turn();
    assert.equal(io.calls.length, 2, 'round 2 waits for round 1\'s slowest sync');
    fd2.resolve();
    await slow.done;
    await io.callsReach(3);
    io.calls[2]!.resolve();
    await later.done;
    assert.equal(later.settled(), 'resolved');
  });

  it('reports a failed sync to every request for that file, never as durable, and keeps serving later rounds', async () => {
    const io = new ManualIo();
    const s = new FlushScheduler(io);
    const a = track(s.fdatasync(7)), b = track(s.fdatasync(7)), ok = track(s.fdatasync(8));
    await io.callsReach(2);
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    io.calls.find((c) => c.what === 'fd 7')!.reject(eio);
    io.calls.find((c) => c.what === 'fd 8')!.resolve();
    await Promise.all([a.done, b.done, ok.done]);
    assert.equal(a.settled(), 'rejected');
    assert.equal(b.settled(), 'rejected');
    assert.equal(a.error(), eio);
    assert.equal(b.error(), eio);
    assert.equal(ok.settled(), 'resolved', 'another file synced fine in the same round');
    const retry = track(s.fdatasync(7));
    await io.callsReach(3);
    io.calls[2]!.resolve();
    await retry.done;
    assert.equal(retry.settled(), 'resolved', 'a later round syncs again (a new request, a new fdatasync)');
  });

  it('rejects the requests of a sync that throws synchronously', async () => {
    const s = new FlushScheduler({ fdatasync: () => { throw new Error('EBADF'); }, fsyncDir: async () => undefined });
    await assert.rejects(s.fdatasync(99), /EBADF/);
    await s.fsyncDir('/tmp');
  });

  it('a log flushing through a failing scheduler is never reported durable, and is once the disk recovers', async () => {
    const t = tempDir('raftka-sched-');
    let fail = false;
    const base: StorageIo = {
      fdatasync: (fd) => (fail ? Promise.reject(new Error('EIO')) : defaultIo.fdatasync(fd)),
      fsyncDir: (dir) => defaultIo.fsyncDir(dir),
    };
    const s = new FlushScheduler(base);
    try {
      const log = await PartitionLog.open(join(t.dir, 'p-0'), {}, undefined, { io: s });
      log.appendAsLeader(makeBatch([{ value: 'a' }]), 1);
      assert.equal(await log.flush(), 1n);
      fail = true;
      log.appendAsLeader(makeBatch([{ value: 'b' }, { value: 'c' }]), 1);
      await assert.rejects(log.flush(), /EIO/);
      assert.equal(log.flushedOffset, 1n, 'the failed flush did not move the durable offset');
      fail = false;
      assert.equal(await log.flush(), 3n);
      await log.close();
    } finally { t.cleanup(); }
  });

  it('partitions sharing a scheduler: their flushes share rounds, directory fsyncs of new segments included, and the data survives a reopen', async () => {
    const t = tempDir('raftka-sched-');
    const counted = { files: 0, dirs: 0 };
    const s = new FlushScheduler({
      fdatasync: (fd) => { counted.files++; return defaultIo.fdatasync(fd); },
      fsyncDir: (dir) => { counted.dirs++; return defaultIo.fsyncDir(dir); },
    });
    try {
      const n = 8;
      const cfg = { segmentBytes: 400 };
      const logs = await Promise.all(Array.from({ length: n }, (_, p) => PartitionLog.open(join(t.dir, `p-${p}`), cfg, undefined, { io: s })));
      let flushes = 0;
      for (let i = 0; i < 20; i++) {
        const round: Promise<bigint>[] = [];
        for (const log of logs) {
          log.appendAsLeader(makeBatch([{ key: `k${i}`, value: 'x'.repeat(100) }]), 1);
          round.push(log.flush());
          flushes++;
        }
        const done = await Promise.all(round);
        for (let p = 0; p < n; p++) assert.equal(done[p], logs[p]!.logEndOffset, 'each flush covers its own append');
      }
      assert.ok(s.stats.rounds < flushes, `${s.stats.rounds} rounds for ${flushes} flushes`);
      assert.ok(logs.every((l) => l.segmentCount > 1), 'the logs rolled');
      assert.ok(s.stats.dirSyncs > 0 && counted.dirs > 0, 'rolls and new partition directories were fsync\'d through the rounds');
      assert.ok(s.stats.maxRoundSyncs >= n, 'one round synced several partitions\' files');
      await Promise.all(logs.map((l) => l.close()));
      for (let p = 0; p < n; p++) {
        const again = await PartitionLog.open(join(t.dir, `p-${p}`), cfg, undefined, { io: s });
        assert.equal(again.logEndOffset, 20n);
        assert.equal(again.openInfo.kind, 'clean');
        assert.ok(readdirSync(join(t.dir, `p-${p}`)).filter((f) => f.endsWith('.log')).length > 1);
        await again.close();
      }
    } finally { t.cleanup(); }
  });
});
