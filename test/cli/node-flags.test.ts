import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BROKER_NODE_FLAGS, missingBrokerNodeFlags } from '../../src/cli/node-flags.js';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';

describe('broker V8 flags', () => {
  it('caps the young generation (the flag behind the produce latency fix)', () => {
    assert.ok(BROKER_NODE_FLAGS.includes('--max-semi-space-size=2'));
  });

  it('missingBrokerNodeFlags finds them in execArgv or NODE_OPTIONS, whatever value or spelling', () => {
    assert.deepEqual(missingBrokerNodeFlags([], undefined), [...BROKER_NODE_FLAGS]);
    assert.deepEqual(missingBrokerNodeFlags(['--enable-source-maps'], ''), [...BROKER_NODE_FLAGS]);
    assert.deepEqual(missingBrokerNodeFlags([...BROKER_NODE_FLAGS], undefined), []);
    assert.deepEqual(missingBrokerNodeFlags([], ` --inspect  ${BROKER_NODE_FLAGS.join(' ')} `), []);
    // A user's own value is kept: only an absent flag is reported.
    assert.deepEqual(missingBrokerNodeFlags(['--max_semi_space_size=8'], undefined), []);
    assert.deepEqual(missingBrokerNodeFlags(['--max-semi-space-size'], undefined), []);
  });

  const brokers: BrokerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const b of brokers) await b.kill();
    for (const d of dirs) await removeDataDir(d);
  });

  it('a broker started with the flags runs with them and says nothing; one started without them says so at info', async () => {
    const env = { RAFTKA_LOG_LEVEL: 'info', NODE_OPTIONS: '' };
    dirs.push(await makeDataDir(), await makeDataDir());
    const [withFlags, without] = await Promise.all([
      startBroker({ dataDir: dirs[0]!, env }),
      startBroker({ dataDir: dirs[1]!, env, nodeFlags: [] }),
    ]);
    brokers.push(withFlags, without);
    const cmdline = readFileSync(`/proc/${withFlags.pid}/cmdline`, 'utf8').split('\0');
    for (const f of BROKER_NODE_FLAGS) assert.ok(cmdline.includes(f), `broker command line ${cmdline.join(' ')} has ${f}`);
    assert.doesNotMatch(withFlags.output(), /started without the V8 flags/);
    assert.match(without.output(), /started without the V8 flags brokers run with/);
    assert.match(without.output(), /max-semi-space-size=2/);
  });
});
