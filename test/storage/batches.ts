import { crc32 } from 'node:zlib';

/** A record for the test batch builder. */
export interface TestRecord { key?: Buffer | string | null; value?: Buffer | string | null; timestamp?: bigint }

function zigzag(n: bigint): bigint { return n >= 0n ? n << 1n : ((-n) << 1n) - 1n; }
function varint(n: bigint | number): Buffer {
  let v = zigzag(BigInt(n));
  const out: number[] = [];
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v > 0n) b |= 0x80; out.push(b); } while (v > 0n);
  return Buffer.from(out);
}
function bytesField(b: Buffer | string | null | undefined): Buffer {
  if (b === null || b === undefined) return varint(-1);
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint(buf.length), buf]);
}

/**
 * An uncompressed RecordBatch v2. The CRC field holds zlib crc32 (not CRC32C) of bytes 21..end,
 * checked by `testVerifyCrc`: a stand-in for protocol/records so storage tests stay independent.
 */
export function makeBatch(records: TestRecord[], opts: { baseOffset?: bigint; epoch?: number; baseTimestamp?: bigint; attributes?: number } = {}): Buffer {
  const baseTs = opts.baseTimestamp ?? records[0]?.timestamp ?? 1_000n;
  let maxTs = baseTs;
  const recs = records.map((r, i) => {
    const ts = r.timestamp ?? baseTs;
    if (ts > maxTs) maxTs = ts;
    const body = Buffer.concat([Buffer.from([0]), varint(ts - baseTs), varint(i), bytesField(r.key), bytesField(r.value), varint(0)]);
    return Buffer.concat([varint(body.length), body]);
  });
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(opts.baseOffset ?? 0n, 0);
  header.writeInt32BE(opts.epoch ?? 0, 12);
  header.writeInt8(2, 16);
  header.writeInt16BE(opts.attributes ?? 0, 21);
  header.writeInt32BE(records.length - 1, 23);
  header.writeBigInt64BE(baseTs, 27);
  header.writeBigInt64BE(maxTs, 35);
  header.writeBigInt64BE(-1n, 43);
  header.writeInt16BE(-1, 51);
  header.writeInt32BE(-1, 53);
  header.writeInt32BE(records.length, 57);
  const batch = Buffer.concat([header, ...recs]);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeUInt32BE(crc32(batch.subarray(21)), 17);
  return batch;
}

/** Matches makeBatch's CRC stand-in. */
export function testVerifyCrc(buf: Buffer, offset: number): boolean {
  const size = 12 + buf.readInt32BE(offset + 8);
  return buf.readUInt32BE(offset + 17) === crc32(buf.subarray(offset + 21, offset + size));
}

/** A batch of `n` records with values `${prefix}-${i}`. */
export function valuesBatch(n: number, prefix = 'v', ts = 1_000n): Buffer {
  return makeBatch(Array.from({ length: n }, (_, i) => ({ value: `${prefix}-${i}`, timestamp: ts })));
}

/** Split a buffer of whole batches into [baseOffset, lastOffset, epoch] triples. */
export function batchesIn(buf: Buffer): { baseOffset: bigint; lastOffset: bigint; epoch: number; size: number }[] {
  const out = [];
  for (let p = 0; p < buf.length;) {
    const size = 12 + buf.readInt32BE(p + 8);
    const base = buf.readBigInt64BE(p);
    out.push({ baseOffset: base, lastOffset: base + BigInt(buf.readInt32BE(p + 23)), epoch: buf.readInt32BE(p + 12), size });
    p += size;
  }
  return out;
}
