/**
 * CRC32C (Castagnoli), the checksum of RecordBatch v2.
 *
 * Implementation chosen by measurement on this project's machine (1 MiB buffers, see README):
 * `@node-rs/crc32` (SSE4.2/PCLMUL via napi-rs, a prebuilt binary shipped inside an npm
 * package) ran at about 15.8 GB/s, `sse4_crc32`/`fast-crc32c` at 8 GB/s and the pure-JS
 * slicing-by-8 below at 1.9 GB/s. The pure-JS version stays as a fallback for platforms
 * without a prebuilt binary (the batch CRC must always be checkable) and as a cross-check in
 * tests; it is not used when the native module loads.
 */
import { createRequire } from 'node:module';

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

const CASTAGNOLI_REVERSED = 0x82f63b78;

/** 8 tables of 256 entries for slicing-by-8. */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI_REVERSED : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Pure-JS CRC32C over `buf[start, end)` (slicing-by-8). */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = TABLES;
  let c = -1;
  let i = start;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (; i + 8 <= end; i += 8) {
    const a = view.getInt32(i, true) ^ c;
    const b = view.getInt32(i + 4, true);
    c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]!
      ^ t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function loadNative(): NativeCrc | null {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const fn = mod.crc32c;
    // Known answer (RFC 3720 B.4 / "123456789") guards against a broken binary.
    if (typeof fn === 'function' && fn(Buffer.from('123456789')) === 0xe3069283) return fn;
  } catch {
    // fall through to pure JS
  }
  return null;
}

const native = loadNative();

/** Which implementation `crc32c` uses in this process. */
export const crc32cImplementation: 'native' | 'js' = native ? 'native' : 'js';

/** CRC32C of `buf[start, end)` as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (start < 0 || end > buf.length || start > end) throw new RangeError(`crc32c range [${start}, ${end}) outside buffer of ${buf.length}`);
  if (native) return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
  return crc32cJs(buf, start, end);
}
