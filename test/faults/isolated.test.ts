import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runFaultsIsolated, StuckRunError } from './isolated.js';

/**
 * The watchdog of an isolated fault run: a run whose process spins in microtasks (what kafkajs's
 * consumer did, kafkajs-stop-race.ts) ends as a failure naming its seed and the spinning code,
 * within the stall limit, and its process is gone.
 */
describe('isolated fault run watchdog', () => {
  it('kills a run whose event loop spins and reports the seed and the stack', async () => {
    const started = Date.now();
    const err = await runFaultsIsolated({ seed: 4242, timeSec: 1, stallMs: 3000, simulateSpin: true }).then(
      () => null, (e: unknown) => e as Error);
    assert.ok(err instanceof StuckRunError, `expected a StuckRunError, got ${String(err)}`);
    assert.equal(err.seed, 4242);
    assert.match(err.message, /^seed 4242: .*no heartbeat/);
    assert.ok(err.stacks.length > 0, err.message);
    // The spinning function is named by a paused stack or by the profile.
    const named = (f: string): boolean => f.includes('spinForever') && f.includes('run-child.js');
    assert.ok(err.stacks.some((s) => s.frames.some(named)) || err.profile.some((p) => named(p.where)), err.message);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    // The group is gone: the spinning process no longer exists.
    const pid = Number(/pid (\d+)/.exec(err.message)?.[1]);
    assert.ok(pid > 0);
    assert.throws(() => process.kill(pid, 0));
  });
});
