import { spawn } from 'node:child_process';

export interface RunResult { code: number | null; stdout: string; stderr: string; }

/**
 * Runs a client program to completion, feeding `input` on stdin. Killed (by its own pid) after
 * `timeoutMs`, and when this test process exits.
 */
export function run(command: string, args: string[], input: string, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const pid = child.pid;
    const killOnExit = (): void => { if (pid !== undefined) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } };
    process.once('exit', killOnExit);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => { err.push(Buffer.from(`\n[killed after ${timeoutMs} ms]`)); child.kill('SIGKILL'); }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); process.off('exit', killOnExit); reject(e); });
    child.once('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    child.stdin.end(input);
  });
}

/** The last `n` lines of `text` (for failure messages). */
export function tail(text: string, n = 20): string {
  return text.split('\n').slice(-n).join('\n');
}
