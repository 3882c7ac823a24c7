import { EventEmitter } from 'node:events';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { guardKafkajsStopRace, kafkajsRunnerClass } from './kafkajs-stop-race.js';

/**
 * The kafkajs consumer stop-vs-fetcher-rebalance race (see kafkajs-stop-race.ts), made
 * deterministic: kafkajs's real Runner, FetchManager and fetchers over a stub consumer group whose
 * broker set and fetch answers the scenario controls.
 *
 * 1. Brokers [1, 2]: two fetchers; broker 2's fetch hangs (a slow or dead broker).
 * 2. The broker set becomes [1, 3]: fetcher 1 throws a rebalance error and the fetch manager
 *    waits for fetcher 2 to stop.
 * 3. `runner.stop()` (what `consumer.disconnect()` does) runs inside that wait.
 * 4. Broker 2's fetch returns: the fetch manager creates fetchers for [1, 3] after the stop.
 *
 * Without the guard the new fetchers spin in microtasks (a timer set after step 4 never runs);
 * with it, the stop resolves and the timer runs. Runs in a worker thread (`workerData.guard`) so
 * the test can end a spinning one; the result is posted to the parent.
 */
export interface StopRaceResult {
  /** A 300 ms timer set after the slow fetch returned ran. */
  timerRan: boolean;
  /** runner.stop() resolved by then. */
  stopResolved: boolean;
  /** Fetches of the stub group after runner.stop() was called. */
  fetchesAfterStop: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runStopRace(): Promise<StopRaceResult> {
  const Runner = kafkajsRunnerClass();
  const quiet = { namespace(): unknown { return quiet; }, debug(): void {}, info(): void {}, warn(): void {}, error(): void {} };
  let nodeIds = [1, 2];
  let releaseSlowFetch = (): void => undefined;
  const slowFetch = new Promise<void>((resolve) => { releaseSlowFetch = resolve; });
  let fetches = 0;
  const group = {
    groupId: 'stop-race', memberId: 'member',
    connect: async (): Promise<void> => undefined,
    joinAndSync: async (): Promise<void> => undefined,
    leave: async (): Promise<void> => undefined,
    heartbeat: async (): Promise<void> => undefined,
    getNodeIds: (): number[] => nodeIds,
    fetch: async (nodeId: number): Promise<unknown[]> => {
      fetches++;
      if (nodeId === 2) await slowFetch;
      else await sleep(20);
      return [];
    },
  };
  const runner = new Runner({
    logger: quiet, consumerGroup: group, instrumentationEmitter: new EventEmitter(),
    eachMessage: async (): Promise<void> => undefined, heartbeatInterval: 3000, onCrash: (): void => undefined,
    retry: { retries: 5, initialRetryTime: 20, maxRetryTime: 100 },
  });
  await runner.start();
  await sleep(100);
  nodeIds = [1, 3];
  await sleep(100); // fetcher 1 has thrown its rebalance error; the manager waits for fetcher 2
  let stopResolved = false;
  const fetchesAtStop = fetches;
  void runner.stop().then(() => { stopResolved = true; });
  await sleep(50);
  releaseSlowFetch();
  await sleep(300);
  return { timerRan: true, stopResolved, fetchesAfterStop: fetches - fetchesAtStop };
}

if (!isMainThread && parentPort !== null && (workerData as { scenario?: string } | undefined)?.scenario === 'stop-race') {
  const port = parentPort;
  if ((workerData as { guard: boolean }).guard) guardKafkajsStopRace();
  void runStopRace().then((r) => port.postMessage(r), (e: unknown) => port.postMessage({ error: (e as Error).message }));
}
