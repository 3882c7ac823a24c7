import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeDataDir, removeDataDir } from '../test/helpers/broker-process.js';
import { RawClient } from '../test/helpers/raw-client.js';
import type { MetadataResponse } from '../protocol/generated/metadata.js';

/** How many broker processes each compat cluster runs (RAFTKA_COMPAT_BROKERS=1 for a single broker). */
export const CLUSTER_SIZE = Number(process.env.RAFTKA_COMPAT_BROKERS ?? 3);

/** The broker CLI; RAFTKA_COMPAT_CLI points the suite at another build (e.g. a clean checkout's). */
const CLI = process.env.RAFTKA_COMPAT_CLI ?? fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const HOST = '127.0.0.1';

export interface ClusterBroker {
  readonly nodeId: number;
  readonly dataDir: string;
  /** The listener port (stable across restarts). */
  port: number;
  /** The pid of the running process (changes on restart). */
  pid: number;
  /** Everything this broker process wrote (all incarnations), for failure messages. */
  output(): string;
  readonly running: boolean;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** Start the same broker again (same node id, port and data directory) and wait for ready. */
  restart(): Promise<void>;
}

export interface Cluster {
  readonly brokers: ClusterBroker[];
  /** "host:port,host:port,..." for clients. */
  readonly bootstrap: string;
  readonly bootstrapList: string[];
  /** The replication factor the suite uses for its topics: min(3, size). */
  readonly replicationFactor: number;
  broker(nodeId: number): ClusterBroker;
  /** Resolves once Metadata from every running broker lists all brokers and a controller. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The last lines of every broker's output (for assertion messages). */
  logs(): string;
  /** Kills every broker by pid and removes the data directories. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** Number of broker processes (default CLUSTER_SIZE). */
  size?: number;
  firstNodeId?: number;
  /** Kafka server.properties keys passed to every broker (as RAFTKA_ environment variables). */
  config?: Record<string, string | number | boolean>;
  readyTimeoutMs?: number;
}

/**
 * A port that was free a moment ago (for the static --bootstrap list of a multi-broker cluster).
 * Chosen at random below the kernel's ephemeral range (ip_local_port_range): a port the kernel
 * hands out itself (listen on 0) can be taken again by any outgoing connection on the machine
 * before the broker binds it (EADDRINUSE), while ports below that range are only ever taken by
 * an explicit bind.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  for (let attempt = 0; attempt < 50 && below > 11_000; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (await canListen(port)) return port;
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, HOST, resolve); });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The first port of the kernel's ephemeral range (32768 on Linux by default; 0 where unknown). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) ? first : 0;
  } catch {
    return 0;
  }
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function envFromConfig(config: Record<string, string | number | boolean>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) env[`RAFTKA_${k.toUpperCase().replace(/\./g, '_')}`] = String(v);
  return env;
}

const live = new Set<number>();
let exitHookInstalled = false;
function trackPid(pid: number): void {
  live.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Whatever happens to the test process (failure, uncaught error), no broker outlives it.
    process.once('exit', () => { for (const p of live) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } });
  }
}

interface Incarnation { child: ChildProcess; exited: Promise<void>; }

class BrokerHandle implements ClusterBroker {
  pid = -1;
  private out = '';
  private current: Incarnation | null = null;

  constructor(readonly nodeId: number, readonly dataDir: string, public port: number,
    private readonly argsFor: (port: number) => string[], private readonly env: Record<string, string>) {}

  get running(): boolean { return this.current !== null; }
  output(): string { return this.out; }

  async start(timeoutMs: number): Promise<void> {
    const child = spawn(process.execPath, [CLI, ...this.argsFor(this.port)], {
      env: { ...process.env, RAFTKA_LOG_LEVEL: process.env.RAFTKA_LOG_LEVEL ?? 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`broker ${this.nodeId}: spawn failed`);
    const pid = child.pid;
    trackPid(pid);
    this.pid = pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(pid); if (this.current?.child === child) this.current = null; resolve(); }));
    this.current = { child, exited };
    const mark = this.out.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker ${this.nodeId} not ready after ${timeoutMs} ms:\n${this.out.slice(mark)}`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        this.out += chunk.toString();
        const m = /ready on [^\s:]+:(\d+)/.exec(this.out.slice(mark));
        if (m !== null) { clearTimeout(timer); this.port = Number(m[1]); resolve(); }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c: Buffer) => { this.out += c.toString(); });
      exited.then(() => { clearTimeout(timer); reject(new Error(`broker ${this.nodeId} exited before it was ready:\n${this.out.slice(mark)}`)); }, () => undefined);
    });
  }

  async kill(): Promise<void> {
    const c = this.current;
    if (c === null) return;
    c.child.kill('SIGKILL');
    await c.exited;
  }

  async stop(graceMs = 10_000): Promise<void> {
    const c = this.current;
    if (c === null) return;
    c.child.kill('SIGTERM');
    const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
    await c.exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    if (this.current !== null) throw new Error(`broker ${this.nodeId} is still running`);
    await this.start(30_000);
  }
}

/**
 * Starts `size` broker processes with fresh data directories on free ports and waits until the
 * cluster serves. One broker runs `raftka start`; several run `raftka broker --bootstrap ...`.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const size = options.size ?? CLUSTER_SIZE;
  const firstNodeId = options.firstNodeId ?? 1;
  const replicationFactor = Math.min(3, size);
  const env = envFromConfig({
    'num.partitions': 3, 'default.replication.factor': replicationFactor, 'auto.create.topics.enable': true, ...options.config,
  });
  const ids = Array.from({ length: size }, (_, i) => firstNodeId + i);
  const dirs = await Promise.all(ids.map((id) => makeDataDir(`raftka-compat-${id}-`)));
  const handles: BrokerHandle[] = [];
  if (size === 1) {
    handles.push(new BrokerHandle(ids[0]!, dirs[0]!, 0, (port) => ['start', '--port', String(port), '--data-dir', dirs[0]!, '--node-id', String(ids[0])], env));
  } else {
    const ports = await Promise.all(ids.map(() => freePort()));
    const bootstrapArg = ids.map((id, i) => `${id}@${HOST}:${ports[i]}`).join(',');
    ids.forEach((id, i) => handles.push(new BrokerHandle(id, dirs[i]!, ports[i]!,
      (port) => ['broker', '--node-id', String(id), '--port', String(port), '--data-dir', dirs[i]!, '--bootstrap', bootstrapArg], env)));
  }
  const cluster = new ClusterImpl(handles, replicationFactor);
  try {
    const timeout = options.readyTimeoutMs ?? 30_000;
    await Promise.all(handles.map((h) => h.start(timeout)));
    await cluster.waitReady(timeout);
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}

class ClusterImpl implements Cluster {
  constructor(readonly brokers: BrokerHandle[], readonly replicationFactor: number) {}

  get bootstrapList(): string[] { return this.brokers.map((b) => `${HOST}:${b.port}`); }
  get bootstrap(): string { return this.bootstrapList.join(','); }

  broker(nodeId: number): ClusterBroker {
    const b = this.brokers.find((x) => x.nodeId === nodeId);
    if (b === undefined) throw new Error(`no broker ${nodeId}`);
    return b;
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (const b of this.brokers.filter((x) => x.running)) {
      for (;;) {
        try {
          const md = await metadata(b.port, []);
          if (md.brokers.length === this.brokers.length && md.controllerId >= 0) break;
          last = `broker ${b.nodeId} lists brokers [${md.brokers.map((x) => x.nodeId).join(',')}], controller ${md.controllerId}`;
        } catch (err) {
          last = `broker ${b.nodeId}: ${(err as Error).message}`;
        }
        if (Date.now() > deadline) throw new Error(`cluster not ready after ${timeoutMs} ms: ${last}\n${this.logs()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  logs(): string {
    return this.brokers.map((b) => `--- broker ${b.nodeId} (pid ${b.pid}) ---\n${b.output().split('\n').slice(-30).join('\n')}`).join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.kill()));
    await Promise.all(this.brokers.map((b) => removeDataDir(b.dataDir)));
  }
}

/** One Metadata v12 request on a fresh connection (the suite's reference view of the cluster). */
export async function metadata(port: number, topics: string[] | null, allowAutoTopicCreation = false): Promise<MetadataResponse> {
  const client = await RawClient.connect(port);
  try {
    client.send(3, 12, {
      topics: topics === null ? null : topics.map((name) => ({ topicId: '00000000-0000-0000-0000-000000000000', name })),
      allowAutoTopicCreation, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    });
    return (await client.receive()).body as MetadataResponse;
  } finally {
    client.close();
  }
}
