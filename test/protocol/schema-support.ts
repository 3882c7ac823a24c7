/**
 * Test support: the normalised schema model the generator wrote (protocol/generated/schema-model.json),
 * the generated codec functions looked up by message, default values computed independently of
 * the generator, and fast-check arbitraries that build a valid message for a given version.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Reader, Writer } from '../../protocol/primitives.js';
import { kebabCase, intersect, contains, type FieldSpec, type FieldType, type MessageSpec } from '../../protocol/codegen/schema.js';

// dist*/test/protocol/x.js -> repository root
const root = new URL('../../../', import.meta.url);
export const MODEL = JSON.parse(
  readFileSync(new URL('protocol/generated/schema-model.json', root), 'utf8'),
) as { maxVersion: number; messages: MessageSpec[] };

export type Decode = (r: Reader, version: number) => unknown;
export type Encode = (w: Writer, version: number, m: unknown) => void;
export interface Codec {
  msg: MessageSpec;
  decode: Decode;
  encode: Encode;
}

/** Generated module path (relative to protocol/generated) of a schema. */
export function modulePath(m: MessageSpec): string {
  if (m.kind === 'request' || m.kind === 'response') return kebabCase(m.name.replace(/(Request|Response)$/, ''));
  if (m.kind === 'metadata') return `metadata/${kebabCase(m.name)}`;
  if (m.source.startsWith('messages/')) return kebabCase(m.name);
  return `coordinator/${kebabCase(m.name)}`;
}

export async function loadCodecs(): Promise<Codec[]> {
  const out: Codec[] = [];
  for (const msg of MODEL.messages) {
    const mod = (await import(`../../protocol/generated/${modulePath(msg)}.js`)) as Record<string, unknown>;
    const decode = mod[`decode${msg.name}`];
    const encode = mod[`encode${msg.name}`];
    if (typeof decode !== 'function' || typeof encode !== 'function') throw new Error(`no codec for ${msg.name}`);
    out.push({ msg, decode: decode as Decode, encode: encode as Encode });
  }
  return out;
}

export function versionsOf(msg: MessageSpec): number[] {
  const out: number[] = [];
  for (let v = msg.validVersions.min; v <= msg.validVersions.max; v++) out.push(v);
  return out;
}

export function isFlexible(msg: MessageSpec, version: number): boolean {
  return contains(msg.flexibleVersions, version);
}

/** Whether field f is on the wire in this version (as a regular or a tagged field). */
export function presentIn(msg: MessageSpec, f: FieldSpec, version: number): boolean {
  if (f.tag !== null) return isFlexible(msg, version) && contains(intersect(f.taggedVersions, f.versions), version);
  return contains(f.versions, version);
}

function nullableType(f: FieldSpec): boolean {
  return intersect(f.nullableVersions, f.versions) !== null;
}

/** The schema default of a field, built independently of the generator (README rules). */
export function defaultValue(msg: MessageSpec, f: FieldSpec): unknown {
  const d = f.default;
  if (d === 'null') return null;
  const t = f.type;
  if (t.kind === 'array') return [];
  if (t.kind === 'struct') return defaultStruct(msg, t.struct);
  switch (t.name) {
    case 'int64': return d === '' ? 0n : BigInt(d);
    case 'bool': return d === 'true';
    case 'string': return d;
    case 'uuid': return '00000000-0000-0000-0000-000000000000';
    case 'bytes': return Buffer.alloc(0);
    case 'records': return null;
    default: return d === '' ? 0 : Number(d);
  }
}

export function defaultStruct(msg: MessageSpec, struct: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of msg.structs[struct]!.fields) out[f.prop] = defaultValue(msg, f);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
});
const stringArb = fc.string({ unit: 'grapheme', maxLength: 8 });
const bytesArb = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));

function typeArb(msg: MessageSpec, t: FieldType, version: number, depth: number): fc.Arbitrary<unknown> {
  if (t.kind === 'struct') return structArb(msg, t.struct, version, depth + 1);
  if (t.kind === 'array') return fc.array(typeArb(msg, t.element, version, depth + 1), { maxLength: depth > 3 ? 1 : 3 });
  switch (t.name) {
    case 'int8': return fc.integer({ min: -128, max: 127 });
    case 'int16': return fc.integer({ min: -32768, max: 32767 });
    case 'uint16': return fc.integer({ min: 0, max: 65535 });
    case 'int32': return fc.integer();
    case 'int64': return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64': return fc.double();
    case 'bool': return fc.boolean();
    case 'uuid': return uuidArb;
    case 'string': return stringArb;
    case 'bytes': case 'records': return bytesArb;
  }
}

function fieldArb(msg: MessageSpec, f: FieldSpec, version: number, depth: number): fc.Arbitrary<unknown> {
  if (!presentIn(msg, f, version)) return fc.constant(defaultValue(msg, f));
  const base = typeArb(msg, f.type, version, depth);
  if (contains(f.nullableVersions, version)) return fc.option(base, { nil: null, freq: 4 });
  return base;
}

export function structArb(msg: MessageSpec, struct: string, version: number, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of msg.structs[struct]!.fields) model[f.prop] = fieldArb(msg, f, version, depth);
  return fc.record(model).map((o) => ({ ...o }));
}

export function messageArb(msg: MessageSpec, version: number): fc.Arbitrary<Record<string, unknown>> {
  return structArb(msg, msg.root, version);
}

/** A fixed message with every present field set to a non-default value (exercises every field once). */
export function nonDefaultTypeValue(msg: MessageSpec, t: FieldType, version: number, seed: number): unknown {
  if (t.kind === 'struct') return sampleStruct(msg, t.struct, version, seed + 1);
  if (t.kind === 'array') return [nonDefaultTypeValue(msg, t.element, version, seed + 1)];
  switch (t.name) {
    case 'int64': return BigInt(seed) * 1000000007n + 1n;
    case 'bool': return true;
    case 'uuid': return '0123abcd-0000-4000-8000-00000000000' + (seed % 10);
    case 'string': return `s${seed}é`;
    case 'bytes': case 'records': return Buffer.from([seed & 0xff, 1, 2]);
    case 'float64': return seed + 0.5;
    case 'int8': return (seed % 100) + 1;
    default: return seed + 1;
  }
}

export function sampleStruct(msg: MessageSpec, struct: string, version: number, seed = 1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = seed;
  for (const f of msg.structs[struct]!.fields) {
    out[f.prop] = presentIn(msg, f, version) ? nonDefaultTypeValue(msg, f.type, version, i++) : defaultValue(msg, f);
  }
  return out;
}

export { nullableType };
