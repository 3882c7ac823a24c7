// Runs every compiled test file (dist/**/*.test.js) with Node's built-in test runner.
// Usage: node test/run.mjs [substring filters...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['dist/test', 'dist/protocol', 'dist/src', 'dist/compat'];
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) { if (name !== 'bench') walk(path); }
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => path.includes(f)))) files.push(path);
  }
};
roots.forEach(walk);
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
// --test-force-exit: a file whose tests all finished is ended even if a client library left
// timers behind (kafkajs consumers in test/groups/kafkajs-groups.test.ts do; see issue 8's notes).
const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-force-exit', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
