import { createRequire } from 'node:module';

/**
 * A workaround for a kafkajs 2.2.4 consumer bug that hung the short fault schedule (issue 11): a
 * consumer stopped (`disconnect()` or `stop()`) while its FetchManager is rebalancing its
 * fetchers spins forever in a microtask loop, at 100% CPU, and no timer or socket of the process
 * ever runs again.
 *
 * How: the FetchManager keeps one fetcher per broker of the metadata. When the broker set changes
 * (a broker left the metadata, or kafkajs dropped one after a closed connection), the next fetch
 * throws a rebalance error and `FetchManager.start` awaits `stop()` of the other fetchers (one may
 * be inside a fetch to a slow or dead broker for up to the request timeout), then loops and
 * creates new fetchers. If `Runner.stop()` runs inside that wait, it sets `running = false` and
 * stops the *old* fetchers; the new ones are created afterwards and never stopped, and each
 * fetcher's loop calls `Runner.fetch()`, which returns `[]` at once when the runner is not
 * running: `while (isRunning) await fetch()` without any I/O or timer.
 *
 * The guard makes `Runner.fetch()` on a stopped runner throw instead: the fetcher ends,
 * `FetchManager.start` rethrows, the runner's retrier retries after a timer, sees the runner
 * stopped and returns, and the runner reports that it stopped consuming, so `disconnect()`
 * resolves. It changes nothing for a running consumer (kafkajs only calls `fetch()` on a stopped
 * runner in this race). `kafkajs-stop-race.test.ts` reproduces the spin and proves the guard.
 */

const require = createRequire(import.meta.url);

/** The part of kafkajs's (internal) consumer Runner the guard touches. */
export interface KafkajsRunner {
  running: boolean;
  fetch(nodeId: number): Promise<unknown[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
export type KafkajsRunnerClass = new (options: Record<string, unknown>) => KafkajsRunner;

/** kafkajs's consumer Runner class (not part of its public API). */
export function kafkajsRunnerClass(): KafkajsRunnerClass {
  return require('kafkajs/src/consumer/runner.js') as KafkajsRunnerClass;
}

/** What `Runner.fetch()` throws on a stopped runner (retriable for kafkajs's retrier, which then sees the runner stopped). */
export class ConsumerStoppedError extends Error {
  readonly retriable = true;
  constructor() {
    super('kafkajs consumer fetch after stop (fetchers recreated by a rebalance that raced with stop)');
    this.name = 'ConsumerStoppedError';
  }
}

const GUARDED = Symbol.for('raftka.faults.kafkajsStopRaceGuard');
let hits = 0;

/** How many times the guard ended a fetcher on a stopped runner (each would have spun). */
export function kafkajsStopRaceHits(): number { return hits; }

/** Installs the guard on kafkajs's Runner (once per process; later calls do nothing). */
export function guardKafkajsStopRace(): void {
  const proto = kafkajsRunnerClass().prototype as KafkajsRunner & { [GUARDED]?: true };
  if (proto[GUARDED] === true) return;
  const original = proto.fetch;
  if (typeof original !== 'function') throw new Error('kafkajs internals changed: Runner has no fetch()');
  proto.fetch = async function guardedFetch(this: KafkajsRunner, nodeId: number): Promise<unknown[]> {
    if (!this.running) { hits++; throw new ConsumerStoppedError(); }
    return original.call(this, nodeId);
  };
  proto[GUARDED] = true;
}

/** Whether the guard is installed in this process. */
export function kafkajsStopRaceGuarded(): boolean {
  return (kafkajsRunnerClass().prototype as { [GUARDED]?: true })[GUARDED] === true;
}
