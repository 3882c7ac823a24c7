import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cJs, crc32cImplementation } from '../../protocol/records/crc32c.js';
import { xxhash32 } from '../../protocol/records/xxhash32.js';
import { Random } from '../../src/util/random.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3720 appendix B.4 (iSCSI CRC32C examples) plus the common "123456789" check value.
const VECTORS: [string, Buffer, number][] = [
  ['32 bytes of zeros', Buffer.alloc(32, 0), 0x8a9136aa],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 incrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 decrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ['iSCSI read command PDU', hex(`01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 00 00 00 00 00 04 00
    00 00 00 14 00 00 00 18 28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`), 0xd9963a56],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['empty', Buffer.alloc(0), 0],
];

test('crc32c uses the native implementation on this platform', () => {
  assert.equal(crc32cImplementation, 'native');
});

for (const [name, input, expected] of VECTORS) {
  test(`crc32c known answer: ${name}`, () => {
    assert.equal(crc32c(input), expected);
    assert.equal(crc32cJs(input), expected);
  });
}

test('crc32c over a sub-range equals crc32c of the slice, native and JS agree (seeded)', () => {
  const rnd = new Random(3720);
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = rnd.int(0, 255);
  for (let i = 0; i < 300; i++) {
    const start = rnd.int(0, 2000);
    const end = rnd.int(start, buf.length);
    const expected = crc32cJs(Buffer.from(buf.subarray(start, end)));
    assert.equal(crc32c(buf, start, end), expected);
    assert.equal(crc32cJs(buf, start, end), expected);
  }
});

test('crc32c rejects a range outside the buffer', () => {
  assert.throws(() => crc32c(Buffer.alloc(4), 0, 5), RangeError);
  assert.throws(() => crc32c(Buffer.alloc(4), 3, 2), RangeError);
});

test('xxhash32 known answers (as the LZ4 frame format uses it)', () => {
  assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
  assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  // librdkafka's LZ4 frame descriptor FLG=0x60 BD=0x40 carries checksum byte 0x82.
  assert.equal((xxhash32(Buffer.from([0x60, 0x40])) >>> 8) & 0xff, 0x82);
});
