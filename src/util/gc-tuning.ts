import v8 from 'node:v8';

/** Upper bound of raftka.heap.growing.percent (a factor of 11); V8's own heuristic stays at or below 4 (300). */
export const MAX_HEAP_GROWING_PERCENT = 1000;

/**
 * Sets V8's old-generation growing factor to 1 + percent/100 (its --heap-growing-percent flag; 0
 * leaves V8's own heuristic, a factor between 1.1 and 4 chosen from its measured GC and mutator
 * speeds). Why a broker wants it: every received frame is a fresh ArrayBuffer, and V8 counts the
 * external memory allocated since the last mark-compact against the old generation's limit. With
 * V8's heuristic a loaded broker (live heap about 13 MB, limit about 36 MB) ran a mark-compact
 * about every 750 ms, and those pauses were the produce latency's tail; at a factor of 4, 1-2 per
 * 5 s run instead of 6-10 (see README, Produce and fetch). The flag is read each time V8
 * recomputes its limits, so setting it at start-up takes effect.
 */
export function applyHeapGrowingPercent(percent: number, setFlags: (flags: string) => void = (f) => v8.setFlagsFromString(f)): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > MAX_HEAP_GROWING_PERCENT) {
    throw new Error(`raftka.heap.growing.percent must be an integer from 0 to ${MAX_HEAP_GROWING_PERCENT}, got ${percent}`);
  }
  if (percent > 0) setFlags(`--heap-growing-percent=${percent}`);
}
