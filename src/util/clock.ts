/** Time is passed in, never read from globals inside raft, cluster or partition. */
export interface Clock {
  /** Milliseconds since the epoch (wall clock, for timestamps). */
  now(): number;
  /** Monotonic milliseconds (for timeouts). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock a test or simulator moves by hand. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number { return this.ms; }
  monotonic(): number { return this.ms; }
  advance(ms: number): void { this.ms += ms; }
}
