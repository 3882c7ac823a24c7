/**
 * raftka.bootstrap.scram.users: written by whichever broker is the active controller (also one
 * elected later), after its image caught up with its metadata log, and only while no SCRAM
 * record was ever committed. The Controller's side (planScramBootstrap) is real; leadership and
 * the log are driven by the test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/cluster/controller.js';
import { ScramBootstrapper } from '../../src/security/scram-bootstrap.js';
import { parseAddScramList } from '../../src/security/scram.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';
import { MemoryMetadataLog } from '../helpers/memory-metadata.js';

const ENTRIES = parseAddScramList('SCRAM-SHA-256=[name=admin,password=admin-secret];SCRAM-SHA-512=[name=broker,password=b]');

function setup(options: { leader: boolean; failFirst?: number; lagging?: boolean }) {
  const log = new MemoryMetadataLog();
  const controller = new Controller(log, { numPartitions: 1, defaultReplicationFactor: 1 }, new Random(1), () => performance.now(), silentLogger);
  const state = { leader: options.leader, writes: 0, failures: options.failFirst ?? 0, logEnd: 0n, caughtUp: options.lagging !== true };
  let release: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => { release = resolve; });
  const b = new ScramBootstrapper(ENTRIES, {
    isActiveController: () => state.leader,
    metadataLogEndOffset: () => state.logEnd,
    imageOffset: () => (state.caughtUp ? state.logEnd : -1n),
    waitForImageOffset: () => caughtUp,
    everWritten: () => log.image().scram.everWritten,
    write: async (entries) => {
      state.writes++;
      if (state.failures > 0) { state.failures--; throw new Error('NOT_CONTROLLER for a moment'); }
      return controller.bootstrapScram(entries);
    },
    retryMs: 5,
    log: silentLogger,
  });
  return { log, controller, state, b, release };
}

describe('bootstrap SCRAM users', () => {
  it('not the active controller: nothing; elected later: written once, whatever the number of triggers', async () => {
    const { log, state, b } = setup({ leader: false });
    await b.maybeApply();
    assert.equal(state.writes, 0);
    state.leader = true;
    await Promise.all([b.maybeApply(), b.maybeApply(), b.maybeApply()]);
    await b.maybeApply();
    assert.equal(state.writes, 1, 'one write; afterwards everWritten stops every later attempt');
    assert.deepEqual([...log.image().scram.users.keys()].sort(), ['admin', 'broker']);
  });

  it('never again once a SCRAM record was committed (a changed or deleted user stays so)', async () => {
    const { log, controller, state, b } = setup({ leader: true });
    await controller.alterScramCredentials([], [{ name: 'carol', mechanism: 1, iterations: 4096, salt: Buffer.alloc(16, 1), saltedPassword: Buffer.alloc(32, 2) }]);
    await b.maybeApply();
    assert.equal(state.writes, 0);
    assert.deepEqual([...log.image().scram.users.keys()], ['carol']);
  });

  it('waits until the image applied what the metadata log held when this broker took over', async () => {
    const { state, b, release, log } = setup({ leader: true, lagging: true });
    state.logEnd = 10n;
    const applying = b.maybeApply();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(state.writes, 0, 'nothing written from a stale image');
    release();
    await applying;
    assert.equal(state.writes, 1);
    assert.equal(log.image().scram.users.size, 2);
  });

  it('a failed write is retried while this broker is the active controller', async () => {
    const { state, b, log } = setup({ leader: true, failFirst: 2 });
    await b.maybeApply();
    assert.equal(state.writes, 1);
    const deadline = performance.now() + 5000;
    while (log.image().scram.users.size === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(state.writes, 3);
    assert.equal(log.image().scram.users.size, 2);
    b.stop();
  });
});
