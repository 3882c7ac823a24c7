import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS } from './nemesis.js';
import { formatReport } from './runner.js';
import { runFaultsIsolated } from './isolated.js';

/**
 * The short fixed-seed schedule `npm test` runs: a three-broker cluster behind per-link proxies,
 * acks=all producers (idempotent and not), readers, a committing group and topic creation, while
 * the nemesis injects one round of every fault kind (kill, pause, partitions, delay, controller
 * kill, leader kill right after an ack, restart of all). Then heal, read back and check.
 * Long runs: `npm run faults -- --time 600 --seed S`.
 *
 * The run goes in a child process under a watchdog (isolated.ts): if its event loop stops (no
 * heartbeat for 30 s, as when kafkajs spun in microtasks, see kafkajs-stop-race.ts) or it runs
 * past 4 minutes, it is killed and the test fails with the seed and the stuck JavaScript stack
 * instead of hanging until the test runner's watchdog.
 */
const SEED = Number(process.env.RAFTKA_FAULTS_SEED ?? 20261126);

describe('fault injection (short schedule)', () => {
  it(`loses no acknowledged write and duplicates no idempotent one through one round of every fault (seed ${SEED})`, async () => {
    const lines: string[] = [];
    const report = await runFaultsIsolated({
      seed: SEED, timeSec: 90, maxFaults: FAULT_KINDS.length, stallMs: 30_000, deadlineMs: 240_000,
      minFaultMs: 2200, maxFaultMs: 2600, minQuietMs: 600, maxQuietMs: 900, warmupMs: 1500, settleMs: 1000,
      say: (line) => lines.push(line),
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nprogress before it:\n${lines.join('\n')}`, { cause: err });
    });
    const text = `${lines.join('\n')}\n${formatReport(report)}`;
    assert.ok(report.ok, text);
    assert.deepEqual(new Set(report.faults.map((f) => f.kind)), new Set(FAULT_KINDS), text);
    const c = report.result.counts;
    assert.ok(c.acknowledged > 100, `too few writes acknowledged to mean anything:\n${text}`);
    assert.ok(report.clientBytes > 0, `the clients did not go through the client proxies:\n${text}`);
    assert.ok(c.readsChecked > 0 && c.commitsAcknowledged > 0 && c.topicsCreatedDuringFaults > 0, text);
    if (process.env.RAFTKA_FAULTS_VERBOSE === '1' || c.brokerFatal > 0) process.stdout.write(`${text}\n`);
  });
});
