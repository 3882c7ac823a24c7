import { pino, type Logger } from 'pino';

export type { Logger };

/** The broker's structured logger: one JSON line per event. Level from RAFTKA_LOG_LEVEL (default info). */
export function createLogger(bindings: Record<string, unknown> = {}, level?: string): Logger {
  return pino({
    level: level ?? process.env.RAFTKA_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...bindings },
  });
}

/** A logger that drops everything: for unit tests and the simulator. */
export const silentLogger: Logger = pino({ level: 'silent' });
