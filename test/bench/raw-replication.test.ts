// The raw RF-3 replication baseline of bench:produce: its framing, and that every variant
// completes with every byte on all three replicas of every stream (rawReplication checks the
// files itself and throws otherwise). test/run.mjs skips test/bench/, so `npm test` does not run
// this file; run it with `node --test dist/test/bench/raw-replication.test.js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { cumulativeAcks, frames, u32 } from './raw-replica.js';
import { rawReplication, rawVariants } from './raw-replication.js';

/** Feeds `bytes` to a fake socket's 'data' listeners in chunks of the given sizes (cycled). */
function feed(bytes: Buffer, sizes: number[]): Socket {
  const sock = new EventEmitter();
  setImmediate(() => {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = sizes[i % sizes.length]!;
      sock.emit('data', bytes.subarray(at, at + n));
      at += n;
    }
    sock.emit('done');
  });
  return sock as unknown as Socket;
}

test('frames splits a byte stream into whole length-prefixed frames, whatever the chunk boundaries', async () => {
  const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('hello world'), Buffer.alloc(3, 1)];
  const stream = Buffer.concat(bodies.flatMap((b) => [u32(b.length), b]));
  for (const sizes of [[1], [3], [5, 2], [4096], [stream.length]]) {
    const sock = feed(stream, sizes);
    const got: Buffer[] = [];
    let chunkEnds = 0;
    frames(sock, (f) => got.push(Buffer.from(f)), () => { chunkEnds++; });
    await new Promise((resolve) => (sock as unknown as EventEmitter).once('done', resolve));
    assert.equal(got.length, bodies.length, `chunks of ${sizes.join(',')}`);
    got.forEach((f, i) => {
      assert.equal(f.readUInt32BE(0), bodies[i]!.length);
      assert.deepEqual(f.subarray(4), bodies[i]);
    });
    assert.ok(chunkEnds > 0);
  }
});

test('cumulativeAcks reports the last whole u32 of each chunk, also when one is split', async () => {
  const stream = Buffer.concat([u32(1), u32(2), u32(70_000), u32(70_001)]);
  const sock = feed(stream, [3, 6, 7]);
  const seen: number[] = [];
  cumulativeAcks(sock, (s) => seen.push(s));
  await new Promise((resolve) => (sock as unknown as EventEmitter).once('done', resolve));
  // chunks end after 3, 9 and 16 bytes: nothing whole yet, then 1 and 2 (reported: 2), then the rest
  assert.deepEqual(seen, [2, 70_001]);
});

test('every variant of the benchmark completes with all bytes on all replicas', async () => {
  // 1 MiB per variant (the throttled one at 10 MiB/s takes about 0.1 s), no warm-up.
  for (const v of rawVariants(1024, 1024)) {
    const r = await rawReplication({ ...v.opts, warmupRecords: 64 });
    assert.ok(Number.isFinite(r.mibs) && r.mibs > 0, v.name);
    assert.ok(r.p50 > 0 && r.p50 <= r.p99 && r.p99 <= r.p999, `${v.name}: ${r.p50} ${r.p99} ${r.p999}`);
    assert.ok(r.requests >= 1, v.name);
  }
});

test('requests are shaped like the perf tool\'s: one batch of 16 records of 1 KiB per partition, 2 partitions per request', async () => {
  const r = await rawReplication({ records: 2048, recordSize: 1024, batchSize: 16384, maxInFlight: 5, acks: 'all', fsync: true });
  assert.equal(r.requests, 2048 / 32);
});
