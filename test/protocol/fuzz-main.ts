/**
 * Long fuzz run (not a test): `npm run fuzz [-- <cases> <seed>]`. Default 2,000,000 cases from a
 * seed derived from the time; the seed is printed so a failure can be replayed.
 */
import { buildSeeds, fuzz } from './fuzz-support.js';

const cases = Number(process.argv[2] ?? 2_000_000);
const seed = Number(process.argv[3] ?? (Date.now() % 2 ** 31));
const seeds = await buildSeeds();
const started = performance.now();
const chunk = 100_000;
let done = 0;
let errors = 0;
let ratio = 0;
while (done < cases) {
  const n = Math.min(chunk, cases - done);
  const res = fuzz(seeds, n, seed + done);
  done += n;
  errors += res.decodeErrors;
  ratio = Math.max(ratio, res.maxBudgetRatio);
  process.stdout.write(`\r${done} cases, ${errors} decode errors, seed ${seed}`);
}
const secs = (performance.now() - started) / 1000;
process.stdout.write(`\nok: ${done} cases in ${secs.toFixed(1)} s (${Math.round(done / secs)}/s), ${seeds.length} seed inputs, ` +
  `max decoded units per input byte ${ratio.toFixed(3)}\n`);
