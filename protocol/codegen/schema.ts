/**
 * Reads Apache Kafka's JSON message schemas (with // comments) into a normalised model that the
 * emitter and the tests share. See ../shared/kafka-protocol/README.md for the format.
 */
import { readFileSync } from 'node:fs';

/** Inclusive version range; `max` is MAX_VERSION for open ranges ("3+"). */
export interface Range {
  min: number;
  max: number;
}
export const MAX_VERSION = 0x7fff;

export type PrimitiveName =
  | 'int8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'float64' | 'bool' | 'uuid' | 'string' | 'bytes' | 'records';

export type FieldType =
  | { kind: 'primitive'; name: PrimitiveName }
  | { kind: 'struct'; struct: string }        // key into MessageSpec.structs
  | { kind: 'array'; element: FieldType };

export interface FieldSpec {
  /** Schema name (PascalCase in most files). */
  name: string;
  /** camelCase property name in TypeScript. */
  prop: string;
  type: FieldType;
  versions: Range | null;           // null: never present
  nullableVersions: Range | null;
  tag: number | null;
  taggedVersions: Range | null;
  /** Per-field flexibleVersions override (only RequestHeader.ClientId, "none"). undefined: inherit. */
  flexibleVersions?: Range | null;
  /** Raw default from the schema ("" when absent). */
  default: string;
  about: string;
}

export interface StructSpec {
  /** Name in the schema (e.g. TopicProduceData); the root struct uses the message name. */
  name: string;
  /** TypeScript interface name: message name + struct name (root: the message name). */
  typeName: string;
  fields: FieldSpec[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'data' | 'metadata';

export interface MessageSpec {
  name: string;
  kind: MessageKind;
  apiKey: number | null;
  validVersions: Range;
  flexibleVersions: Range | null;
  latestVersionUnstable: boolean;
  listeners: string[];
  /** The root struct has name === typeName === message name. */
  root: string;
  structs: Record<string, StructSpec>;
  /** File the schema came from (relative to the schema folder). */
  source: string;
}

export function parseRange(s: string | undefined): Range | null {
  if (s === undefined || s === 'none') return null;
  const plus = /^(\d+)\+$/.exec(s);
  if (plus) return { min: Number(plus[1]), max: MAX_VERSION };
  const dash = /^(\d+)-(\d+)$/.exec(s);
  if (dash) return { min: Number(dash[1]), max: Number(dash[2]) };
  if (/^\d+$/.test(s)) return { min: Number(s), max: Number(s) };
  throw new Error(`bad version range ${JSON.stringify(s)}`);
}

export function intersect(a: Range | null, b: Range | null): Range | null {
  if (a === null || b === null) return null;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min <= max ? { min, max } : null;
}

export function contains(r: Range | null, v: number): boolean {
  return r !== null && v >= r.min && v <= r.max;
}

export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function kebabCase(name: string): string {
  return name
    .replace(/KRaft/g, 'Kraft')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** JSON with whole-line and trailing // comments removed (strings never contain "//" here). */
export function stripComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '"' && line[i - 1] !== '\\') inString = !inString;
        else if (!inString && c === '/' && line[i + 1] === '/') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  tag?: number;
  taggedVersions?: string;
  flexibleVersions?: string;
  default?: string | number | boolean;
  about?: string;
  fields?: RawField[];
}

interface RawSchema {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

const PRIMITIVES = new Set<string>([
  'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'bool', 'uuid', 'string', 'bytes', 'records',
]);

export function loadSchema(path: string, source: string): MessageSpec {
  const raw = JSON.parse(stripComments(readFileSync(path, 'utf8'))) as RawSchema;
  const kind = raw.type as MessageKind;
  if (!['request', 'response', 'header', 'data', 'metadata'].includes(kind)) throw new Error(`${path}: type ${raw.type}`);
  const validVersions = parseRange(raw.validVersions);
  if (validVersions === null) throw new Error(`${path}: no validVersions`);
  const structs: Record<string, StructSpec> = {};
  const common = new Map((raw.commonStructs ?? []).map((s) => [s.name, s]));

  const typeOf = (t: string, f: RawField): FieldType => {
    if (t.startsWith('[]')) return { kind: 'array', element: typeOf(t.slice(2), f) };
    if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t as PrimitiveName };
    if (!/^[A-Z]/.test(t)) throw new Error(`${path}: unknown type ${t}`);
    if (!structs[t]) {
      const fields = f.fields ?? common.get(t)?.fields;
      if (!fields) throw new Error(`${path}: struct ${t} has no fields`);
      structs[t] = { name: t, typeName: raw.name + t, fields: [] };
      structs[t].fields = fields.map(toField);
    } else if (f.fields) {
      throw new Error(`${path}: struct ${t} defined twice`);
    }
    return { kind: 'struct', struct: t };
  };

  const toField = (f: RawField): FieldSpec => {
    const versions = parseRange(f.versions ?? f.taggedVersions);
    const spec: FieldSpec = {
      name: f.name,
      prop: camelCase(f.name),
      type: typeOf(f.type, f),
      versions,
      nullableVersions: parseRange(f.nullableVersions),
      tag: f.tag ?? null,
      taggedVersions: parseRange(f.taggedVersions),
      default: f.default === undefined ? '' : String(f.default),
      about: f.about ?? '',
    };
    if (f.flexibleVersions !== undefined) spec.flexibleVersions = parseRange(f.flexibleVersions);
    if ((spec.tag === null) !== (spec.taggedVersions === null)) throw new Error(`${path}: ${f.name} tag without taggedVersions`);
    return spec;
  };

  structs[raw.name] = { name: raw.name, typeName: raw.name, fields: [] };
  structs[raw.name]!.fields = raw.fields.map(toField);
  return {
    name: raw.name,
    kind,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions: parseRange(raw.flexibleVersions),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: raw.listeners ?? [],
    root: raw.name,
    structs,
    source,
  };
}
