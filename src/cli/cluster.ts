import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KafkaClient } from './client/client.js';

export const CLUSTER_USAGE = `Usage: raftka cluster --brokers N [options]

Runs N broker processes on one machine: ports base..base+N-1 (or --ports), node ids
first..first+N-1, data in <data-dir>/broker-<id> (each broker's log in
<data-dir>/broker-<id>/broker.log). The controller
quorum is the first 3 brokers (the first one when N < 3); the others follow the metadata log.

  --brokers N          number of brokers (required)
  --base-port P        first listener port (default 9092)
  --ports LIST         every broker's listener port, comma-separated (instead of --base-port;
                       e.g. 9092,9095,9098, the ports kafkajs's integration suite expects)
  --host HOST          every broker's listener and advertised host (default 127.0.0.1; e.g.
                       localhost, the name kafkajs's integration suite expects in Metadata)
  --data-dir DIR       parent data directory (default ./data)
  --first-node-id ID   node id of the first broker (default 1)
  --config FILE        a server.properties file passed to every broker
  --set key=value      a broker setting for every broker (repeatable)
  --metrics-port P     Prometheus /metrics and /health of broker i on port P+i (default: off)
  --restart            restart a broker that dies (default: leave it down)

Prints "broker <id> pid <pid> port <port>" per broker, then "cluster ready" once Metadata from every
broker lists all N brokers and a live controller. SIGINT or SIGTERM stops every broker.
`;

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

interface Member { nodeId: number; port: number; metricsPort: number | null; dataDir: string; child: ChildProcess | null; stopping: boolean }

export async function runCluster(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string' }, 'base-port': { type: 'string' }, ports: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' },
      'first-node-id': { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true },
      'metrics-port': { type: 'string' }, restart: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) { process.stdout.write(CLUSTER_USAGE); return; }
  const int = (name: string, v: string | undefined, def?: number): number => {
    if (v === undefined) {
      if (def === undefined) throw new Error(`--${name} is required`);
      return def;
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  const count = int('brokers', values.brokers);
  if (count < 1) throw new Error(`--brokers must be at least 1, got ${count}`);
  const basePort = int('base-port', values['base-port'], 9092);
  const ports = values.ports === undefined ? undefined : values.ports.split(',').map((p) => int('ports', p.trim()));
  if (ports !== undefined) {
    if (values['base-port'] !== undefined) throw new Error('--ports and --base-port exclude each other');
    if (ports.length !== count) throw new Error(`--ports lists ${ports.length} ports for ${count} brokers`);
    if (new Set(ports).size !== ports.length || ports.includes(0)) throw new Error(`--ports must be distinct non-zero ports, got ${values.ports}`);
  }
  const firstId = int('first-node-id', values['first-node-id'], 1);
  const metricsBase = values['metrics-port'] === undefined ? null : int('metrics-port', values['metrics-port']);
  const dataDir = resolve(values['data-dir'] ?? './data');
  const env: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--set expects key=value, got ${kv}`);
    env[`RAFTKA_${kv.slice(0, eq).toUpperCase().replaceAll('.', '_')}`] = kv.slice(eq + 1);
  }
  const members: Member[] = Array.from({ length: count }, (_, i) => ({
    nodeId: firstId + i, port: ports?.[i] ?? basePort + i, metricsPort: metricsBase === null ? null : metricsBase + i, dataDir: join(dataDir, `broker-${firstId + i}`), child: null, stopping: false,
  }));
  const host = values.host ?? '127.0.0.1';
  if (!/^[^:@,\s]+$/.test(host)) throw new Error(`--host must be a host name or IPv4 address, got ${host}`);
  const bootstrap = members.map((m) => `${m.nodeId}@${host}:${m.port}`).join(',');

  const startMember = (m: Member): void => {
    mkdirSync(m.dataDir, { recursive: true });
    const logFd = openSync(join(m.dataDir, 'broker.log'), 'a');
    const args = [CLI, 'broker', '--node-id', String(m.nodeId), '--port', String(m.port), '--data-dir', m.dataDir, '--bootstrap', bootstrap];
    if (values.host !== undefined) args.push('--host', values.host);
    if (values.config !== undefined) args.push('--config', values.config);
    if (m.metricsPort !== null) args.push('--metrics-port', String(m.metricsPort));
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    m.child = child;
    process.stdout.write(`broker ${m.nodeId} pid ${child.pid} port ${m.port}\n`);
    if (m.metricsPort !== null) process.stdout.write(`broker ${m.nodeId} metrics http://${host}:${m.metricsPort}/metrics\n`);
    child.once('exit', (code, signal) => {
      m.child = null;
      if (m.stopping) return;
      process.stdout.write(`broker ${m.nodeId} exited (${signal ?? `code ${code}`})\n`);
      if (values.restart === true) startMember(m);
    });
  };
  members.forEach(startMember);

  let stopping = false;
  const stopAll = (): void => {
    if (stopping) return;
    stopping = true;
    const live = members.filter((m) => m.child !== null);
    let left = live.length;
    if (left === 0) process.exit(0);
    for (const m of live) {
      m.stopping = true;
      const force = setTimeout(() => m.child?.kill('SIGKILL'), 15000);
      m.child!.once('exit', () => { clearTimeout(force); if (--left === 0) process.exit(0); });
      m.child!.kill('SIGTERM');
    }
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);

  await waitUntilReady(members, count, host);
  if (!stopping) process.stdout.write('cluster ready\n');
}

/** Every broker answers Metadata listing all brokers and a live controller. */
async function waitUntilReady(members: Member[], count: number, host: string): Promise<void> {
  for (const m of members) {
    for (;;) {
      try {
        const client = await KafkaClient.connect(`${host}:${m.port}`, { requestTimeoutMs: 5000 });
        try {
          const md = await client.metadata([]);
          if (md.brokers.size === count && md.brokers.has(md.controllerId)) break;
        } finally {
          client.close();
        }
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
