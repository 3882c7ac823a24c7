import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One pino JSON line as `time level msg key=value...` (pid and hostname left out). */
export function formatPrettyLine(json: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { time, level, msg, pid: _pid, hostname: _hostname, ...rest } = event;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = (typeof level === 'number' ? LEVEL_NAMES[level] ?? String(level) : String(level)).padEnd(5);
  const fields = Object.entries(rest).map(([k, v]) => {
    if (k === 'err' && v !== null && typeof v === 'object' && 'message' in v) return `err=${formatValue((v as { message: unknown }).message)}`;
    return `${k}=${formatValue(v)}`;
  });
  return `${[t, lvl, typeof msg === 'string' ? msg : '', ...fields].filter((s) => s !== '').join(' ')}\n`;
}

/** A pino destination writing human-readable lines to stdout (for a terminal). */
export function prettyDestination(out: NodeJS.WritableStream = process.stdout): DestinationStream {
  return { write: (line: string) => { out.write(formatPrettyLine(line.endsWith('\n') ? line.slice(0, -1) : line)); } };
}

/**
 * The broker's structured logger: JSON lines, or human-readable lines when stdout is a terminal.
 * Level: `level`, else RAFTKA_LOG_LEVEL, else info.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level?: string, pretty = process.stdout.isTTY === true): Logger {
  const options = {
    level: level ?? process.env.RAFTKA_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...bindings },
  };
  return pretty ? pino(options, prettyDestination()) : pino(options);
}

/** A logger that drops everything: for unit tests and the simulator. */
export const silentLogger: Logger = pino({ level: 'silent' });
