import type { Clock } from '../util/clock.js';

/** Cancels a scheduled task; harmless to call twice or after it ran. */
export type Cancel = () => void;

/**
 * Timers for the group coordinator (session, rebalance and initial-delay timeouts), passed in so
 * tests drive time by hand.
 */
export interface Scheduler {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock milliseconds (commit timestamps). */
  wallClock(): number;
  schedule(delayMs: number, task: () => void): Cancel;
}

/** Real timers (unref'd, so they never keep the process alive). */
export function systemScheduler(clock: Clock): Scheduler {
  return {
    now: () => clock.monotonic(),
    wallClock: () => clock.now(),
    schedule(delayMs, task) {
      const t = setTimeout(task, Math.max(0, delayMs));
      t.unref();
      return () => clearTimeout(t);
    },
  };
}

interface Task { at: number; seq: number; run: () => void; cancelled: boolean }

/** A scheduler whose time only moves on advance(); due tasks run in deadline order. */
export class ManualScheduler implements Scheduler {
  private ms: number;
  private seq = 0;
  private tasks: Task[] = [];

  constructor(startMs = 0, private readonly wallOffset = 1_700_000_000_000) { this.ms = startMs; }

  now(): number { return this.ms; }
  wallClock(): number { return this.ms + this.wallOffset; }

  schedule(delayMs: number, run: () => void): Cancel {
    const task: Task = { at: this.ms + Math.max(0, delayMs), seq: this.seq++, run, cancelled: false };
    this.tasks.push(task);
    return () => { task.cancelled = true; };
  }

  /** Number of tasks still waiting. */
  get pending(): number { return this.tasks.filter((t) => !t.cancelled).length; }

  /** Moves time forward by `ms`, running every task that falls due (including ones they schedule). */
  advance(ms: number): void {
    const target = this.ms + ms;
    for (;;) {
      this.tasks = this.tasks.filter((t) => !t.cancelled);
      let next: Task | undefined;
      for (const t of this.tasks) if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.ms = Math.max(this.ms, next.at);
      next.cancelled = true;
      next.run();
    }
    this.ms = target;
  }
}
