/**
 * Fuzzing the decoders: valid encodings of every message and version (and whole request frames)
 * are mutated with a seeded Random (bit flips, truncation, length fields overwritten with extreme
 * values, inserted and deleted bytes, random garbage) and decoded. Checked for every case:
 *   - nothing but DecodeError escapes;
 *   - the decoder never allocates by a length beyond the bytes that remain: a TrackingReader checks
 *     every array count against the remaining bytes and adds up every array element built, string length (UTF-16 units: at most one per input byte, even for invalid UTF-8) and byte length it hands out, and the total must stay within
 *     the input size (each element, string byte and byte-field byte is backed by an input byte).
 */
import { DecodeError } from '../../protocol/errors.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { apiByKey, decodeRequestHeader, encodeRequestHeader } from '../../protocol/generated/index.js';
import { Random } from '../../src/util/random.js';
import { loadCodecs, sampleStruct, defaultStruct, versionsOf, type Decode } from './schema-support.js';

export class TrackingReader extends Reader {
  constructor(buf: Buffer, offset: number, end: number, readonly budget: { used: number }) {
    super(buf, offset, end);
  }

  private count(n: number): void {
    if (n > 0) this.budget.used += n;
  }

  override sub(size: number): Reader {
    const plain = super.sub(size);
    return new TrackingReader(this.buf, plain.offset, plain.end, this.budget);
  }

  override arrayLength(compact: boolean): number {
    const before = this.remaining();
    const n = super.arrayLength(compact);
    // the count was checked against what remained after the length itself
    if (n > before) throw new Error(`array count ${n} exceeds the ${before} bytes that remained`);
    return n;
  }

  // elements are counted as they are built (a count is only an upper bound until they decode)
  override array<T>(compact: boolean, read: (r: Reader, version: number) => T, version: number): T[] {
    return super.array(compact, (r, v) => { this.count(1); return read(r, v); }, version);
  }

  override nullableArray<T>(compact: boolean, read: (r: Reader, version: number) => T, version: number): T[] | null {
    return super.nullableArray(compact, (r, v) => { this.count(1); return read(r, v); }, version);
  }

  override string(): string { const s = super.string(); this.count(s.length); return s; }
  override nullableString(): string | null { const s = super.nullableString(); if (s) this.count(s.length); return s; }
  override compactString(): string { const s = super.compactString(); this.count(s.length); return s; }
  override compactNullableString(): string | null { const s = super.compactNullableString(); if (s) this.count(s.length); return s; }
  override bytes(): Buffer { const b = super.bytes(); this.count(b.length); return b; }
  override nullableBytes(): Buffer | null { const b = super.nullableBytes(); if (b) this.count(b.length); return b; }
  override compactBytes(): Buffer { const b = super.compactBytes(); this.count(b.length); return b; }
  override compactNullableBytes(): Buffer | null { const b = super.compactNullableBytes(); if (b) this.count(b.length); return b; }
}

export interface Seed {
  name: string;
  bytes: Buffer;
  /** Decodes a whole input the way the server would; throws DecodeError on bad input. */
  decode: (r: Reader) => void;
}

/** A request frame decoded the server's way: key and version, header, body. */
function decodeRequestFrame(r: Reader): void {
  const start = r.offset;
  if (r.remaining() < 8) throw new DecodeError('short frame');
  const apiKey = r.buf.readInt16BE(start);
  const version = r.buf.readInt16BE(start + 2);
  const api = apiByKey(apiKey);
  if (!api || version < api.minVersion || version > api.maxValidVersion) return; // answered as unsupported
  decodeRequestHeader(r, api.requestHeaderVersion(version));
  api.decodeRequest(r, version);
}

export async function buildSeeds(): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const c of await loadCodecs()) {
    for (const v of versionsOf(c.msg)) {
      const dec: Decode = c.decode;
      for (const value of [sampleStruct(c.msg, c.msg.root, v), defaultStruct(c.msg, c.msg.root)]) {
        const w = new Writer();
        c.encode(w, v, value);
        seeds.push({ name: `${c.msg.name} v${v}`, bytes: w.toBuffer(), decode: (r) => void dec(r, v) });
      }
      if (c.msg.kind === 'request') {
        const api = apiByKey(c.msg.apiKey!)!;
        const w = new Writer();
        encodeRequestHeader(w, api.requestHeaderVersion(v), { requestApiKey: api.apiKey, requestApiVersion: v, correlationId: 7, clientId: 'fuzz' });
        api.encodeRequest(w, v, sampleStruct(c.msg, c.msg.root, v));
        seeds.push({ name: `${c.msg.name} v${v} frame`, bytes: w.toBuffer(), decode: decodeRequestFrame });
      }
    }
  }
  return seeds;
}

const EXTREMES = [0x00, 0xff, 0x7f, 0x80, 0xfe, 0x01];

export function mutate(rnd: Random, input: Buffer): Buffer {
  const b = Buffer.from(input);
  switch (rnd.int(0, 6)) {
    case 0: { // bit flips
      const n = rnd.int(1, 8);
      for (let i = 0; i < n && b.length > 0; i++) b[rnd.int(0, b.length - 1)]! ^= 1 << rnd.int(0, 7);
      return b;
    }
    case 1: // truncation
      return b.subarray(0, rnd.int(0, Math.max(0, b.length - 1)));
    case 2: { // a length-like field overwritten with an extreme value (int16, int32 or varint-ish)
      if (b.length === 0) return b;
      const at = rnd.int(0, b.length - 1);
      const width = rnd.pick([1, 2, 4, 5]);
      for (let i = 0; i < width && at + i < b.length; i++) b[at + i] = rnd.pick(EXTREMES);
      return b;
    }
    case 3: { // random bytes inserted
      const at = rnd.int(0, b.length);
      const extra = Buffer.alloc(rnd.int(1, 8));
      for (let i = 0; i < extra.length; i++) extra[i] = rnd.int(0, 255);
      return Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
    }
    case 4: { // bytes deleted
      if (b.length === 0) return b;
      const at = rnd.int(0, b.length - 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + rnd.int(1, 8))]);
    }
    case 5: { // random bytes overwritten
      const n = rnd.int(1, 16);
      for (let i = 0; i < n && b.length > 0; i++) b[rnd.int(0, b.length - 1)] = rnd.int(0, 255);
      return b;
    }
    default: { // pure garbage of a similar size
      const g = Buffer.alloc(rnd.int(0, Math.max(1, b.length)));
      for (let i = 0; i < g.length; i++) g[i] = rnd.int(0, 255);
      return g;
    }
  }
}

export interface FuzzResult {
  cases: number;
  decodeErrors: number;
  accepted: number;
  maxBudgetRatio: number;
}

/** Runs `cases` mutations; throws (with the seed, message and input hex) on the first violation. */
export function fuzz(seeds: Seed[], cases: number, seed: number): FuzzResult {
  const rnd = new Random(seed);
  const res: FuzzResult = { cases: 0, decodeErrors: 0, accepted: 0, maxBudgetRatio: 0 };
  for (let i = 0; i < cases; i++) {
    const s = seeds[rnd.int(0, seeds.length - 1)]!;
    let input = mutate(rnd, s.bytes);
    if (rnd.bool(0.2)) input = mutate(rnd, input);
    // decode from inside a larger buffer: bounds must come from the reader, not the Buffer
    const padded = Buffer.alloc(input.length + 16, 0x41);
    input.copy(padded, 8);
    const budget = { used: 0 };
    const r = new TrackingReader(padded, 8, 8 + input.length, budget);
    try {
      s.decode(r);
      res.accepted++;
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        throw new Error(`fuzz seed ${seed} case ${i} (${s.name}): ${String(e)}; input ${input.toString('hex')}`, { cause: e });
      }
      res.decodeErrors++;
    }
    if (budget.used > input.length) {
      throw new Error(`fuzz seed ${seed} case ${i} (${s.name}): decoded ${budget.used} units from ${input.length} bytes; input ${input.toString('hex')}`);
    }
    if (input.length > 0) res.maxBudgetRatio = Math.max(res.maxBudgetRatio, budget.used / input.length);
    res.cases++;
  }
  return res;
}
