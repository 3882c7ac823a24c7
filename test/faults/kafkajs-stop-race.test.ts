import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { StopRaceResult } from './stop-race-scenario.js';

/**
 * Regression for the short fault schedule's rare hang (the test process at ~100% CPU, no timer
 * ever running again): kafkajs 2.2.4's consumer, stopped while its fetch manager rebalances its
 * fetchers, recreates fetchers after the stop that loop in microtasks forever. The scenario runs
 * kafkajs's real Runner in a worker thread, so a spinning one can be measured and terminated.
 */
async function inWorker(guard: boolean, waitMs: number): Promise<{ result: StopRaceResult | null; utilization: number }> {
  const worker = new Worker(new URL('./stop-race-scenario.js', import.meta.url), { workerData: { scenario: 'stop-race', guard } });
  const started = worker.performance.eventLoopUtilization();
  try {
    const result = await new Promise<StopRaceResult | null>((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      worker.once('message', (m: StopRaceResult & { error?: string }) => {
        clearTimeout(timer);
        if (m.error !== undefined) reject(new Error(m.error)); else resolve(m);
      });
      worker.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    return { result, utilization: worker.performance.eventLoopUtilization(started).utilization };
  } finally {
    await worker.terminate();
  }
}

describe('kafkajs consumer stopped while its fetchers rebalance', () => {
  it('kafkajs 2.2.4 alone spins: the stop never completes and no timer runs again', async () => {
    const { result, utilization } = await inWorker(false, 3000);
    assert.equal(result, null, `expected the unguarded runner to spin, got ${JSON.stringify(result)}`);
    // The worker's event loop was busy the whole time (a microtask loop), not idle waiting.
    assert.ok(utilization > 0.8, `event loop utilization ${utilization.toFixed(2)}`);
  });

  it('with guardKafkajsStopRace() the stop completes, timers run and the new fetchers end', async () => {
    const { result } = await inWorker(true, 10_000);
    assert.ok(result !== null, 'the guarded runner spun');
    assert.equal(result.timerRan, true);
    assert.equal(result.stopResolved, true);
    assert.ok(result.fetchesAfterStop < 10, `fetches after stop: ${result.fetchesAfterStop}`);
  });
});
