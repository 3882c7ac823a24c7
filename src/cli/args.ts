import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad flag or value: the tool prints its message on one line and exits non-zero. */
export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode, with its errors turned into one-line UsageErrors. */
export function parseFlags<O extends Options>(argv: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'] {
  // Negative numbers are values, not flags: `--throughput -1` as Kafka's tools take it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!.split('. To specify a positional')[0]!;
    throw new UsageError(message.replace(/\.$/, ''));
  }
}

export function intFlag(name: string, value: string | undefined, options: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${value}'`);
  if (options.min !== undefined && n < options.min) throw new UsageError(`--${name} must be at least ${options.min}, got ${n}`);
  if (options.max !== undefined && n > options.max) throw new UsageError(`--${name} must be at most ${options.max}, got ${n}`);
  return n;
}

export function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`Missing required argument "[${name}]"`);
  return value;
}

/** `key=value` pairs as given to --property / --config / --producer-props. */
export function keyValues(flag: string, items: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--${flag} expects key=value, got '${item}'`);
    out.set(item.slice(0, i).trim(), item.slice(i + 1));
  }
  return out;
}

/** Unescapes \t, \n, \\ in separators given on the command line (as Kafka's console tools do). */
export function unescape(s: string): string {
  return s.replace(/\\([tnr\\])/g, (_m, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' } as Record<string, string>)[c]!);
}
