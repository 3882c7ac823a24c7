/**
 * Emits TypeScript for one schema file: an interface, a default factory, a decoder and an encoder
 * per struct. One decode/encode per struct covers every version, with version conditions inline.
 */
import { MAX_VERSION, intersect, type FieldSpec, type FieldType, type MessageSpec, type Range, type StructSpec } from './schema.js';

/** Condition "version is in r", simplified knowing version is in ctx: 'true', 'false' or an expression. */
export function cond(r: Range | null, ctx: Range): string {
  const i = intersect(r, ctx);
  if (i === null) return 'false';
  const parts: string[] = [];
  if (i.min > ctx.min) parts.push(`version >= ${i.min}`);
  if (i.max < ctx.max) parts.push(`version <= ${i.max}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

function pick(c: string, a: string, b: string): string {
  if (c === 'true') return a;
  if (c === 'false') return b;
  return a === b ? a : `(${c} ? ${a} : ${b})`;
}

/** Statement form of pick; a and b are single statements (ending with ';') or ''. */
function pickStmt(c: string, a: string, b: string, indent: string): string[] {
  if (c === 'true' || a === b) return a ? [indent + a] : [];
  if (c === 'false') return b ? [indent + b] : [];
  if (!b) return [`${indent}if (${c}) ${a}`];
  return [`${indent}if (${c}) ${a}`, `${indent}else ${b}`];
}

function or(a: string, b: string): string {
  if (a === 'true' || b === 'true') return 'true';
  if (a === 'false') return b;
  if (b === 'false') return a;
  return `${a} || ${b}`;
}

/** Version contexts: for every struct, the versions in which it can be decoded or encoded. */
export function structContexts(msg: MessageSpec): Map<string, Range> {
  const ctx = new Map<string, Range>();
  const visit = (struct: string, r: Range): void => {
    const old = ctx.get(struct);
    const merged = old ? { min: Math.min(old.min, r.min), max: Math.max(old.max, r.max) } : r;
    if (old && old.min === merged.min && old.max === merged.max) return;
    ctx.set(struct, merged);
    for (const f of msg.structs[struct]!.fields) {
      const fr = intersect(f.versions, merged);
      if (fr === null) continue;
      const s = structOf(f.type);
      if (s !== null) visit(s, fr);
    }
  };
  visit(msg.root, msg.validVersions);
  return ctx;
}

function structOf(t: FieldType): string | null {
  if (t.kind === 'struct') return t.struct;
  if (t.kind === 'array') return structOf(t.element);
  return null;
}

export function isNullableAnywhere(f: FieldSpec): boolean {
  return intersect(f.nullableVersions, f.versions) !== null;
}

const PRIM_TS: Record<string, string> = {
  int8: 'number', int16: 'number', uint16: 'number', int32: 'number', float64: 'number',
  int64: 'bigint', bool: 'boolean', uuid: 'string', string: 'string', bytes: 'Buffer', records: 'Buffer',
};

const PRIM_METHOD: Record<string, string> = {
  int8: 'Int8', int16: 'Int16', uint16: 'Uint16', int32: 'Int32', int64: 'Int64', float64: 'Float64',
  bool: 'Bool', uuid: 'Uuid', string: 'String', bytes: 'Bytes',
};

export class Emitter {
  readonly imports = new Set<string>();
  private readonly ctx: Map<string, Range>;

  constructor(readonly msg: MessageSpec) {
    this.ctx = structContexts(msg);
  }

  private use(name: string): string {
    this.imports.add(name);
    return name;
  }

  tsType(t: FieldType): string {
    if (t.kind === 'primitive') return PRIM_TS[t.name]!;
    if (t.kind === 'struct') return this.msg.structs[t.struct]!.typeName;
    const e = this.tsType(t.element);
    return `${e}[]`;
  }

  fieldTsType(f: FieldSpec): string {
    return this.tsType(f.type) + (isNullableAnywhere(f) || this.defaultsToNull(f) ? ' | null' : '');
  }

  private defaultsToNull(f: FieldSpec): boolean {
    return f.default === 'null' || (f.type.kind === 'primitive' && f.type.name === 'records' && f.default === '');
  }

  defaultExpr(f: FieldSpec): string {
    if (this.defaultsToNull(f)) return 'null';
    const d = f.default;
    const t = f.type;
    if (t.kind === 'array') return '[]';
    if (t.kind === 'struct') return `default${this.msg.structs[t.struct]!.typeName}()`;
    switch (t.name) {
      case 'int8': case 'int16': case 'uint16': case 'int32': case 'float64': {
        const n = d === '' ? 0 : Number(d);
        if (Number.isNaN(n)) throw new Error(`${this.msg.name}.${f.name}: bad default ${d}`);
        return String(n);
      }
      case 'int64': return `${d === '' ? 0n : BigInt(d)}n`;
      case 'bool': return d === 'true' ? 'true' : 'false';
      case 'string': return JSON.stringify(d);
      case 'uuid': return this.use('ZERO_UUID');
      case 'bytes': case 'records': return 'Buffer.alloc(0)';
    }
    throw new Error('unreachable');
  }

  /** Expression that reads a value of type t. n: nullable condition, x: flexible condition. */
  private readExpr(t: FieldType, n: string, x: string, r: string): string {
    if (t.kind === 'struct') {
      const fn = `decode${this.msg.structs[t.struct]!.typeName}(${r}, version)`;
      if (n === 'false') return fn;
      return `${n === 'true' ? '' : n + ' && '}${r}.int8() < 0 ? null : ${fn}`;
    }
    if (t.kind === 'array') {
      const el = this.elementReader(t.element, x);
      const plain = `${r}.array(${x}, ${el}, version)`;
      const nullable = `${r}.nullableArray(${x}, ${el}, version)`;
      return pick(n, nullable, plain);
    }
    const name = t.name;
    if (name === 'string' || name === 'bytes' || name === 'records') {
      const base = name === 'string' ? 'String' : 'Bytes';
      const m = (compact: boolean, nul: boolean): string => {
        const s = `${compact ? 'compact' : ''}${nul ? 'Nullable' : ''}${base}`;
        return `${r}.${s.charAt(0).toLowerCase()}${s.slice(1)}()`;
      };
      return pick(x, pick(n, m(true, true), m(true, false)), pick(n, m(false, true), m(false, false)));
    }
    return `${r}.${name}()`;
  }

  private elementReader(t: FieldType, x: string): string {
    if (t.kind === 'struct') return `decode${this.msg.structs[t.struct]!.typeName}`;
    if (t.kind === 'array') throw new Error(`${this.msg.name}: nested arrays are not supported`);
    if (t.name === 'string' || t.name === 'bytes') {
      const b = PRIM_METHOD[t.name]!;
      if (x === 'true') return this.use(`readCompact${b}`);
      if (x === 'false') return this.use(`read${b}`);
      return `(${x} ? ${this.use(`readCompact${b}`)} : ${this.use(`read${b}`)})`;
    }
    if (t.name === 'records') throw new Error(`${this.msg.name}: arrays of records are not supported`);
    return this.use(`read${PRIM_METHOD[t.name]!}`);
  }

  private elementWriter(t: FieldType, x: string): string {
    if (t.kind === 'struct') return `encode${this.msg.structs[t.struct]!.typeName}`;
    if (t.kind === 'array') throw new Error(`${this.msg.name}: nested arrays are not supported`);
    if (t.name === 'string' || t.name === 'bytes') {
      const b = PRIM_METHOD[t.name]!;
      if (x === 'true') return this.use(`writeCompact${b}`);
      if (x === 'false') return this.use(`write${b}`);
      return `(${x} ? ${this.use(`writeCompact${b}`)} : ${this.use(`write${b}`)})`;
    }
    return this.use(`write${PRIM_METHOD[t.name]!}`);
  }

  /** Statements that write value v (an expression of the field's TS type). */
  private writeStmts(f: FieldSpec, t: FieldType, v: string, n: string, x: string, w: string, ind: string, label: string): string[] {
    const tsNullable = isNullableAnywhere(f) || this.defaultsToNull(f);
    const nn = tsNullable ? `${this.use('nonNull')}(${v}, '${label}')` : v;
    if (t.kind === 'struct') {
      const fn = `encode${this.msg.structs[t.struct]!.typeName}`;
      const nullable = `if (${v} === null) ${w}.int8(-1); else { ${w}.int8(1); ${fn}(${w}, version, ${v}); }`;
      return pickStmt(n, nullable, `${fn}(${w}, version, ${nn});`, ind);
    }
    if (t.kind === 'array') {
      const el = this.elementWriter(t.element, x);
      return pickStmt(n, `${w}.nullableArray(${x}, ${v}, ${el}, version);`, `${w}.array(${x}, ${nn}, ${el}, version);`, ind);
    }
    const name = t.name;
    if (name === 'string' || name === 'bytes' || name === 'records') {
      const base = name === 'string' ? 'String' : 'Bytes';
      const m = (compact: boolean, nul: boolean): string => {
        const s = `${compact ? 'compact' : ''}${nul ? 'Nullable' : ''}${base}`;
        return `${w}.${s.charAt(0).toLowerCase()}${s.slice(1)}(${nul ? v : nn});`;
      };
      if (x === 'true' || x === 'false') return pickStmt(n, m(x === 'true', true), m(x === 'true', false), ind);
      if (n === 'true' || n === 'false') return pickStmt(x, m(true, n === 'true'), m(false, n === 'true'), ind);
      return [
        `${ind}if (${x}) {`, ...pickStmt(n, m(true, true), m(true, false), ind + '  '),
        `${ind}} else {`, ...pickStmt(n, m(false, true), m(false, false), ind + '  '), `${ind}}`,
      ];
    }
    return [`${ind}${w}.${name}(${v});`];
  }

  private isScalar(f: FieldSpec): boolean {
    return f.type.kind === 'primitive' && !['bytes', 'records'].includes(f.type.name);
  }

  private nonDefaultExpr(f: FieldSpec, v: string): string {
    if (this.isScalar(f) || this.defaultsToNull(f)) return `${v} !== ${this.defaultExpr(f)}`;
    if (f.type.kind === 'array' || (f.type.kind === 'primitive')) {
      return isNullableAnywhere(f) ? `(${v} === null || ${v}.length > 0)` : `${v}.length > 0`;
    }
    return `!${this.use('deepEqual')}(${v}, ${this.defaultExpr(f)})`;
  }

  emitStruct(s: StructSpec, exported: boolean): string {
    const ctx = this.ctx.get(s.name);
    if (!ctx) return ''; // never used in a valid version
    const tn = s.typeName;
    const out: string[] = [];
    const ex = exported ? 'export ' : 'export ';
    // interface
    out.push(`${ex}interface ${tn} {`);
    for (const f of s.fields) {
      if (f.about) out.push(`  /** ${f.about.replace(/\*\//g, '* /')} */`);
      out.push(`  ${f.prop}: ${this.fieldTsType(f)};`);
    }
    out.push('}', '');
    // default
    out.push(`${ex}function default${tn}(): ${tn} {`);
    if (s.fields.length === 0) out.push(`  return {};`);
    else {
      out.push('  return {');
      for (const f of s.fields) out.push(`    ${f.prop}: ${this.defaultExpr(f)},`);
      out.push('  };');
    }
    out.push('}', '');

    const flexAll = cond(this.msg.flexibleVersions, ctx);
    const regular = s.fields.filter((f) => f.tag === null);
    const tagged = s.fields.filter((f) => f.tag !== null && cond(intersect(f.taggedVersions, f.versions), ctx) !== 'false')
      .sort((a, b) => a.tag! - b.tag!);
    for (const f of s.fields) {
      if (f.tag !== null && (f.versions?.min !== f.taggedVersions?.min || f.versions?.max !== f.taggedVersions?.max)) {
        throw new Error(`${this.msg.name}.${f.name}: taggedVersions differs from versions`);
      }
    }
    const flexVar = flexAll === 'true' || flexAll === 'false' ? flexAll : 'flex';
    const fieldFlex = (f: FieldSpec): string => (f.flexibleVersions !== undefined ? cond(f.flexibleVersions, ctx) : flexVar);

    // decode
    out.push(`${ex}function decode${tn}(r: Reader, version: number): ${tn} {`);
    const body: string[] = [];
    if (flexVar === 'flex') body.push(`  const flex = ${flexAll};`);
    body.push(`  const m = default${tn}();`);
    for (const f of regular) {
      const present = cond(f.versions, ctx);
      if (present === 'false') continue;
      const fctx = intersect(f.versions, ctx)!;
      const n = cond(f.nullableVersions, fctx);
      const read = `m.${f.prop} = ${this.readExpr(f.type, n, fieldFlex(f), 'r')};`;
      body.push(present === 'true' ? `  ${read}` : `  if (${present}) ${read}`);
    }
    if (flexVar !== 'false') {
      const ind = flexVar === 'true' ? '  ' : '    ';
      if (flexVar !== 'true') body.push(`  if (flex) {`);
      if (tagged.length === 0) body.push(`${ind}r.skipTaggedFields();`);
      else {
        body.push(`${ind}for (let n = r.taggedFieldCount(); n > 0; n--) {`);
        body.push(`${ind}  const tag = r.uvarint();`);
        body.push(`${ind}  const t = r.sub(r.uvarint());`);
        body.push(`${ind}  switch (tag) {`);
        for (const f of tagged) {
          const present = cond(f.taggedVersions, ctx);
          const fctx = intersect(f.taggedVersions, ctx)!;
          const n = cond(f.nullableVersions, fctx);
          const read = `m.${f.prop} = ${this.readExpr(f.type, n, 'true', 't')};`;
          body.push(`${ind}    case ${f.tag}: ${present === 'true' ? '' : `if (${present}) `}${read} break;`);
        }
        body.push(`${ind}  }`, `${ind}}`);
      }
      if (flexVar !== 'true') body.push('  }');
    }
    body.push('  return m;');
    out.push(...body, '}', '');

    // encode
    out.push(`${ex}function encode${tn}(w: Writer, version: number, m: ${tn}): void {`);
    const eb: string[] = [];
    if (flexVar === 'flex') eb.push(`  const flex = ${flexAll};`);
    for (const f of regular) {
      const present = cond(f.versions, ctx);
      if (present === 'false') continue;
      const fctx = intersect(f.versions, ctx)!;
      const n = cond(f.nullableVersions, fctx);
      const label = `${tn}.${f.prop}`;
      const stmts = this.writeStmts(f, f.type, `m.${f.prop}`, n, fieldFlex(f), 'w', present === 'true' ? '  ' : '    ', label);
      if (present === 'true') eb.push(...stmts);
      else if (stmts.length === 1) eb.push(`  if (${present}) ${stmts[0]!.trimStart()}`);
      else eb.push(`  if (${present}) {`, ...stmts, '  }');
    }
    if (flexVar !== 'false') {
      const ind = flexVar === 'true' ? '  ' : '    ';
      if (flexVar !== 'true') eb.push('  if (flex) {');
      if (tagged.length === 0) eb.push(`${ind}w.uvarint(0);`);
      else {
        const names: string[] = [];
        for (const f of tagged) {
          const present = cond(f.taggedVersions, ctx);
          const nd = this.nonDefaultExpr(f, `m.${f.prop}`);
          const name = `tag${f.tag}`;
          names.push(name);
          eb.push(`${ind}const ${name} = ${present === 'true' ? nd : `${present} && ${nd}`};`);
        }
        eb.push(`${ind}w.uvarint(${names.map((x) => `(${x} ? 1 : 0)`).join(' + ')});`);
        for (const f of tagged) {
          const fctx = intersect(f.taggedVersions, ctx)!;
          const n = cond(f.nullableVersions, fctx);
          const stmts = this.writeStmts(f, f.type, `m.${f.prop}`, n, 'true', 't', '', `${tn}.${f.prop}`);
          eb.push(`${ind}if (tag${f.tag}) w.taggedField(${f.tag}, (t) => { ${stmts.join(' ')} });`);
        }
      }
      if (flexVar !== 'true') eb.push('  }');
    }
    if (eb.length === 0) eb.push('  void w; void version; void m;');
    out.push(...eb, '}', '');
    return out.join('\n');
  }

  /** All structs of the message, nested ones first, the root last. */
  emitAll(): string {
    const parts: string[] = [];
    for (const s of Object.values(this.msg.structs)) {
      if (s.name !== this.msg.root) parts.push(this.emitStruct(s, true));
    }
    parts.push(this.emitStruct(this.msg.structs[this.msg.root]!, true));
    return parts.filter((p) => p !== '').join('\n');
  }
}

export function rangeText(r: Range | null): string {
  if (r === null) return 'none';
  if (r.max === MAX_VERSION) return `${r.min}+`;
  return r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`;
}

/** Decode a struct field condition and flexible helpers exported for tests. */
export { or };
