/** FrameReader: reassembly at every split point, zero-copy when possible, size checks before allocation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EAGER_FRAME_BYTES, FrameReader, FrameTooLarge, frameChunks, peekRequestKey } from '../../protocol/frame.js';
import { DecodeError } from '../../protocol/errors.js';
import { Random } from '../../src/util/random.js';

function framed(body: Buffer): Buffer {
  return Buffer.concat(frameChunks([body]));
}

function drain(fr: FrameReader): Buffer[] {
  const out: Buffer[] = [];
  for (;;) {
    const f = fr.next();
    if (f === null) return out;
    if (f instanceof FrameTooLarge) throw new Error('unexpected FrameTooLarge');
    out.push(f);
  }
}

const bodies = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), Buffer.alloc(300, 0xab)];
const stream = Buffer.concat(bodies.map(framed));

test('every single split point of a stream of frames', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const fr = new FrameReader(1024);
    const got: Buffer[] = [];
    fr.push(stream.subarray(0, cut));
    got.push(...drain(fr));
    fr.push(stream.subarray(cut));
    got.push(...drain(fr));
    assert.deepStrictEqual(got, bodies, `cut at ${cut}`);
    assert.equal(fr.bufferedBytes, 0);
  }
});

test('every pair of split points, and byte-by-byte arrival', () => {
  for (let a = 0; a <= 40; a++) {
    for (let b = a; b <= stream.length; b += 7) {
      const fr = new FrameReader(1024);
      const got: Buffer[] = [];
      for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
        fr.push(part);
        got.push(...drain(fr));
      }
      assert.deepStrictEqual(got, bodies, `cuts ${a},${b}`);
    }
  }
  const fr = new FrameReader(1024);
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) {
    fr.push(stream.subarray(i, i + 1));
    got.push(...drain(fr));
  }
  assert.deepStrictEqual(got, bodies);
});

test('random chunking (seeded) of many frames', () => {
  const rnd = new Random(7);
  const many: Buffer[] = [];
  for (let i = 0; i < 500; i++) many.push(Buffer.alloc(rnd.int(0, 3000), i & 0xff));
  const all = Buffer.concat(many.map(framed));
  const fr = new FrameReader(1 << 20);
  const got: Buffer[] = [];
  for (let pos = 0; pos < all.length;) {
    const n = rnd.int(1, 5000);
    fr.push(all.subarray(pos, pos + n));
    pos += n;
    got.push(...drain(fr));
  }
  assert.deepStrictEqual(got, many);
});

test('a frame inside one chunk is returned without copying', () => {
  const fr = new FrameReader(1024);
  const chunk = framed(Buffer.from('zero-copy'));
  fr.push(chunk);
  const f = fr.next() as Buffer;
  assert.equal(f.buffer, chunk.buffer);
  assert.equal(f.toString(), 'zero-copy');
});

test('an oversize frame is rejected from its size prefix alone, before the body arrives', () => {
  const fr = new FrameReader(100);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(104857601);
  fr.push(prefix.subarray(0, 2));
  assert.equal(fr.next(), null);
  fr.push(prefix.subarray(2));
  const r = fr.next();
  assert.ok(r instanceof FrameTooLarge);
  assert.equal(r.size, 104857601);
  assert.equal(r.negative, false);
  fr.push(Buffer.alloc(10));           // the stream is dead: ignored
  assert.ok(fr.next() instanceof FrameTooLarge);
  assert.equal(fr.bufferedBytes, 0);
  // exactly the maximum is fine
  const ok = new FrameReader(5);
  ok.push(framed(Buffer.from('12345')));
  assert.equal((ok.next() as Buffer).toString(), '12345');
});

test('a negative size is rejected', () => {
  const fr = new FrameReader(100);
  fr.push(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2]));
  const r = fr.next();
  assert.ok(r instanceof FrameTooLarge && r.negative && r.size === -2);
});

test('peekRequestKey reads the first 8 bytes of a request', () => {
  assert.deepStrictEqual(peekRequestKey(Buffer.from('0012000300000007ffff', 'hex')), { apiKey: 18, apiVersion: 3, correlationId: 7 });
  assert.throws(() => peekRequestKey(Buffer.from('0012000300', 'hex')), DecodeError);
});

/** Feeds `bytes` as a socket with onread would: each read fills at most `readSize(i)` bytes of readTarget(). */
function readThrough(fr: FrameReader, bytes: Buffer, readSize: (i: number) => number, targets: Buffer[] = []): Buffer[] {
  const got: Buffer[] = [];
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const target = fr.readTarget();
    targets.push(target);
    const n = Math.min(target.length, readSize(i), bytes.length - pos);
    bytes.copy(target, 0, pos, pos + n);
    pos += n;
    fr.wrote(n);
    got.push(...drain(fr));
  }
  return got;
}

test('readTarget/wrote: frames of every size read through a reused scratch buffer and in place', () => {
  const random = new Random(11);
  const sizes = [0, 5, 300, 70_000, 1, 1 << 20, 17, 200_000, 65_536, 3];
  const bodies = sizes.map((n) => { const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i++) b[i] = random.nextU32() & 0xff; return b; });
  const stream = Buffer.concat(bodies.map(framed));
  for (const readSize of [(): number => 1, (): number => 7, (): number => 65_536, (): number => 1 + (random.nextU32() % 100_000), (): number => 1 << 30]) {
    const fr = new FrameReader(4 << 20, 4096);
    const got = readThrough(fr, stream, readSize);
    assert.deepStrictEqual(got, bodies);
    assert.equal(fr.bufferedBytes, 0);
  }
});

test('readTarget/wrote: after its first read a large frame is read in place, not copied', () => {
  const body = Buffer.alloc(1 << 20, 0x5a);
  const fr = new FrameReader(4 << 20, 4096);
  const targets: Buffer[] = [];
  const got = readThrough(fr, Buffer.concat([framed(body), framed(Buffer.from('tail'))]), () => 65_536, targets);
  assert.deepStrictEqual(got, [body, Buffer.from('tail')]);
  // The frame returned is the buffer the later reads landed in (same memory, no copy at the end).
  const inPlace = targets.filter((t) => t.buffer === got[0]!.buffer);
  assert.equal(inPlace.length, Math.ceil((body.length - (4096 - 4)) / 65_536));
  assert.equal(got[0]!.length, body.length);
  // The scratch buffer is one reused buffer.
  const scratch = targets.filter((t) => t.buffer !== got[0]!.buffer);
  assert.ok(scratch.every((t) => t.buffer === scratch[0]!.buffer && t.length === 4096));
});

test('push: an incomplete frame is assembled in its buffer as chunks arrive (chunks not kept)', () => {
  const body = Buffer.alloc(100_000, 1);
  const fr = new FrameReader(1 << 20);
  const all = Buffer.concat([framed(body), framed(Buffer.from('x'))]);
  fr.push(all.subarray(0, 1000));
  assert.equal(fr.next(), null);
  fr.push(all.subarray(1000, 50_000));
  assert.equal(fr.bufferedBytes, 50_000 - 4);
  assert.equal(fr.next(), null);
  fr.push(all.subarray(50_000));
  assert.deepStrictEqual(drain(fr), [body, Buffer.from('x')]);
  assert.equal(fr.bufferedBytes, 0);
});

test('readTarget/wrote: an oversized size still fails before anything is allocated', () => {
  const fr = new FrameReader(1000, 64);
  const t = fr.readTarget();
  t.writeInt32BE(2_000_000, 0);
  fr.wrote(4);
  const f = fr.next();
  assert.ok(f instanceof FrameTooLarge);
  assert.equal(fr.readTarget().length, 64);
});

test('readTarget/wrote: readers of the default size share one scratch buffer, and interleaved reads stay apart', () => {
  const a = new FrameReader(1 << 20), b = new FrameReader(1 << 20);
  const ta = a.readTarget(), tb = b.readTarget();
  assert.equal(ta.buffer, tb.buffer);
  const fa = framed(Buffer.from('from a')), fb = framed(Buffer.from('from b, longer'));
  // a read for a, then one for b into the same memory, then the rest of a
  fa.copy(ta, 0, 0, 5); a.wrote(5);
  const tb2 = b.readTarget(); fb.copy(tb2); b.wrote(fb.length);
  const ta2 = a.readTarget(); fa.copy(ta2, 0, 5); a.wrote(fa.length - 5);
  assert.deepStrictEqual(drain(a), [Buffer.from('from a')]);
  assert.deepStrictEqual(drain(b), [Buffer.from('from b, longer')]);
});

test('a declared size above EAGER_FRAME_BYTES allocates nothing until its bytes are there (then one copy)', () => {
  const size = EAGER_FRAME_BYTES + 1;
  const fr = new FrameReader(EAGER_FRAME_BYTES * 4, 4096);
  const head = Buffer.alloc(4 + 10, 7);
  head.writeInt32BE(size, 0);
  const t = fr.readTarget();
  head.copy(t);
  fr.wrote(head.length);
  assert.equal(fr.next(), null);
  // no frame buffer of the declared size: the next read still lands in the small scratch buffer
  assert.equal(fr.readTarget().length, 4096);
  const rest = Buffer.alloc(size - 10, 9);
  fr.push(rest);
  const frame = fr.next() as Buffer;
  assert.equal(frame.length, size);
  assert.equal(frame[9], 7);
  assert.equal(frame[10], 9);
});
