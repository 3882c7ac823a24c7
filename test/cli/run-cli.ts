import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run { code: number | null; stdout: string; stderr: string; lines: string[] }

/** Runs `raftka <args>` to completion, feeding `stdin` if given. */
export function raftka(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((l) => l !== '') }));
    child.stdin.end(stdin ?? '');
  });
}

/** One line on stderr, a non-zero exit, and no stack trace. */
export function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `exit code: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

