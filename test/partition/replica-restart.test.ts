import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HardStateStore } from '../../src/storage/hard-state.js';
import type { PartitionLog } from '../../src/storage/log.js';
import { BrokerRaft } from '../../src/partition/raft-groups.js';
import { ReplicaManager } from '../../src/partition/replica-manager.js';
import type { Partition } from '../../src/partition/partition.js';
import { buildRecordBatch } from '../../protocol/records/index.js';
import { systemClock } from '../../src/util/clock.js';
import { Random } from '../../src/util/random.js';
import { silentLogger } from '../../src/util/log.js';

function records(value: string): Buffer {
  return buildRecordBatch({ records: [{ key: null, value: Buffer.from(value), headers: [], timestamp: BigInt(Date.now()) }] });
}

test('a replica whose Raft group fails on a storage error is reopened from disk and serves again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftka-replica-restart-'));
  const hardState = await HardStateStore.open(join(dir, 'raft-state'));
  const raft = new BrokerRaft(1, hardState, systemClock, new Random(5), silentLogger, { tickMs: 20 }, () => { throw new Error('one broker sends nothing'); });
  let failFlush = false;
  // The log the Raft group writes through: its next flush fails once, as a full disk would.
  const faulty = (log: PartitionLog): PartitionLog => new Proxy(log, {
    get(target, prop) {
      if (prop === 'flush') {
        return () => {
          if (!failFlush) return target.flush();
          failFlush = false;
          return Promise.reject(new Error('ENOSPC: no space left on device (injected)'));
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const replicas = new ReplicaManager(dir, (groupId, log, voters, learners) => raft.create(groupId, faulty(log), voters, learners), silentLogger);
  const restarted = new Promise<Partition>((resolve) => { replicas.onRestarted = resolve; });
  try {
    const spec = { topic: 't', partition: 0, replicas: [1], logConfig: {}, partitionConfig: { maxMessageBytes: 1 << 20 } };
    const first = await replicas.open(spec);
    await first.waitForLeader();
    assert.equal((await first.append(records('before'), -1, 9)).baseOffset, 0n);

    failFlush = true;
    await assert.rejects(first.append(records('lost'), -1, 9), /ENOSPC/);
    assert.equal(replicas.get('t', 0), undefined, 'the failed replica is out of service');

    const second = await restarted;
    assert.notEqual(second, first);
    assert.equal(replicas.get('t', 0), second);
    await second.waitForLeader();
    const appended = await second.append(records('after'), -1, 9);
    assert.ok(appended.baseOffset >= 1n, `the acknowledged record at offset 0 is still there (next append at ${appended.baseOffset})`);
    const read = await second.read(0n, 1 << 20);
    assert.ok(read.records !== null && read.records.length > 0, 'offset 0 is readable after the restart');
    assert.equal(read.records.readBigInt64BE(0), 0n, 'the first batch is the one acknowledged before the failure');
  } finally {
    await replicas.close();
    await raft.close();
    await hardState.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
