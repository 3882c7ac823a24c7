/** 100,000 seeded mutations of valid encodings of every message and version (more: `npm run fuzz`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../protocol/primitives.js';
import { buildSeeds, fuzz } from './fuzz-support.js';

const seeds = await buildSeeds();

test('mutated frames raise only DecodeError and never allocate beyond their size (100k cases)', () => {
  const cases = Number(process.env['FUZZ_CASES'] ?? 100_000);
  const res = fuzz(seeds, cases, Number(process.env['FUZZ_SEED'] ?? 20240601));
  assert.equal(res.cases, cases);
  assert.ok(res.decodeErrors > cases / 10, `only ${res.decodeErrors} decode errors: mutations too gentle`);
  assert.ok(res.accepted > 0);
});

test('the unmutated seeds all decode completely', () => {
  assert.ok(seeds.length > 1500, `${seeds.length} seeds`);
  for (const s of seeds) {
    const r = new Reader(s.bytes);
    s.decode(r);
    assert.equal(r.remaining(), 0, s.name);
  }
});
