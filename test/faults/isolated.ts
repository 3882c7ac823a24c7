import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectStuck, inspectorUrl, type ProfileEntry, type StackSample } from './inspect.js';
import type { RunOptions, RunReport } from './runner.js';
import type { ChildMessage, ParentMessage } from './run-child.js';

const CHILD = fileURLToPath(new URL('./run-child.js', import.meta.url));

export interface IsolatedRunOptions extends Omit<RunOptions, 'say'> {
  say?: (line: string) => void;
  /** The run's process sent no heartbeat for this long: its event loop is stuck (default 30 s). */
  stallMs?: number;
  /** The whole run must end within this (default: its fault time plus 10 minutes). */
  deadlineMs?: number;
  /** Test hook: the child spins in a microtask loop instead of running (to test this watchdog). */
  simulateSpin?: boolean;
}

/** A fault run whose process got stuck (stopped answering, or overran its deadline) and was killed. */
export class StuckRunError extends Error {
  constructor(message: string, readonly seed: number, readonly workDir: string, readonly stacks: StackSample[], readonly profile: ProfileEntry[]) {
    super(message);
    this.name = 'StuckRunError';
  }
}

/**
 * Runs `runFaults` in a child process (its own process group, with the brokers it starts) and
 * watches it: when the child sends no heartbeat for `stallMs` (an event loop that never gets back
 * to its timers: a client library spinning in microtasks, a synchronous loop), or the run
 * overruns `deadlineMs`, it takes the child's JavaScript stack through the inspector (SIGUSR1,
 * which works on a spinning process), kills the whole group and rejects with a StuckRunError
 * naming the seed, the stacks and the CPU time of every process of the run (brokers included).
 * A run that fails normally rejects with its own error; a finished run resolves with its report.
 */
export function runFaultsIsolated(options: IsolatedRunOptions): Promise<RunReport> {
  const { say = (): void => undefined, stallMs = 30_000, deadlineMs: deadlineOpt, simulateSpin = false, ...rest } = options;
  const deadlineMs = deadlineOpt ?? rest.timeSec * 1000 + 10 * 60_000;
  // The work directory is chosen here so a killed run can still name it.
  const workDir = rest.workDir ?? join(tmpdir(), `raftka-faults-${rest.seed}-${process.pid}-${Date.now()}`);
  const runOptions: Omit<RunOptions, 'say'> = { ...rest, workDir };
  const child = spawn(process.execPath, ['--inspect-port=127.0.0.1:0', CHILD], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced',
  });
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error('could not start the fault run process'));
  // If this process exits first (a test runner's force exit), the run and its brokers go with it.
  const killGroup = (): void => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killGroup);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-20_000); });
  child.stdout!.on('data', (c: Buffer) => { for (const line of c.toString().split('\n')) if (line !== '') say(line); });

  return new Promise<RunReport>((resolve, reject) => {
    const started = Date.now();
    let lastBeat = Date.now();
    let settled = false;
    let report: RunReport | null = null;
    let failure: string | null = null;
    let killing = false;
    const finish = (err: Error | null): void => {
      if (settled || (killing && err === null)) return;
      settled = true;
      clearInterval(watchdog);
      process.off('exit', killGroup);
      if (err !== null) reject(err);
      else if (report !== null) resolve(report);
      else reject(new Error(failure ?? `seed ${rest.seed}: the fault run's process exited without a report\n${stderr.slice(-4000)}`));
    };
    child.on('message', (m: ChildMessage) => {
      lastBeat = Date.now();
      if (m.type === 'say') say(m.line);
      else if (m.type === 'done') report = m.report;
      else if (m.type === 'failed') failure = m.message;
    });
    let onClosed = (): void => undefined;
    const closed = new Promise<void>((r) => { onClosed = r; });
    child.once('close', () => {
      onClosed();
      if (report === null && failure === null) killGroup(); // brokers of a child that died go too
      finish(null);
    });
    child.once('error', (e) => { killGroup(); finish(e); });
    const watchdog = setInterval(() => {
      const now = Date.now();
      const stalled = now - lastBeat > stallMs;
      if (!stalled && now - started <= deadlineMs) return;
      clearInterval(watchdog);
      killing = true;
      const why = stalled
        ? `no heartbeat for ${Math.round((now - lastBeat) / 1000)} s: its event loop is stuck (a loop that never yields to timers or I/O)`
        : `the run overran its ${Math.round(deadlineMs / 1000)} s deadline`;
      void stuck(pid, () => stderr).then(async ({ stacks, profile, processes, stackError }) => {
        killGroup();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
        const stackText = stacks.length > 0
          ? [...stacks.map((s, i) => `  sample ${i + 1}:\n${s.frames.slice(0, 25).map((f) => `    at ${f}`).join('\n')}`),
            '  CPU profile over 1 s (self time):', ...profile.map((p) => `    ${String(p.percent).padStart(5)}%  ${p.where}`)].join('\n')
          : `  (no stack: ${stackError})`;
        finish(new StuckRunError(
          `seed ${rest.seed}: the fault run's process (pid ${pid}) was killed: ${why}\n`
          + `JavaScript stack of the stuck process (inspector pauses, then a CPU profile):\n${stackText}\n`
          + `processes of the run (CPU time, elapsed) just before the kill:\n${processes}\n`
          + `data and broker logs kept in ${workDir}`,
          rest.seed, workDir, stacks, profile));
      });
    }, 1000);
    const start: ParentMessage = { type: 'run', options: runOptions, simulateSpin };
    child.send(start);
  });
}

/** The stuck child's stacks (through its inspector) and the processes of its group. */
async function stuck(pid: number, stderr: () => string): Promise<{ stacks: StackSample[]; profile: ProfileEntry[]; processes: string; stackError: string }> {
  const ps = spawnSync('ps', ['-e', '-o', 'pgid=,pid=,pcpu=,time=,etime=,stat=,args='], { encoding: 'utf8' });
  const processes = ['  pid %cpu cputime elapsed stat command', ...(ps.stdout ?? '').split('\n')
    .filter((l) => l.trim().split(/\s+/)[0] === String(pid))
    .map((l) => `  ${l.trim().split(/\s+/).slice(1).join(' ').slice(0, 220)}`)].join('\n');
  let stacks: StackSample[] = [];
  let profile: ProfileEntry[] = [];
  let stackError = '';
  try {
    process.kill(pid, 'SIGUSR1'); // opens the inspector (on --inspect-port), even in a busy loop
    let url: string | null = null;
    for (let i = 0; i < 50 && url === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      url = inspectorUrl(stderr());
    }
    if (url === null) throw new Error('the inspector did not open within 5 s');
    ({ stacks, profile } = await inspectStuck(url));
  } catch (err) {
    stackError = (err as Error).message;
  }
  return { stacks, profile, processes, stackError };
}
