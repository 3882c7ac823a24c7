import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript, runScriptFile } from './script.js';

// Every test/raft/testdata/*.txt script, run against the real core (see script.ts for the format).
// RAFTKA_SCRIPT_REWRITE=1 rewrites the expected output in place (review the diff!).
const dir = fileURLToPath(new URL('../../../test/raft/testdata/', import.meta.url));

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`raft script ${file}`, () => {
    const mismatches = runScriptFile(join(dir, file));
    const report = mismatches.map((m) => `${file}:${m.line} > ${m.command}\n  expected:\n    ${m.expected.join('\n    ')}\n  actual:\n    ${m.actual.join('\n    ')}`);
    assert.deepEqual(report, []);
  });
}

test('the script runner reports a wrong expectation, an unknown command and an invariant break as mismatches', () => {
  const r = runScript('> cluster voters=3\n\n> campaign 1\nn1 leader t9 lead=1\n\n> frobnicate\n');
  assert.deepEqual(r.mismatches.map((m) => [m.line, m.actual]), [
    [3, ['n1 precandidate t0 lead=-']],
    [6, ['error: unknown command frobnicate']],
  ]);
  assert.match(r.rewritten, /> campaign 1\nn1 precandidate t0 lead=-\n/);
});
