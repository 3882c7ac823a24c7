/** FrameReader: reassembly at every split point, zero-copy when possible, size checks before allocation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, FrameTooLarge, frameChunks, peekRequestKey } from '../../protocol/frame.js';
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
