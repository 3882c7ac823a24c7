import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { CompressionType, RecordsError, compress, decompress } from '../../protocol/records/index.js';
import { xxhash32 } from '../../protocol/records/xxhash32.js';
import { Random } from '../../src/util/random.js';

const CODECS = [CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD] as const;
const req = createRequire(import.meta.url);

function isCorrupt(e: unknown): boolean {
  return e instanceof RecordsError && e.errorName === 'CORRUPT_MESSAGE';
}

function randomBytes(n: number, seed: number): Buffer {
  const rnd = new Random(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rnd.int(0, 255);
  return b;
}

function textBytes(n: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, len = 0; len < n; i++) {
    const s = `{"id":${i},"user":"u${i % 97}","ok":true}`;
    parts.push(s);
    len += s.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

for (const codec of CODECS) {
  test(`codec ${codec} round trips empty, small, text and incompressible data`, () => {
    for (const data of [Buffer.alloc(0), Buffer.from('x'), textBytes(200_000), randomBytes(150_000, codec)]) {
      const c = compress(codec, data);
      assert.deepEqual(decompress(codec, c, data.length), data);
    }
  });

  test(`codec ${codec} enforces the output cap (a 16 MiB bomb against a 1 MiB limit)`, () => {
    const data = Buffer.alloc(16 * 1024 * 1024);
    const bomb = compress(codec, data);
    assert.ok(bomb.length < 1024 * 1024, `bomb is ${bomb.length} bytes`);
    assert.throws(() => decompress(codec, bomb, 1024 * 1024), isCorrupt);
    const small = compress(codec, textBytes(1000));
    assert.equal(decompress(codec, small, 1000).length, 1000);
    assert.throws(() => decompress(codec, small, 999), isCorrupt);
  });

  test(`codec ${codec} answers CORRUPT_MESSAGE to garbage and truncation`, () => {
    const good = compress(codec, textBytes(100_000));
    for (const bad of [Buffer.alloc(0), randomBytes(64, 7), good.subarray(0, good.length >> 1), good.subarray(0, 5)]) {
      assert.throws(() => decompress(codec, bad, 1 << 20), isCorrupt);
    }
  });
}

test('unknown compression ids are UNSUPPORTED_COMPRESSION_TYPE', () => {
  for (const id of [5, 6, 7]) {
    assert.throws(() => decompress(id, Buffer.alloc(4), 100), (e: unknown) => e instanceof RecordsError && e.errorName === 'UNSUPPORTED_COMPRESSION_TYPE');
  }
});

test('gzip: concatenated members decode as one stream (as Java GZIPInputStream)', () => {
  const a = zlib.gzipSync(Buffer.from('hello '));
  const b = zlib.gzipSync(Buffer.from('world'));
  assert.equal(decompress(CompressionType.GZIP, Buffer.concat([a, b]), 100).toString(), 'hello world');
});

test('snappy: writes the xerial framing Kafka writes, reads xerial and raw snappy', () => {
  const snappy = req('snappy') as { compressSync(b: Buffer): Buffer };
  const data = textBytes(100_000);
  const framed = compress(CompressionType.SNAPPY, data);
  assert.equal(framed.subarray(0, 8).toString('hex'), '82534e4150505900');
  assert.equal(framed.readInt32BE(8), 1);
  assert.equal(framed.readInt32BE(12), 1);
  assert.ok(framed.readInt32BE(16) > 0 && framed.readInt32BE(16) < 32 * 1024);
  // raw snappy, as librdkafka writes it
  assert.deepEqual(decompress(CompressionType.SNAPPY, snappy.compressSync(data), data.length), data);
  // two xerial streams back to back (snappy-java reads through the second header)
  const twice = Buffer.concat([framed, framed]);
  assert.deepEqual(decompress(CompressionType.SNAPPY, twice, 2 * data.length), Buffer.concat([data, data]));
  // a chunk length beyond the input
  const bad = Buffer.from(framed);
  bad.writeInt32BE(0x7fffffff, 16);
  assert.throws(() => decompress(CompressionType.SNAPPY, bad, 1 << 20), isCorrupt);
});

test('lz4: writes Kafka frame header (FLG 0x60, BD 0x40, correct HC) and stores incompressible blocks raw', () => {
  const framed = compress(CompressionType.LZ4, randomBytes(70_000, 1));
  assert.equal(framed.readUInt32LE(0), 0x184d2204);
  assert.equal(framed[4], 0x60);
  assert.equal(framed[5], 0x40);
  assert.equal(framed[6], (xxhash32(framed, 4, 6) >>> 8) & 0xff);
  assert.equal(framed.readUInt32LE(7), (0x80000000 | 65536) >>> 0);
  assert.equal(framed.readUInt32LE(framed.length - 4), 0);
});

test('lz4: reads frames with block checksums, content checksum and content size (lz4_flex encoder)', () => {
  const lz4 = req('lz4-napi') as { compressFrameSync(d: Buffer, o?: { contentChecksum?: boolean; blockChecksums?: boolean }): Buffer };
  const data = textBytes(300_000);
  for (const opts of [{}, { blockChecksums: true }, { contentChecksum: true }, { blockChecksums: true, contentChecksum: true }]) {
    const f = lz4.compressFrameSync(data, opts);
    assert.deepEqual(decompress(CompressionType.LZ4, f, data.length), data, JSON.stringify(opts));
  }
  // Content size present (FLG bit 3): 8 bytes after BD, covered by the descriptor checksum.
  const plain = compress(CompressionType.LZ4, data);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(data.length));
  const sized = Buffer.concat([plain.subarray(0, 6), size, Buffer.alloc(1), plain.subarray(7)]);
  sized[4] = 0x68;
  sized[14] = (xxhash32(sized, 4, 14) >>> 8) & 0xff;
  assert.deepEqual(decompress(CompressionType.LZ4, sized, data.length), data);
  const withSums = lz4.compressFrameSync(data, { blockChecksums: true, contentChecksum: true });
  const broken = Buffer.from(withSums);
  broken[broken.length - 1]! ^= 0xff; // content checksum
  assert.throws(() => decompress(CompressionType.LZ4, broken, data.length), isCorrupt);
  // A frame header whose HC byte is wrong (pre-KIP-57 framing) is refused, as Kafka does for magic 2.
  const badHc = compress(CompressionType.LZ4, data);
  badHc[6]! ^= 0xff;
  assert.throws(() => decompress(CompressionType.LZ4, badHc, data.length), isCorrupt);
  // Dependent blocks (FLG bit 5 clear) are refused.
  const dependent = compress(CompressionType.LZ4, data);
  dependent[4] = 0x40;
  dependent[6] = (xxhash32(dependent, 4, 6) >>> 8) & 0xff;
  assert.throws(() => decompress(CompressionType.LZ4, dependent, data.length), isCorrupt);
});

test('zstd: reads concatenated frames', () => {
  const a = compress(CompressionType.ZSTD, Buffer.from('abc'.repeat(1000)));
  const b = compress(CompressionType.ZSTD, Buffer.from('xyz'.repeat(1000)));
  assert.equal(decompress(CompressionType.ZSTD, Buffer.concat([a, b]), 6000).toString(), 'abc'.repeat(1000) + 'xyz'.repeat(1000));
});
