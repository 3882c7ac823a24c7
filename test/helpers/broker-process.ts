import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface BrokerProcess {
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the broker wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

export async function makeDataDir(prefix = 'raftka-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Starts `raftka start` as a child process on a free port (port 0) and resolves once it printed
 * its ready line. The child is killed by pid when this test process exits, whatever happens.
 */
export function startBroker(options: { dataDir: string; nodeId?: number; port?: number; env?: Record<string, string>; args?: string[] }): Promise<BrokerProcess> {
  const args = [CLI, 'start', '--port', String(options.port ?? 0), '--data-dir', options.dataDir, '--node-id', String(options.nodeId ?? 1), ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, RAFTKA_LOG_LEVEL: process.env.RAFTKA_LOG_LEVEL ?? 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const killOnExit = (): void => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } };
  process.once('exit', killOnExit);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { process.off('exit', killOnExit); resolve(code); }));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /ready on [^\s:]+:(\d+)/.exec(out);
      if (m !== null) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
        resolve({
          port: Number(m[1]), pid, dataDir: options.dataDir, child,
          output: () => out,
          stop: async () => { child.kill('SIGTERM'); return exited; },
          kill: async () => { child.kill('SIGKILL'); await exited; },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
    exited.then((code) => reject(new Error(`broker exited with ${code} before it was ready:\n${out}`)), () => undefined);
  });
}
