// `npm run bench`: runs every compiled benchmark (dist/test/bench/*.bench.js) one after another
// (never in parallel: they would measure each other) and lets each print its own tables.
// Usage: node test/bench/run.mjs [name filters...]    e.g. node test/bench/run.mjs cluster produce
// RAFTKA_BENCH_DIST=dist-bench runs another build directory. Every *.bench.js honours its own
// env knobs (see the header comment of each .bench.ts).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = join(process.env.RAFTKA_BENCH_DIST ?? 'dist', 'test', 'bench');
const filters = process.argv.slice(2);
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort();
} catch {
  console.error(`no compiled benchmarks in ${dir} (run npm run build first)`);
  process.exit(1);
}
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) { console.error(`no benchmark matches ${filters.join(' ')}`); process.exit(1); }

const failed = [];
for (const [i, file] of files.entries()) {
  console.log(`\n# ${file} (${i + 1}/${files.length})\n`);
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [join(dir, file)], { stdio: 'inherit' });
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (res.status !== 0) { failed.push(file); console.error(`${file}: FAILED (exit ${res.status ?? res.signal}) after ${secs} s`); }
  else console.error(`${file}: done in ${secs} s`);
}
if (failed.length > 0) { console.error(`failed: ${failed.join(', ')}`); process.exit(1); }
