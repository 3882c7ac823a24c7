/**
 * Kafka wire-protocol primitives: a bounds-checked Reader over untrusted bytes and a chunked
 * Writer for responses.
 *
 * Reader rules (the bytes come from the network): every length is checked against the bytes
 * that remain BEFORE anything is allocated or sliced, negative lengths other than -1 (null) are
 * errors, an array count may not exceed the remaining bytes (every element takes at least one
 * byte), and the only exception thrown is DecodeError. Byte fields are returned as subarrays of
 * the input (no copy), so they stay valid only as long as the caller keeps the input unchanged.
 *
 * Writer: small values go into a growing scratch chunk; Buffers of BY_REFERENCE_THRESHOLD bytes
 * or more (record batches, large byte fields) are appended BY REFERENCE and never copied, so a
 * fetch response can be handed to socket.writev() as a chunk list. The caller must not modify a
 * Buffer after writing it until the Writer's output has been sent.
 *
 * int64 is always a bigint (offsets, timestamps and producer ids can pass 2^53).
 * uuid is a lowercase 8-4-4-4-12 hex string; the all-zero uuid means "no id".
 */
import { DecodeError, EncodeError } from './errors.js';

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Buffers of at least this many bytes are appended to a Writer by reference. */
export const BY_REFERENCE_THRESHOLD = 1024;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (!(offset >= 0 && offset <= end && end <= buf.length)) {
      throw new DecodeError(`reader bounds [${offset}, ${end}) outside a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless n more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.offset) {
      throw new DecodeError(`need ${n} bytes at offset ${this.offset}, only ${this.end - this.offset} remain`);
    }
  }

  skip(n: number): void {
    if (n < 0) throw new DecodeError(`negative skip ${n}`);
    this.need(n);
    this.offset += n;
  }

  /** A reader over the next `size` bytes; this reader moves past them. */
  sub(size: number): Reader {
    if (size < 0) throw new DecodeError(`negative size ${size}`);
    this.need(size);
    const r = new Reader(this.buf, this.offset, this.offset + size);
    this.offset += size;
    return r;
  }

  // ---- fixed width ----

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Kafka reads any non-zero byte as true. */
  bool(): boolean {
    return this.uint8() !== 0;
  }

  uuid(): string {
    this.need(16);
    const o = this.offset;
    const b = this.buf;
    this.offset += 16;
    return (
      b.toString('hex', o, o + 4) + '-' + b.toString('hex', o + 4, o + 6) + '-' +
      b.toString('hex', o + 6, o + 8) + '-' + b.toString('hex', o + 8, o + 10) + '-' +
      b.toString('hex', o + 10, o + 16)
    );
  }

  // ---- varints ----

  /** Unsigned LEB128 varint of at most 32 bits (5 bytes). */
  uvarint(): number {
    const b0 = this.uint8();
    if (b0 < 0x80) return b0;
    let result = b0 & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 5; i++) {
      const b = this.uint8();
      if (i === 4 && b > 0x0f) throw new DecodeError('unsigned varint overflows 32 bits');
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new DecodeError('unsigned varint longer than 5 bytes');
  }

  /** Zigzag-encoded signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Unsigned LEB128 varint of at most 64 bits (10 bytes). */
  uvarlong(): bigint {
    // Fast path: up to 7 bytes (49 bits) fit a double exactly.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.uint8();
      result += (b & 0x7f) * mul;
      if (b < 0x80) return BigInt(result);
      mul *= 0x80;
    }
    let big = BigInt(result);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      const b = this.uint8();
      if (i === 9 && b > 0x01) throw new DecodeError('unsigned varlong overflows 64 bits');
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return big;
      shift += 7n;
    }
    throw new DecodeError('unsigned varlong longer than 10 bytes');
  }

  /** Zigzag-encoded signed 64-bit varint. */
  varlong(): bigint {
    const u = this.uvarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  // ---- strings (UTF-8) ----

  private utf8(len: number): string {
    this.need(len);
    const o = this.offset;
    this.offset += len;
    return this.buf.toString('utf8', o, o + len);
  }

  private stringLength(): number {
    const len = this.int16();
    if (len < -1) throw new DecodeError(`invalid string length ${len}`);
    return len;
  }

  private compactLength(): number {
    return this.uvarint() - 1;
  }

  string(): string {
    const len = this.stringLength();
    if (len < 0) throw new DecodeError('null string in a non-nullable field');
    return this.utf8(len);
  }

  nullableString(): string | null {
    const len = this.stringLength();
    return len < 0 ? null : this.utf8(len);
  }

  compactString(): string {
    const len = this.compactLength();
    if (len < 0) throw new DecodeError('null compact string in a non-nullable field');
    return this.utf8(len);
  }

  compactNullableString(): string | null {
    const len = this.compactLength();
    return len < 0 ? null : this.utf8(len);
  }

  // ---- bytes (subarrays of the input, no copy) ----

  private slice(len: number): Buffer {
    this.need(len);
    const o = this.offset;
    this.offset += len;
    return this.buf.subarray(o, o + len);
  }

  private bytesLength(): number {
    const len = this.int32();
    if (len < -1) throw new DecodeError(`invalid bytes length ${len}`);
    return len;
  }

  bytes(): Buffer {
    const len = this.bytesLength();
    if (len < 0) throw new DecodeError('null bytes in a non-nullable field');
    return this.slice(len);
  }

  nullableBytes(): Buffer | null {
    const len = this.bytesLength();
    return len < 0 ? null : this.slice(len);
  }

  compactBytes(): Buffer {
    const len = this.compactLength();
    if (len < 0) throw new DecodeError('null compact bytes in a non-nullable field');
    return this.slice(len);
  }

  compactNullableBytes(): Buffer | null {
    const len = this.compactLength();
    return len < 0 ? null : this.slice(len);
  }

  /** Raw bytes without a length prefix. */
  raw(len: number): Buffer {
    if (len < 0) throw new DecodeError(`negative length ${len}`);
    return this.slice(len);
  }

  // ---- arrays ----

  /**
   * Element count of an array (-1 for null). The count is checked against the remaining bytes
   * before the caller allocates anything: every element takes at least one byte.
   */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) throw new DecodeError(`invalid array length ${n}`);
    if (n > this.end - this.offset) {
      throw new DecodeError(`array of ${n} elements but only ${this.end - this.offset} bytes remain`);
    }
    return n;
  }

  array<T>(compact: boolean, read: (r: Reader, version: number) => T, version: number): T[] {
    const n = this.arrayLength(compact);
    if (n < 0) throw new DecodeError('null array in a non-nullable field');
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this, version));
    return out;
  }

  nullableArray<T>(compact: boolean, read: (r: Reader, version: number) => T, version: number): T[] | null {
    const n = this.arrayLength(compact);
    if (n < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this, version));
    return out;
  }

  // ---- tagged fields (KIP-482) ----

  /** Number of entries in a tagged-field section; each entry takes at least two bytes. */
  taggedFieldCount(): number {
    const n = this.uvarint();
    if (n * 2 > this.end - this.offset) {
      throw new DecodeError(`${n} tagged fields but only ${this.end - this.offset} bytes remain`);
    }
    return n;
  }

  /** Skips a whole tagged-field section (for structs with no known tags). */
  skipTaggedFields(): void {
    for (let n = this.taggedFieldCount(); n > 0; n--) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}

// Element readers and writers for arrays of primitives (no closure allocated per call).
export const readInt8 = (r: Reader): number => r.int8();
export const readInt16 = (r: Reader): number => r.int16();
export const readUint16 = (r: Reader): number => r.uint16();
export const readInt32 = (r: Reader): number => r.int32();
export const readInt64 = (r: Reader): bigint => r.int64();
export const readFloat64 = (r: Reader): number => r.float64();
export const readBool = (r: Reader): boolean => r.bool();
export const readUuid = (r: Reader): string => r.uuid();
export const readString = (r: Reader): string => r.string();
export const readCompactString = (r: Reader): string => r.compactString();
export const readBytes = (r: Reader): Buffer => r.bytes();
export const readCompactBytes = (r: Reader): Buffer => r.compactBytes();

export const writeInt8 = (w: Writer, _v: number, x: number): void => w.int8(x);
export const writeInt16 = (w: Writer, _v: number, x: number): void => w.int16(x);
export const writeUint16 = (w: Writer, _v: number, x: number): void => w.uint16(x);
export const writeInt32 = (w: Writer, _v: number, x: number): void => w.int32(x);
export const writeInt64 = (w: Writer, _v: number, x: bigint): void => w.int64(x);
export const writeFloat64 = (w: Writer, _v: number, x: number): void => w.float64(x);
export const writeBool = (w: Writer, _v: number, x: boolean): void => w.bool(x);
export const writeUuid = (w: Writer, _v: number, x: string): void => w.uuid(x);
export const writeString = (w: Writer, _v: number, x: string): void => w.string(x);
export const writeCompactString = (w: Writer, _v: number, x: string): void => w.compactString(x);
export const writeBytes = (w: Writer, _v: number, x: Buffer): void => w.bytes(x);
export const writeCompactBytes = (w: Writer, _v: number, x: Buffer): void => w.compactBytes(x);

const MIN_CHUNK = 256;
const MAX_CHUNK = 64 * 1024;

export class Writer {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private cur: Buffer;
  private start = 0;
  private pos = 0;
  private nextSize: number;

  constructor(initialCapacity = MIN_CHUNK) {
    this.cur = Buffer.allocUnsafe(initialCapacity);
    this.nextSize = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, initialCapacity * 2));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.flush();
    const size = Math.max(n, this.nextSize);
    this.nextSize = Math.min(MAX_CHUNK, this.nextSize * 2);
    this.cur = Buffer.allocUnsafe(size);
    this.start = this.pos = 0;
  }

  private flush(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.cur.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  /** The output as a list of Buffers (for socket.writev); large Buffers appear by reference. */
  toChunks(): Buffer[] {
    this.flush();
    return this.chunks.slice();
  }

  /** The output as one Buffer (copies at most once). */
  toBuffer(): Buffer {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    return Buffer.concat(this.chunks, this.chunkBytes);
  }

  /** Appends everything written to another Writer (by reference). */
  append(other: Writer): void {
    for (const c of other.toChunks()) this.raw(c);
  }

  // ---- fixed width ----

  int8(v: number): void {
    this.ensure(1);
    this.cur.writeInt8(v, this.pos);
    this.pos += 1;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.cur.writeUInt8(v, this.pos);
    this.pos += 1;
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.cur.writeInt16BE(v, this.pos);
  }

  uint16(v: number): void {
    this.ensure(2);
    this.pos = this.cur.writeUInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.cur.writeInt32BE(v, this.pos);
  }

  uint32(v: number): void {
    this.ensure(4);
    this.pos = this.cur.writeUInt32BE(v, this.pos);
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.pos = this.cur.writeBigInt64BE(v, this.pos);
  }

  float64(v: number): void {
    this.ensure(8);
    this.pos = this.cur.writeDoubleBE(v, this.pos);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.cur[this.pos++] = v ? 1 : 0;
  }

  uuid(v: string): void {
    if (!UUID_RE.test(v)) throw new EncodeError(`not a uuid: ${JSON.stringify(v)}`);
    this.ensure(16);
    const hex = v.slice(0, 8) + v.slice(9, 13) + v.slice(14, 18) + v.slice(19, 23) + v.slice(24);
    this.pos += this.cur.write(hex, this.pos, 16, 'hex');
  }

  // ---- varints ----

  uvarint(v: number): void {
    if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) throw new EncodeError(`uvarint out of range: ${v}`);
    this.ensure(5);
    const b = this.cur;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  uvarlong(v: bigint): void {
    if (v < 0n || v > 0xffffffffffffffffn) throw new EncodeError(`uvarlong out of range: ${v}`);
    this.ensure(10);
    const b = this.cur;
    while (v >= 0x80n) {
      b[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    b[this.pos++] = Number(v);
  }

  varlong(v: bigint): void {
    this.uvarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  // ---- strings (UTF-8) ----

  private utf8(v: string, len: number): void {
    this.ensure(len);
    this.pos += this.cur.write(v, this.pos, len, 'utf8');
  }

  string(v: string): void {
    const len = Buffer.byteLength(v, 'utf8');
    if (len > 0x7fff) throw new EncodeError(`string of ${len} bytes exceeds the int16 length limit`);
    this.int16(len);
    this.utf8(v, len);
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  compactString(v: string): void {
    const len = Buffer.byteLength(v, 'utf8');
    this.uvarint(len + 1);
    this.utf8(v, len);
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  // ---- bytes ----

  /** Raw bytes without a length prefix; large Buffers are kept by reference. */
  raw(buf: Buffer): void {
    if (buf.length >= BY_REFERENCE_THRESHOLD) {
      this.flush();
      this.chunks.push(buf);
      this.chunkBytes += buf.length;
      return;
    }
    this.ensure(buf.length);
    this.pos += buf.copy(this.cur, this.pos);
  }

  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }

  nullableBytes(v: Buffer | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  compactBytes(v: Buffer): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  compactNullableBytes(v: Buffer | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  // ---- arrays ----

  arrayLength(compact: boolean, n: number): void {
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  array<T>(compact: boolean, items: readonly T[], write: (w: Writer, version: number, v: T) => void, version: number): void {
    this.arrayLength(compact, items.length);
    for (const item of items) write(this, version, item);
  }

  nullableArray<T>(
    compact: boolean, items: readonly T[] | null, write: (w: Writer, version: number, v: T) => void, version: number,
  ): void {
    if (items === null) this.arrayLength(compact, -1);
    else this.array(compact, items, write, version);
  }

  // ---- tagged fields ----

  /** Writes one tagged-field entry: tag, size, then the bytes the callback writes. */
  taggedField(tag: number, write: (w: Writer) => void): void {
    const inner = new Writer(64);
    write(inner);
    this.uvarint(tag);
    this.uvarint(inner.length);
    this.append(inner);
  }
}

/** For encoders: a value that is null in a version where the field is not nullable. */
export function nonNull<T>(v: T | null, field: string): T {
  if (v === null) throw new EncodeError(`${field} is null but not nullable in this version`);
  return v;
}

/** Structural equality for decoded values (used to decide whether a tagged field is at its default). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
