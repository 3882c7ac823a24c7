import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, metadata } from '../../compat/harness.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import { LinkProxy, type Direction, type LinkMode } from './proxy.js';
import { inspectStuck, inspectorUrl, type StuckProcessView } from './inspect.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const HOST = '127.0.0.1';

/** Every broker process this test process started, killed by pid if the test process dies. */
const live = new Set<number>();
let exitHook = false;
function track(pid: number): void {
  live.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const p of live) {
      try { process.kill(p, 'SIGCONT'); } catch { /* gone */ }
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  });
}

export interface FaultClusterOptions {
  size: number;
  /** Where data directories and broker logs go (created; removed by destroy unless kept). */
  workDir: string;
  /** Extra RAFTKA_* environment for every broker. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** One broker process of the fault cluster (restartable with the same id, port and data). */
export class FaultBroker {
  pid = -1;
  paused = false;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private logFile: WriteStream | null = null;
  /** The last lines of output, kept in memory for failure messages. */
  private tail: string[] = [];
  incarnations = 0;

  constructor(readonly nodeId: number, readonly port: number, readonly dataDir: string, readonly logPath: string,
    private readonly args: string[], private readonly env: Record<string, string>, readonly reportDir: string) {}

  get running(): boolean { return this.child !== null; }

  async start(timeoutMs = 30_000): Promise<void> {
    if (this.child !== null) throw new Error(`broker ${this.nodeId} is running`);
    this.logFile ??= createWriteStream(this.logPath, { flags: 'a' });
    // SIGUSR2 writes a diagnostic report (handled in JavaScript: only while the event loop turns).
    // SIGUSR1 opens the inspector on a free port, even in a process that spins (inspect()).
    const nodeFlags = ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${this.reportDir}`, '--inspect-port=127.0.0.1:0'];
    const child = spawn(process.execPath, [...nodeFlags, CLI, ...this.args], {
      env: { ...process.env, RAFTKA_LOG_LEVEL: process.env.RAFTKA_LOG_LEVEL ?? 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`broker ${this.nodeId}: spawn failed`);
    const pid = child.pid;
    track(pid);
    this.pid = pid;
    this.paused = false;
    this.incarnations++;
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => {
      live.delete(pid);
      if (this.child === child) { this.child = null; this.paused = false; }
      resolve();
    }));
    const exited = this.exited;
    this.write(`{"faults":"start","incarnation":${this.incarnations},"pid":${pid},"time":${Date.now()}}\n`);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker ${this.nodeId} not ready after ${timeoutMs} ms`)), timeoutMs);
      let ready = false;
      child.stdout!.on('data', (c: Buffer) => {
        const s = c.toString();
        this.write(s);
        if (!ready) {
          seen += s;
          if (/ready on [^\s:]+:\d+/.test(seen)) { ready = true; clearTimeout(timer); resolve(); }
        }
      });
      child.stderr!.on('data', (c: Buffer) => this.write(c.toString()));
      exited.then(() => { clearTimeout(timer); if (!ready) reject(new Error(`broker ${this.nodeId} exited before it was ready`)); }, () => undefined);
    });
  }

  /** SIGKILL (resuming a paused process first is not needed: SIGKILL works on stopped processes). */
  async kill(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.write(`{"faults":"SIGKILL","time":${Date.now()}}\n`);
    c.kill('SIGKILL');
    await this.exited;
  }

  pause(): void {
    if (this.child === null || this.paused) return;
    this.write(`{"faults":"SIGSTOP","time":${Date.now()}}\n`);
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.child === null || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
    this.write(`{"faults":"SIGCONT","time":${Date.now()}}\n`);
  }

  /** Asks the process for a diagnostic report (SIGUSR2); returns its file name, or null when none came within 3 s. */
  async report(): Promise<string | null> {
    const c = this.child;
    if (c === null) return null;
    await mkdir(this.reportDir, { recursive: true });
    const before = new Set(await readdir(this.reportDir));
    c.kill('SIGUSR2');
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const fresh = (await readdir(this.reportDir)).filter((f) => !before.has(f));
      if (fresh.length > 0) { await new Promise((r) => setTimeout(r, 300)); return join(this.reportDir, fresh[0]!); }
    }
    return null;
  }

  /**
   * Where a broker that does not answer is: SIGUSR1 opens its inspector (even while it spins),
   * then paused stacks and a 1 s CPU profile (inspect.ts). Null when it is not running or the
   * inspector did not open within 5 s.
   */
  async inspect(): Promise<StuckProcessView | null> {
    const c = this.child;
    if (c === null || this.paused) return null;
    const from = this.tail.length;
    c.kill('SIGUSR1');
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const url = inspectorUrl(this.tail.slice(Math.max(0, from - 5)).join('\n'));
      if (url !== null) return inspectStuck(url);
    }
    return null;
  }

  /** The last `n` lines of output (all incarnations). */
  lastLines(n = 40): string[] { return this.tail.slice(-n); }

  async closeLog(): Promise<void> {
    const f = this.logFile;
    this.logFile = null;
    if (f !== null) await new Promise<void>((resolve) => f.end(() => resolve()));
  }

  private write(s: string): void {
    this.logFile?.write(s);
    for (const line of s.split('\n')) if (line !== '') this.tail.push(line);
    if (this.tail.length > 400) this.tail.splice(0, this.tail.length - 200);
  }
}

/**
 * A cluster of broker processes on loopback where every broker-to-broker link i->j goes through
 * its own proxy: broker i's bootstrap list names the proxy i->j as broker j's address (its own
 * entry is its real port), so cutting proxy i->j silences what i sends to j (requests and Raft
 * envelopes) and the answers to them. Clients reach broker i through proxy c->i too: broker i
 * advertises that proxy's port (advertised.listeners), so the workload's clients, which
 * bootstrap from the client proxies, never learn a real port; the harness itself (metadata for
 * the nemesis, diagnosis) uses the real ports, so a client partition never blinds it.
 */
export class FaultCluster {
  private constructor(readonly brokers: FaultBroker[], private readonly proxies: Map<string, LinkProxy>,
    private readonly clientProxies: Map<number, LinkProxy>, readonly workDir: string) {}

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const { size, workDir } = options;
    await mkdir(workDir, { recursive: true });
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const ports = await Promise.all(ids.map(() => freePort()));
    const proxies = new Map<string, LinkProxy>();
    for (const i of ids) {
      for (const j of ids) {
        if (i === j) continue;
        const p = new LinkProxy(`${i}->${j}`, HOST, ports[j - 1]!);
        await p.listen();
        proxies.set(`${i}->${j}`, p);
      }
    }
    const clientProxies = new Map<number, LinkProxy>();
    for (const i of ids) {
      const p = new LinkProxy(`c->${i}`, HOST, ports[i - 1]!);
      await p.listen();
      clientProxies.set(i, p);
    }
    const env = { RAFTKA_CLUSTER_ID: 'raftka-faults', ...options.env };
    const brokers = ids.map((i) => {
      const bootstrap = ids.map((j) => `${j}@${HOST}:${i === j ? ports[j - 1] : proxies.get(`${i}->${j}`)!.port}`).join(',');
      const dataDir = join(workDir, `broker-${i}`);
      return new FaultBroker(i, ports[i - 1]!, dataDir, join(workDir, `broker-${i}.log`),
        ['broker', '--node-id', String(i), '--port', String(ports[i - 1]), '--data-dir', dataDir, '--bootstrap', bootstrap],
        { ...env, RAFTKA_ADVERTISED_LISTENERS: `PLAINTEXT://${HOST}:${clientProxies.get(i)!.port}` },
        join(workDir, `reports-${i}`));
    });
    const cluster = new FaultCluster(brokers, proxies, clientProxies, workDir);
    try {
      await Promise.all(brokers.map((b) => b.start(options.readyTimeoutMs ?? 60_000)));
    } catch (err) {
      await cluster.destroy(true);
      throw err;
    }
    return cluster;
  }

  get ids(): number[] { return this.brokers.map((b) => b.nodeId); }
  /** What clients bootstrap from: the client proxies (each broker advertises its own). */
  get bootstrapList(): string[] { return this.brokers.map((b) => `${HOST}:${this.clientProxy(b.nodeId).port}`); }

  /** The real ports, bypassing the client proxies (for the harness, never cut). */
  get directBootstrapList(): string[] { return this.brokers.map((b) => `${HOST}:${b.port}`); }

  clientProxy(id: number): LinkProxy {
    const p = this.clientProxies.get(id);
    if (p === undefined) throw new Error(`no client link to ${id}`);
    return p;
  }

  /** Bytes the client proxies forwarded (both directions, all brokers): proof that clients went through them. */
  clientBytes(): number {
    let n = 0;
    for (const p of this.clientProxies.values()) n += p.stats.forwarded.forward + p.stats.forwarded.backward;
    return n;
  }

  /** Cuts (or black-holes) both directions between every client and each broker of `ids`. */
  partitionClients(ids: number[], mode: Exclude<LinkMode, 'pass'> = 'cut'): void {
    for (const id of ids) this.clientProxy(id).set('both', mode);
  }

  broker(id: number): FaultBroker {
    const b = this.brokers[id - 1];
    if (b === undefined) throw new Error(`no broker ${id}`);
    return b;
  }

  proxy(from: number, to: number): LinkProxy {
    const p = this.proxies.get(`${from}->${to}`);
    if (p === undefined) throw new Error(`no link ${from}->${to}`);
    return p;
  }

  /**
   * Sets what happens to traffic sent by `from` to `to`: the forward direction of proxy from->to
   * (from's requests and envelopes) and the backward direction of proxy to->from (from's answers
   * to to's requests).
   */
  setOneWay(from: number, to: number, mode: LinkMode, delayMs = 0): void {
    this.proxy(from, to).set('forward' as Direction, mode, delayMs);
    this.proxy(to, from).set('backward' as Direction, mode, delayMs);
  }

  /** Cuts (or black-holes) both directions between every node of `a` and every node of `b`. */
  partition(a: number[], b: number[], mode: Exclude<LinkMode, 'pass'> = 'cut'): void {
    for (const x of a) for (const y of b) { this.setOneWay(x, y, mode); this.setOneWay(y, x, mode); }
  }

  /** Slows every link by `delayMs` each way. */
  delayAll(delayMs: number): void {
    for (const p of this.allProxies()) p.set('both', 'pass', delayMs);
  }

  healNetwork(): void { for (const p of this.allProxies()) p.heal(); }

  /** Links that are not plain pass-through, for the report. */
  networkState(): string {
    return this.allProxies().filter((p) => p.describe() !== 'pass').map((p) => `${p.name}: ${p.describe()}`).join(', ');
  }

  private allProxies(): LinkProxy[] { return [...this.proxies.values(), ...this.clientProxies.values()]; }

  /** Heals the network, resumes paused brokers and starts stopped ones. */
  async healAll(): Promise<void> {
    this.healNetwork();
    for (const b of this.brokers) b.resume();
    await Promise.all(this.brokers.filter((b) => !b.running).map((b) => b.start(60_000)));
  }

  /** Metadata from the first running, unpaused broker that answers (null when none does). */
  async metadata(topics: string[] | null, timeoutMs = 3000): Promise<MetadataResponse | null> {
    for (const b of this.brokers) {
      if (!b.running || b.paused) continue;
      try {
        return await withTimeout(metadata(b.port, topics), timeoutMs);
      } catch { /* next broker */ }
    }
    return null;
  }

  /** Broker log lines (pino JSON with a `time` field) within `windowMs` of `at`, for every broker. */
  async logsAround(at: number, windowMs = 3000, maxLines = 60): Promise<string> {
    const out: string[] = [];
    for (const b of this.brokers) {
      let text = '';
      try { text = await readFile(b.logPath, 'utf8'); } catch { /* no log */ }
      const lines = text.split('\n').filter((line) => {
        const m = /"time":(\d+)/.exec(line);
        return m !== null && Math.abs(Number(m[1]) - at) <= windowMs;
      });
      out.push(`--- broker ${b.nodeId} (${b.logPath}), ${lines.length} lines within ${windowMs} ms of ${new Date(at).toISOString()} ---`);
      out.push(...lines.slice(-maxLines));
    }
    return out.join('\n');
  }

  /** Broker log lines at pino level fatal (60) or above, from every broker and incarnation. */
  async fatalLines(): Promise<{ nodeId: number; line: string }[]> {
    const out: { nodeId: number; line: string }[] = [];
    for (const b of this.brokers) {
      let text = '';
      try { text = await readFile(b.logPath, 'utf8'); } catch { /* no log */ }
      for (const line of text.split('\n')) if (/"level":(6\d|[7-9]\d)/.test(line)) out.push({ nodeId: b.nodeId, line });
    }
    return out;
  }

  /**
   * For a run that got stuck: which running brokers do not answer Metadata within 3 s (a paused
   * one, or an event loop that is blocked), with the JavaScript stack from a diagnostic report (if its
   * event loop still turns) and from its inspector (even if it spins).
   */
  async diagnose(): Promise<string> {
    const out: string[] = [];
    for (const b of this.brokers) {
      if (!b.running) { out.push(`broker ${b.nodeId}: not running`); continue; }
      if (b.paused) { out.push(`broker ${b.nodeId}: paused`); continue; }
      try {
        const md = await withTimeout(metadata(b.port, []), 3000, 'Metadata');
        out.push(`broker ${b.nodeId}: answers (controller ${md.controllerId}, brokers [${md.brokers.map((x) => x.nodeId).join(',')}])`);
      } catch (err) {
        const file = await b.report();
        let stack = '';
        if (file !== null) {
          try {
            const report = JSON.parse(await readFile(file, 'utf8')) as { javascriptStack?: { message?: string; stack?: string[] } };
            stack = [report.javascriptStack?.message ?? '', ...(report.javascriptStack?.stack ?? []).slice(0, 25)].join('\n      ');
          } catch { /* unreadable report */ }
        }
        let inspected = '';
        try {
          const view = await b.inspect();
          if (view !== null) {
            inspected = `\n    inspector (paused stacks, then a 1 s CPU profile):\n${view.stacks.map((st, i) => `      sample ${i + 1}: ${st.frames.slice(0, 8).join(' <- ')}`).join('\n')}`
              + `\n${view.profile.map((p) => `      ${String(p.percent).padStart(5)}%  ${p.where}`).join('\n')}`;
          }
        } catch (e) { inspected = `\n    inspector failed: ${(e as Error).message}`; }
        out.push(`broker ${b.nodeId} (pid ${b.pid}): no Metadata answer within 3 s (${(err as Error).message}); diagnostic report ${file ?? 'none'}${stack !== '' ? `\n    JavaScript stack:\n      ${stack}` : ''}${inspected}`);
      }
    }
    return out.join('\n');
  }

  async destroy(removeData: boolean): Promise<void> {
    for (const b of this.brokers) b.resume();
    await Promise.all(this.brokers.map((b) => b.kill()));
    await Promise.all(this.allProxies().map((p) => p.close()));
    await Promise.all(this.brokers.map((b) => b.closeLog()));
    if (removeData) await rm(this.workDir, { recursive: true, force: true });
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e as Error); });
  });
}
