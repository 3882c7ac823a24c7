import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeDataDir, removeDataDir, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { assertOneLineError, raftka } from '../cli/run-cli.js';

const AUTHORIZER = { RAFTKA_AUTHORIZER_CLASS_NAME: 'standard' };

describe('raftka acls (kafka-acls.sh)', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let locked: BrokerProcess;
  let lockedDir: string;
  before(async () => {
    [dataDir, lockedDir] = await Promise.all([makeDataDir(), makeDataDir()]);
    // The anonymous principal is a super user on the first broker, nobody on the second.
    [broker, locked] = await Promise.all([
      startBroker({ dataDir, env: { ...AUTHORIZER, RAFTKA_SUPER_USERS: 'User:ANONYMOUS' } }),
      startBroker({ dataDir: lockedDir, env: AUTHORIZER }),
    ]);
  });
  after(async () => {
    await Promise.all([broker?.kill(), locked?.kill()]);
    await Promise.all([removeDataDir(dataDir), removeDataDir(lockedDir)]);
  });

  it('adds, lists and removes ACLs', async () => {
    const server = `127.0.0.1:${broker.port}`;
    const add = await raftka(['acls', '--bootstrap-server', server, '--add', '--allow-principal', 'User:alice', '--operation', 'Read',
      '--operation', 'Write', '--topic', 'orders', '--resource-pattern-type', 'prefixed']);
    assert.equal(add.code, 0, add.stderr);
    assert.ok(add.lines.includes('Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=PREFIXED)`: '), add.stdout);
    const consumer = await raftka(['acls', '--bootstrap-server', server, '--add', '--allow-principal', 'User:bob', '--consumer', '--topic', 'payments', '--group', 'g1']);
    assert.equal(consumer.code, 0, consumer.stderr);

    const listed = await raftka(['acls', '--bootstrap-server', server, '--list']);
    assert.equal(listed.code, 0, listed.stderr);
    const entries = listed.lines.filter((l) => l.startsWith(' \t')).map((l) => l.trim()).sort();
    assert.deepEqual(entries, [
      '(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)',
      '(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)',
      '(principal=User:bob, host=*, operation=DESCRIBE, permissionType=ALLOW)',
      '(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)',
      '(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)',
    ]);
    const bobs = await raftka(['acls', '--bootstrap-server', server, '--list', '--principal', 'User:bob', '--group', 'g1']);
    assert.deepEqual(bobs.lines.filter((l) => l.startsWith('Current')), ['Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g1, patternType=LITERAL)`: ']);

    const removed = await raftka(['acls', '--bootstrap-server', server, '--remove', '--force', '--allow-principal', 'User:alice', '--operation', 'Write',
      '--topic', 'orders', '--resource-pattern-type', 'prefixed']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.lines.length, 1);
    const all = await raftka(['acls', '--bootstrap-server', server, '--remove', '--topic', 'payments']);
    assert.equal(all.lines.length, 2, 'no principal: every ACL of the resource');
    const rest = await raftka(['acls', '--bootstrap-server', server, '--list', '--topic', 'orders', '--resource-pattern-type', 'any']);
    assert.deepEqual(rest.lines.filter((l) => l.startsWith(' \t')).map((l) => l.trim()), ['(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)']);
  });

  it('fails on one line without the right to alter ACLs, and on bad flags', async () => {
    const r = await raftka(['acls', '--bootstrap-server', `127.0.0.1:${locked.port}`, '--add', '--allow-principal', 'User:alice', '--topic', 't']);
    assertOneLineError(r, /Cluster authorization failed/);
    const bad = await raftka(['acls', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--add', '--allow-principal', 'User:alice', '--topic', 't', '--operation', 'Fly']);
    assertOneLineError(bad, /unknown operation 'Fly'/);
    assert.equal(bad.code, 2);
    const match = await raftka(['acls', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--add', '--allow-principal', 'User:alice', '--topic', 't', '--resource-pattern-type', 'match']);
    assertOneLineError(match, /not valid when adding acls/);
  });
});
