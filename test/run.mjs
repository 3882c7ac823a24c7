// Runs every compiled test file (dist/**/*.test.js) with Node's built-in test runner.
// Usage: node test/run.mjs [substring filters...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

const roots = ['dist/test', 'dist/protocol', 'dist/src', 'dist/compat'];
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => path.includes(f)))) files.push(path);
  }
};
roots.forEach(walk);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
// --test-force-exit: a file whose tests all finished is ended even if a client library left
// timers behind (kafkajs consumers in test/groups/kafkajs-groups.test.ts do; see issue 8's notes).
// --test-timeout: a single test that hangs fails after 5 minutes instead of holding the run.
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-force-exit', '--test-timeout=300000', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
// Watchdog: no test file runs silent for long (the longest takes about a minute). Once, in a CI
// run, Node 20's runner itself spun at 100% CPU with no test process left and never finished;
// after STALL_MS without output the run is ended and fails, saying so, instead of reaching CI's
// 90-minute limit.
const STALL_MS = 10 * 60 * 1000;
let lastOutput = Date.now();
let lastLine = '';
const relay = (stream, out) => stream.on('data', (chunk) => {
  lastOutput = Date.now();
  const text = chunk.toString();
  const lines = text.trimEnd().split('\n');
  lastLine = lines[lines.length - 1] ?? lastLine;
  out.write(chunk);
});
relay(child.stdout, process.stdout);
relay(child.stderr, process.stderr);
const watchdog = setInterval(() => {
  if (Date.now() - lastOutput < STALL_MS) return;
  process.stderr.write(`\ntest/run.mjs: no output for ${STALL_MS / 60000} minutes (last line: ${lastLine.trim()}); ending the run as failed\n`);
  child.kill('SIGKILL');
}, 10_000);
child.on('exit', (code) => {
  clearInterval(watchdog);
  process.exit(code ?? 1);
});
