import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { makeDataDir, removeDataDir } from '../helpers/broker-process.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Three consecutive free ports (the cluster command uses base..base+N-1). */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers = [];
    try {
      for (let i = 0; i < n; i++) {
        const s = createServer();
        await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(base + i, '127.0.0.1', resolve); });
        servers.push(s);
      }
      return base;
    } catch {
      // taken: try another range
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  }
}

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('raftka cluster', () => {
  let child: ChildProcess | undefined;
  let dataDir = '';
  const pids: number[] = [];
  after(async () => {
    child?.kill('SIGKILL');
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (dataDir !== '') await removeDataDir(dataDir);
  });

  it('starts three brokers, says so Kafka-style, serves a replicated topic and metrics per broker, and stops every broker on SIGTERM', async () => {
    dataDir = await makeDataDir('raftka-cluster-cmd-');
    // --ports with gaps and --host localhost, the way kafkajs's own integration suite wants its
    // brokers (localhost:9092, :9095, :9098); the ports between stay free
    const base = await freeRange(5);
    const ports = [base, base + 2, base + 4];
    let metricsBase = await freeRange(3);
    while (Math.abs(metricsBase - base) < 5) metricsBase = await freeRange(3);
    child = spawn(process.execPath, [CLI, 'cluster', '--brokers', '3', '--ports', ports.join(','), '--host', 'localhost', '--data-dir', dataDir, '--set', 'num.partitions=2', '--metrics-port', String(metricsBase)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTKA_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('cluster ready\n')) resolve(); });
      child!.once('exit', (code) => reject(new Error(`cluster exited with ${code}:\n${out}`)));
    });
    const lines = out.split('\n').filter((l) => /^broker \d+ pid /.test(l));
    assert.equal(lines.length, 3, out);
    lines.forEach((line, i) => {
      const m = /^broker (\d+) pid (\d+) port (\d+)$/.exec(line);
      assert.ok(m !== null, line);
      assert.equal(Number(m[1]), i + 1);
      assert.equal(Number(m[3]), ports[i]);
      pids.push(Number(m[2]));
    });

    const kafka = new Kafka({ clientId: 'cluster-cmd', brokers: [`localhost:${ports[1]}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic: 'cmd', numPartitions: 3, replicationFactor: 3 }] }), true);
    const md = await admin.fetchTopicMetadata({ topics: ['cmd'] });
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => [b.nodeId, b.host, b.port]).sort(), [[1, 'localhost', ports[0]], [2, 'localhost', ports[1]], [3, 'localhost', ports[2]]]);
    await admin.disconnect();
    for (const p of md.topics[0]!.partitions) assert.equal(p.leader, p.replicas[0]);
    // --metrics-port: broker i serves Prometheus metrics on metricsBase+i, each its own partitions.
    for (let i = 0; i < 3; i++) {
      const url = `http://localhost:${metricsBase + i}/metrics`;
      assert.ok(out.includes(`broker ${i + 1} metrics ${url}\n`), out);
      const text = await (await fetch(url)).text();
      const hosted = /^raftka_partitions (\d+)$/m.exec(text);
      assert.ok(hosted !== null, text);
      assert.ok(Number(hosted[1]) >= 3, `broker ${i + 1} hosts ${hosted[1]} replicas, expected the 3 of 'cmd' at least`);
    }
    // the --set value reached the brokers: auto-created topics get num.partitions=2
    const producer = kafka.producer({ retry: { retries: 2 } });
    await producer.connect();
    await producer.send({ topic: 'auto', acks: -1, messages: [{ value: 'x' }] });
    await producer.disconnect();
    const admin2 = kafka.admin();
    await admin2.connect();
    assert.equal((await admin2.fetchTopicMetadata({ topics: ['auto'] })).topics[0]!.partitions.length, 2);
    await admin2.disconnect();

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `broker pid ${pid} still running`);
  });

  it('refuses --ports that do not fit the cluster', async () => {
    const run = (args: string[]): Promise<{ code: number | null; err: string }> => new Promise((resolve) => {
      const c = spawn(process.execPath, [CLI, 'cluster', '--brokers', '3', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
      c.once('exit', (code) => resolve({ code, err }));
    });
    const few = await run(['--ports', '9092,9095']);
    assert.equal(few.code, 1);
    assert.match(few.err, /--ports lists 2 ports for 3 brokers/);
    const both = await run(['--ports', '9092,9095,9098', '--base-port', '9092']);
    assert.match(both.err, /--ports and --base-port exclude each other/);
    const dup = await run(['--ports', '9092,9092,9098']);
    assert.match(dup.err, /distinct/);
  });
});
